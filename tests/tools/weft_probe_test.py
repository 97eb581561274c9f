#!/usr/bin/env python3
"""Tests of weft-probe, run by ctest.

    weft_probe_test.py --probe PATH basic
    weft_probe_test.py --probe PATH zoo --zoo-dir DIR

"basic" checks the JSON document (docs/probe-json.md), the options and the
exit status against whatever this machine has; the reference CPU backend is
always there. "zoo" points WEFT_PLUGIN_PATH at the zoo of broken plugins
(tests/zoo) and checks that every member is reported at the stage, with the
outcome and the reason it was built to produce. Exit status 77 means skipped.

Only the Python standard library is used.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77

ORIGINS = {"api", "WEFT_PLUGIN_PATH", "beside-library", "install"}
KINDS = {"missing", "directory", "file", "other"}
OUTCOMES = {"active", "passed-over", "unavailable", "skipped"}
STAGES = {"discover", "filter", "open", "symbol", "negotiate", "probe",
          "select", "instance", "ready"}
DEVICE_TYPES = {"cpu", "gpu", "igpu", "accelerator", "virtual"}


class Failures:
    def __init__(self):
        self.messages = []
        self.checks = 0

    def check(self, condition, message):
        self.checks += 1
        if not condition:
            self.messages.append(message)
            print("FAIL: " + message)
        return condition


def clean_env(**extra):
    """The caller's environment without anything that steers libweft."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WEFT_") and k != "NO_COLOR"}
    env.update(extra)
    return env


def run_probe(probe, args, env=None):
    result = subprocess.run([probe] + list(args), env=env or clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=120)
    return result


