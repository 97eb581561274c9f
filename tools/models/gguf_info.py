#!/usr/bin/env python3
"""Print the metadata and tensor table of a GGUF file (Python 3 standard library only).

Usage:
    gguf_info.py MODEL.gguf            human-readable summary
    gguf_info.py MODEL.gguf --json     the same as JSON (large arrays summarised)
    gguf_info.py MODEL.gguf --tensors  also list every tensor (name, type, shape)

Only the header is read (key/value pairs and tensor descriptors); tensor data is
never touched, so this is fast even for large files.  Arrays longer than a few
entries (the vocabulary, merges, scores) are summarised by their length and first
entries, except that the special-token ids are resolved to their text.
"""

import json
import struct
import sys
from collections import Counter, OrderedDict

GGUF_MAGIC = b"GGUF"

# GGUF value types (gguf.h: enum gguf_type).
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, \
    T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)

_SCALAR = {
    T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h",
    T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?",
    T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d",
}

# ggml tensor types (ggml.h: enum ggml_type) with their block size and bytes per block.
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1),
    25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
}

# Arrays longer than this are summarised instead of printed in full.
ARRAY_INLINE_MAX = 16


class GGUFError(Exception):
    pass


class _Reader:
    """Sequential little-endian reader over an open binary file."""

    def __init__(self, f):
        self.f = f

    def read(self, n):
        b = self.f.read(n)
        if len(b) != n:
            raise GGUFError("unexpected end of file at offset %d (wanted %d bytes)"
                            % (self.f.tell(), n))
        return b

    def scalar(self, t):
        fmt = _SCALAR[t]
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.scalar(T_UINT64)
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, t):
        if t in _SCALAR:
            return self.scalar(t)
        if t == T_STRING:
            return self.string()
        if t == T_ARRAY:
            et = self.scalar(T_UINT32)
            n = self.scalar(T_UINT64)
            if et in _SCALAR:
                fmt = _SCALAR[et]
                size = struct.calcsize(fmt)
                return list(struct.unpack("<%d%s" % (n, fmt[1]), self.read(n * size)))
            return [self.value(et) for _ in range(n)]
        raise GGUFError("unknown GGUF value type %d at offset %d" % (t, self.f.tell()))


def read_gguf(path):
    """Return (version, kv OrderedDict, tensors list, data_offset) for a GGUF file."""
    with open(path, "rb") as f:
        r = _Reader(f)
        magic = r.read(4)
        if magic != GGUF_MAGIC:
            raise GGUFError("%s: bad magic %r (expected %r)" % (path, magic, GGUF_MAGIC))
        version = r.scalar(T_UINT32)
        if version not in (2, 3):
            raise GGUFError("%s: unsupported GGUF version %d" % (path, version))
        n_tensors = r.scalar(T_UINT64)
        n_kv = r.scalar(T_UINT64)
        kv = OrderedDict()
        for _ in range(n_kv):
            key = r.string()
            t = r.scalar(T_UINT32)
            kv[key] = r.value(t)
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.scalar(T_UINT32)
            dims = [r.scalar(T_UINT64) for _ in range(n_dims)]
            ttype = r.scalar(T_UINT32)
            offset = r.scalar(T_UINT64)
            tensors.append({"name": name, "dims": dims, "type": ttype, "offset": offset})
        align = kv.get("general.alignment", 32)
        pos = f.tell()
        data_offset = (pos + align - 1) // align * align
    return version, kv, tensors, data_offset


def type_name(t):
    return GGML_TYPES.get(t, ("type%d" % t, 1, 0))[0]


def tensor_bytes(t):
    _, blk, nbytes = GGML_TYPES.get(t["type"], ("?", 1, 0))
    n = 1
    for d in t["dims"]:
        n *= d
    return n // blk * nbytes


def summarise(path, kv, tensors, version, data_offset, list_tensors=False):
    """Build a JSON-friendly summary dict."""
    out = OrderedDict()
    out["file"] = path
    out["gguf_version"] = version
    out["data_offset"] = data_offset
    tokens = kv.get("tokenizer.ggml.tokens")
    meta = OrderedDict()
    for k, v in kv.items():
        if isinstance(v, list) and len(v) > ARRAY_INLINE_MAX:
            entry = OrderedDict([("array_length", len(v)), ("first", v[:8])])
            if k == "tokenizer.ggml.token_type":
                entry["type_counts"] = OrderedDict(sorted(Counter(v).items()))
            meta[k] = entry
        else:
            meta[k] = v
    out["metadata"] = meta
    special = OrderedDict()
    for k, v in kv.items():
        if k.startswith("tokenizer.ggml.") and k.endswith("_token_id") and tokens:
            special[k[len("tokenizer.ggml."):]] = {"id": v,
                                                   "text": tokens[v] if 0 <= v < len(tokens) else None}
    out["special_tokens"] = special
    counts = Counter(type_name(t["type"]) for t in tensors)
    out["tensor_count"] = len(tensors)
    out["tensor_types"] = OrderedDict(sorted(counts.items()))
    by_role = OrderedDict()
    for t in tensors:
        role = t["name"].split(".")
        role = ".".join(role[2:]) if role[0] == "blk" else t["name"]
        key = "%s %s" % (role, type_name(t["type"]))
        by_role[key] = by_role.get(key, 0) + 1
    out["tensor_roles"] = by_role
    out["tensor_data_bytes"] = sum(tensor_bytes(t) for t in tensors)
    if list_tensors:
        out["tensors"] = [OrderedDict([("name", t["name"]), ("type", type_name(t["type"])),
                                       ("dims", t["dims"])]) for t in tensors]
    return out


def print_text(s):
    print("file: %s (GGUF v%d, tensor data at offset %d)" % (s["file"], s["gguf_version"],
                                                            s["data_offset"]))
    print("\n[metadata]")
    for k, v in s["metadata"].items():
        if k == "tokenizer.chat_template":
            print("%s = %s" % (k, json.dumps(v)))
        else:
            print("%s = %s" % (k, json.dumps(v, ensure_ascii=False)))
    print("\n[special tokens]")
    for k, v in s["special_tokens"].items():
        print("%s = %d %s" % (k, v["id"], json.dumps(v["text"], ensure_ascii=False)))
    print("\n[tensors] %d tensors, %d bytes of data" % (s["tensor_count"], s["tensor_data_bytes"]))
    for k, v in s["tensor_types"].items():
        print("  %-8s %d" % (k, v))
    print("\n[tensor roles] (per-layer roles counted across blocks)")
    for k, v in s["tensor_roles"].items():
        print("  %-40s %d" % (k, v))
    if "tensors" in s:
        print("\n[tensor list]")
        for t in s["tensors"]:
            print("  %-40s %-6s %s" % (t["name"], t["type"], t["dims"]))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = {a for a in argv[1:] if a.startswith("--")}
    if len(args) != 1 or flags - {"--json", "--tensors"}:
        sys.stderr.write(__doc__)
        return 2
    try:
        version, kv, tensors, data_offset = read_gguf(args[0])
    except (OSError, GGUFError) as e:
        sys.stderr.write("gguf_info: %s\n" % e)
        return 1
    s = summarise(args[0], kv, tensors, version, data_offset, "--tensors" in flags)
    if "--json" in flags:
        json.dump(s, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_text(s)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