def run_json(f, probe, args, env=None, expect_rc=0):
    result = run_probe(probe, ["--json"] + list(args), env)
    stderr = result.stderr.decode("utf-8", "replace")
    f.check(result.returncode == expect_rc,
            "weft-probe --json %s: exit %d, expected %d; stderr:\n%s"
            % (" ".join(args), result.returncode, expect_rc, stderr))
    try:
        # Strict: the document must be UTF-8 and valid JSON.
        return json.loads(result.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        f.check(False, "weft-probe --json %s: not valid JSON (%s):\n%s"
                % (" ".join(args), error, result.stdout[:2000]))
        return None


def check_schema(f, doc):
    """Shape and types of every documented field."""
    f.check(doc.get("schema") == "weft-probe", "schema is 'weft-probe'")
    f.check(doc.get("schema_version") == 1, "schema_version is 1")
    f.check(isinstance(doc.get("weft_version"), str) and doc["weft_version"],
            "weft_version is a non-empty string")
    f.check(doc.get("abi_version") == "1.3", "abi_version is '1.3'")
    f.check(isinstance(doc.get("usable"), bool), "usable is a bool")
    env = doc.get("environment")
    f.check(isinstance(env, dict) and isinstance(env.get("ignored"), bool),
            "environment.ignored is a bool")
    for entry in doc.get("search_path", []):
        f.check(entry.get("origin") in ORIGINS,
                "search_path origin %r" % entry.get("origin"))
        f.check(entry.get("kind") in KINDS,
                "search_path kind %r" % entry.get("kind"))
        f.check(isinstance(entry.get("path"), str), "search_path path")
    path_count = len(doc.get("search_path", []))
    for record in doc.get("plugins", []):
        where = record.get("path")
        f.check(record.get("outcome") in OUTCOMES,
                "%s: outcome %r" % (where, record.get("outcome")))
        f.check(record.get("stage") in STAGES,
                "%s: stage %r" % (where, record.get("stage")))
        f.check(isinstance(record.get("status"), str), "%s: status" % where)
        index = record.get("search_path_index")
        f.check(index is None or 0 <= index < path_count,
                "%s: search_path_index %r in range" % (where, index))
        if record.get("outcome") == "active":
            f.check(record.get("stage") == "ready",
                    "%s: active plugins are at stage ready" % where)
            f.check(record.get("reason") is None,
                    "%s: active plugins have no reason" % where)
        else:
            f.check(isinstance(record.get("reason"), str) and record["reason"],
                    "%s: %s plugin has a reason" % (where, record.get("outcome")))
        for key in ("variant_score", "device_count"):
            f.check(isinstance(record.get(key), int), "%s: %s" % (where, key))
    ids = [d.get("id") for d in doc.get("devices", [])]
    f.check(len(ids) == len(set(ids)), "device ids are unique: %r" % ids)
    scores = [d.get("score") for d in doc.get("devices", [])]
    f.check(scores == sorted(scores, reverse=True),
            "devices are listed highest score first: %r" % scores)
    for device in doc.get("devices", []):
        where = device.get("id")
        f.check(device.get("type") in DEVICE_TYPES,
                "%s: type %r" % (where, device.get("type")))
        memory = device.get("memory", {})
        f.check(isinstance(memory.get("total"), int), "%s: memory.total" % where)
        f.check(memory.get("free") is None or isinstance(memory["free"], int),
                "%s: memory.free" % where)
        f.check(isinstance(memory.get("unified"), bool),
                "%s: memory.unified" % where)
        f.check(all(isinstance(n, str) for n in device.get("dtypes", [None])),
                "%s: dtypes are names" % where)
        f.check(all(isinstance(n, str) for n in device.get("features", [])),
                "%s: features are names" % where)
        f.check(device.get("preferred_id") in ids,
                "%s: preferred_id %r is a device" % (where,
                                                     device.get("preferred_id")))
        for other in device.get("same_physical_device", []):
            f.check(other in ids and other != where,
                    "%s: same_physical_device %r" % (where, other))
    default = doc.get("default_device")
    if default is not None:
        f.check(default.get("id") in ids, "default device is a listed device")
        f.check(default.get("reason") in ("WEFT_DEVICE", "highest-score"),
                "default reason %r" % default.get("reason"))
        f.check(isinstance(default.get("detail"), str), "default detail")
        index = default.get("index")
        f.check(isinstance(index, int) and 0 <= index < len(ids)
                and ids[index] == default.get("id"),
                "default index %r points at its id" % index)


def device_by_id(doc, device_id):
    for device in doc.get("devices", []):
        if device.get("id") == device_id:
            return device
    return None


def test_basic(f, probe):
    doc = run_json(f, probe, [])
    if doc is None:
        return
    check_schema(f, doc)
    cpu = device_by_id(doc, "cpu-ref:0")
    if f.check(cpu is not None, "reference CPU device cpu-ref:0 is present"):
        f.check(cpu["type"] == "cpu", "cpu-ref:0 is a cpu")
        f.check("f32" in cpu["dtypes"], "cpu-ref:0 computes f32: %r"
                % cpu["dtypes"])
        f.check(cpu["plugin"] == "cpu-ref", "cpu-ref:0 comes from cpu-ref")
    f.check(doc.get("default_device") is not None, "a default device exists")
    f.check(doc.get("usable") is True, "usable is true")
    builtin = [r for r in doc.get("plugins", []) if r.get("built_in")]
    f.check(len(builtin) == 1 and builtin[0]["name"] == "cpu-ref"
            and builtin[0]["outcome"] == "active",
            "one built-in record, cpu-ref, active: %r" % builtin)
    origins = [e["origin"] for e in doc.get("search_path", [])]
    f.check("beside-library" in origins and "install" in origins,
            "default paths are searched: %r" % origins)

    # --no-default-paths drops search steps 3 and 4.
    doc = run_json(f, probe, ["--no-default-paths"])
    if doc is not None:
        origins = [e["origin"] for e in doc.get("search_path", [])]
        f.check(not {"beside-library", "install"} & set(origins),
                "--no-default-paths: no default entries: %r" % origins)
        f.check(device_by_id(doc, "cpu-ref:0") is not None,
                "--no-default-paths: cpu-ref:0 still present")

    # --plugin-path entries come first, in order, with origin api; the
    # environment's come next. Names with quotes, backslashes, control
    # characters and bytes that are not UTF-8 must still give valid JSON.
    with tempfile.TemporaryDirectory() as tmp:
        odd = os.path.join(tmp, 'odd "dir" \\ tab\there\nnewline')
        os.mkdir(odd)
        missing = os.path.join(tmp, "missing")
        env_dir = os.path.join(tmp, "from-env")
        os.mkdir(env_dir)
        latin1 = os.fsencode(tmp) + b"/caf\xe9"
        env = clean_env(WEFT_PLUGIN_PATH=env_dir + ":" + missing)
        doc = run_json(f, probe, ["--plugin-path", odd,
                                  "--plugin-path=" + missing], env)
        if doc is not None:
            check_schema(f, doc)
            entries = doc.get("search_path", [])
            got = [(e["path"], e["origin"], e["kind"]) for e in entries[:4]]
            want = [(odd, "api", "directory"), (missing, "api", "missing"),
                    (env_dir, "WEFT_PLUGIN_PATH", "directory"),
                    (missing, "WEFT_PLUGIN_PATH", "missing")]
            f.check(got == want, "search path order and origins:\n  got  %r\n"
                    "  want %r" % (got, want))
            f.check(doc["environment"].get("WEFT_PLUGIN_PATH")
                    == env_dir + ":" + missing,
                    "environment.WEFT_PLUGIN_PATH is reported")
        result = subprocess.run([probe, "--json", "--plugin-path", latin1],
                                env=clean_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=120)
        try:
            doc = json.loads(result.stdout.decode("utf-8"))
            f.check(doc["search_path"][0]["path"] == tmp + "/caf\ufffd",
                    "a byte that is not UTF-8 becomes U+FFFD: %r"
                    % doc["search_path"][0]["path"])
        except (UnicodeDecodeError, ValueError, KeyError, IndexError) as error:
            f.check(False, "non-UTF-8 path: output is not valid JSON (%s)"
                    % error)

    # WEFT_DEVICE picks the default, and a name that matches nothing falls
    # back to the highest score without failing.
    doc = run_json(f, probe, [], clean_env(WEFT_DEVICE="cpu-ref:0"))
    if doc is not None and doc.get("default_device"):
        f.check(doc["default_device"]["id"] == "cpu-ref:0"
                and doc["default_device"]["reason"] == "WEFT_DEVICE",
                "WEFT_DEVICE=cpu-ref:0 is the reason: %r"
                % doc["default_device"])
    doc = run_json(f, probe, [], clean_env(WEFT_DEVICE="no-such-device:7"))
    if doc is not None:
        default = doc.get("default_device")
        f.check(default is not None and default["reason"] == "highest-score"
                and "no-such-device:7" in default["detail"],
                "unknown WEFT_DEVICE falls back: %r" % default)

    # Human output: aligned tables, no colour when stdout is not a terminal.
    result = run_probe(probe, [])
    text = result.stdout.decode("utf-8", "replace")
    f.check(result.returncode == 0, "human output: exit 0, got %d"
            % result.returncode)
    for needle in ("Search path", "Plugins", "Devices", "Default device",
                   "cpu-ref:0", "Outcomes:"):
        f.check(needle in text, "human output mentions %r" % needle)
    f.check("\033[" not in text, "no colour codes when stdout is a pipe")

    # -vv logs to stderr, never to stdout: the JSON stays clean.
    doc = run_json(f, probe, ["-vv"])
    f.check(doc is not None, "-vv --json still prints valid JSON")

    # Options and exit statuses.
    result = run_probe(probe, ["--help"])
    f.check(result.returncode == 0 and b"usage: weft-probe" in result.stdout,
            "--help prints usage and exits 0")
    result = run_probe(probe, ["--version"])
    f.check(result.returncode == 0 and result.stdout.startswith(b"weft-probe "),
            "--version exits 0")
    for bad in (["--bogus"], ["--plugin-path"], ["--plugin-path="], ["-x"],
                ["-vq"]):
        result = run_probe(probe, bad)
        f.check(result.returncode == 2 and result.stdout == b"",
                "%r is a usage error (exit 2), got %d" % (bad,
                                                          result.returncode))
    return 0


# What each zoo member is built to do: basename -> (outcome, stage, list of
# alternatives of which one must appear in the reason, case-insensitive).
ZOO = {
    "libweft-zoo-notelf.so":
        ("skipped", "open", ["invalid ELF header", "file too short"]),
    # glibc reports a foreign machine as "cannot open shared object file"
    # (it treats it as not found); a foreign class as "wrong ELF class".
    "libweft-zoo-aarch64.so":
        ("skipped", "open", ["wrong ELF class", "cannot open",
                             "ELF machine"]),
    "libweft-zoo-nosymbol.so":
        ("skipped", "symbol", ["weft_plugin_negotiate"]),
    "libweft-zoo-missingdep.so":
        ("skipped", "open", ["libweft-zoo-dep.so"]),
    "libweft-zoo-refuse.so":
        ("skipped", "negotiate", ["zoo keeper's licence"]),
    "libweft-zoo-future.so":
        ("skipped", "negotiate", ["ABI 2.0", "major 2"]),
    "libweft-zoo-oldminor.so":
        ("active", "ready", None),
    "libweft-zoo-probefail.so":
        ("skipped", "probe", ["/sys/zoo/probe"]),
    "libweft-zoo-unavailable.so":
        ("unavailable", "probe", ["flux capacitor"]),
    "libweft-zoo-dangling.so":
        ("skipped", "discover", ["dangling"]),
}

# Built only where a cross compiler is installed.
ZOO_OPTIONAL = {"libweft-zoo-aarch64.so"}


def by_basename(doc):
    records = {}
    for record in doc.get("plugins", []):
        records.setdefault(os.path.basename(record.get("path", "")),
                           []).append(record)
    return records


def test_zoo(f, probe, zoo_dir):
    if not os.path.isdir(zoo_dir):
        print("SKIP: zoo directory %s is not built" % zoo_dir)
        return SKIP
    env = clean_env(WEFT_PLUGIN_PATH=zoo_dir)
    doc = run_json(f, probe, [], env, expect_rc=0)
    if doc is None:
        return 1
    check_schema(f, doc)
    records = by_basename(doc)
    zoo_entries = [e for e in doc.get("search_path", [])
                   if e["origin"] == "WEFT_PLUGIN_PATH"]
    f.check(len(zoo_entries) == 1 and zoo_entries[0]["kind"] == "directory",
            "the zoo is one WEFT_PLUGIN_PATH directory: %r" % zoo_entries)

    for name, (outcome, stage, reasons) in sorted(ZOO.items()):
        if name in ZOO_OPTIONAL and not os.path.lexists(
                os.path.join(zoo_dir, name)):
            print("note: %s is not built here; not checked" % name)
            continue
        found = records.get(name)
        if not f.check(found, "%s has a record" % name):
            continue
        record = found[0]
        f.check(record["outcome"] == outcome and record["stage"] == stage,
                "%s: expected %s at %s, got %s at %s (%s)"
                % (name, outcome, stage, record["outcome"], record["stage"],
                   record.get("reason")))
        if reasons:
            reason = (record.get("reason") or "").lower()
            f.check(any(r.lower() in reason for r in reasons),
                    "%s: reason %r mentions one of %r"
                    % (name, record.get("reason"), reasons))

    old = (records.get("libweft-zoo-oldminor.so") or [{}])[0]
    f.check(old.get("abi_version") == "1.0",
            "libweft-zoo-oldminor.so negotiated ABI 1.0, got %r"
            % old.get("abi_version"))

    # The same plugin reached twice: the second sighting is skipped at
    # discover as already loaded.
    twice = records.get("libweft-zoo-twice.so", [])
    dup = [r for r in twice if r["outcome"] == "skipped"
           and r["stage"] == "discover"
           and "already" in (r.get("reason") or "").lower()]
    f.check(dup, "libweft-zoo-twice.so: one record skipped at discover as "
            "already loaded: %r" % twice)

    # The zoo-variant family: the best available variant wins.
    variants = {r.get("name"): r for r in doc.get("plugins", [])
                if r.get("family") == "zoo-variant"}
    by_role = {}
    for name, record in variants.items():
        for role in ("high", "low", "top"):
            if name and name.endswith(role):
                by_role[role] = record
    f.check(set(by_role) == {"high", "low", "top"},
            "zoo-variant family has high, low and top: %r" % sorted(variants))
    if set(by_role) == {"high", "low", "top"}:
        f.check(by_role["high"]["outcome"] == "active",
                "zoo-variant high is active: %r" % by_role["high"]["outcome"])
        f.check(by_role["low"]["outcome"] == "passed-over"
                and by_role["low"]["passed_over_for"]
                == by_role["high"]["name"],
                "zoo-variant low is passed over for high: %r"
                % by_role["low"])
        f.check(by_role["top"]["outcome"] == "unavailable",
                "zoo-variant top is unavailable: %r"
                % by_role["top"]["outcome"])

    # Two plugins reaching one physical device (equal UUIDs): both listed,
    # one physical index, the higher score preferred and the default.
    twin_a = device_by_id(doc, "zoo-twin-a:0")
    twin_b = device_by_id(doc, "zoo-twin-b:0")
    if f.check(twin_a and twin_b, "both zoo twin devices are listed"):
        f.check(twin_a["physical_index"] == twin_b["physical_index"],
                "zoo twins share a physical index")
        f.check(twin_a["preferred"] and not twin_b["preferred"],
                "zoo-twin-a:0 (score 600) is preferred over zoo-twin-b:0")
        f.check(twin_b["preferred_id"] == "zoo-twin-a:0"
                and twin_b["same_physical_device"] == ["zoo-twin-a:0"]
                and twin_a["same_physical_device"] == ["zoo-twin-b:0"],
                "zoo twins point at each other: %r / %r"
                % (twin_a["same_physical_device"],
                   twin_b["same_physical_device"]))
        f.check(twin_a["uuid"] == twin_b["uuid"] and twin_a["uuid"],
                "zoo twins report the same uuid")
        default = doc.get("default_device") or {}
        f.check(default.get("id") == "zoo-twin-a:0"
                and default.get("reason") == "highest-score",
                "the default is the highest-scored device: %r" % default)

    # WEFT_PLUGINS_DISABLE stops a file at the filter stage.
    doc = run_json(f, probe, [], clean_env(WEFT_PLUGIN_PATH=zoo_dir,
                                           WEFT_PLUGINS_DISABLE="*twin-b*"))
    if doc is not None:
        record = (by_basename(doc).get("libweft-zoo-twin-b.so") or [{}])[0]
        f.check(record.get("outcome") == "skipped"
                and record.get("stage") == "filter"
                and "WEFT_PLUGINS_DISABLE" in (record.get("reason") or ""),
                "WEFT_PLUGINS_DISABLE: twin-b skipped at filter: %r" % record)
        f.check(device_by_id(doc, "zoo-twin-b:0") is None,
                "WEFT_PLUGINS_DISABLE: zoo-twin-b:0 is not in the registry")

    # Human output shows the same, with a reason under every failure.
    result = run_probe(probe, [], env)
    text = result.stdout.decode("utf-8", "replace")
    f.check(result.returncode == 0, "zoo human output: exit 0")
    for needle in ("skipped at negotiate", "skipped at open",
                   "skipped at symbol", "skipped at discover",
                   "unavailable here:", "passed over for "):
        f.check(needle in text, "zoo human output mentions %r" % needle)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", required=True)
    parser.add_argument("--zoo-dir")
    parser.add_argument("mode", choices=["basic", "zoo"])
    args = parser.parse_args()
    f = Failures()
    if args.mode == "basic":
        rc = test_basic(f, args.probe)
    else:
        if not args.zoo_dir:
            parser.error("zoo needs --zoo-dir")
        rc = test_zoo(f, args.probe, args.zoo_dir)
    if rc == SKIP:
        return SKIP
    print("%d checks, %d failed" % (f.checks, len(f.messages)))
    return 1 if f.messages or rc else 0


if __name__ == "__main__":
    sys.exit(main())
