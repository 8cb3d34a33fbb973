#!/usr/bin/env python3
"""An independent safetensors reader and writer (Python standard library only),
to cross-check heed's: heed must read what this writes, and write byte for byte
what this writes, and this must read it.

    check_safetensors.py TEST_NN            cross-check with heed's nn test binary
    check_safetensors.py --file FILE...     validate files and list their tensors

The format, from the reference library (huggingface/safetensors):
  8 bytes   N, little-endian uint64
  N bytes   JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}},
            no whitespace, padded with spaces to a multiple of 8
  the rest  raw little-endian tensor data; tensors sorted by name, packed from 0
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def serialize(tensors, metadata=None):
    """tensors: {name: (shape, [floats])} as F32. Returns the file's bytes."""
    header, data, offset = {}, b"", 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in sorted(tensors, key=lambda n: n.encode("utf-8")):
        shape, values = tensors[name]
        count = 1
        for d in shape:
            count *= d
        assert count == len(values), name
        chunk = struct.pack("<%df" % count, *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(chunk)]}
        data += chunk
        offset += len(chunk)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def parse(blob):
    """Returns ({name: (dtype, shape, raw bytes)}, metadata); raises ValueError on a bad file."""
    if len(blob) < 8:
        raise ValueError("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("header length %d beyond the file" % n)
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    metadata = header.pop("__metadata__", {}) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("__metadata__ must map strings to strings")
    data = blob[8 + n:]
    spans, tensors = [], {}
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError("%s: fields %s" % (name, sorted(info)))
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            if not isinstance(d, int) or d < 0:
                raise ValueError("%s: bad shape" % name)
            count *= d
        if end - begin != count * DTYPE_SIZES[info["dtype"]]:
            raise ValueError("%s: shape and data_offsets disagree" % name)
        spans.append((begin, end, name))
        tensors[name] = (info["dtype"], list(info["shape"]), data[begin:end])
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise ValueError("%s: data_offsets leave a gap or overlap" % name)
        position = end
    if position != len(data):
        raise ValueError("the tensors do not cover the data exactly")
    return tensors, metadata


def floats(raw):
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))


# The tensors both sides agree on (tests/nn/test_safetensors.cpp checks the same values).
EXPECTED = {
    "layers.0.weight": ([2, 3], [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]),
    "layers.0.bias": ([3], [0.125, -2.5, 3.25]),
    "scale": ([], [42.0]),
    "empty": ([0, 4], []),
}
METADATA = {"format": "pt", "note": "caf\u00e9 \"quoted\"\n\x01"}


def cross_check(test_binary):
    with tempfile.TemporaryDirectory(prefix="heed_crosscheck_") as tmp:
        ours = serialize(EXPECTED, METADATA)
        with open(os.path.join(tmp, "python.safetensors"), "wb") as f:
            f.write(ours)
        env = dict(os.environ, HEED_CROSSCHECK_DIR=tmp)
        run = subprocess.run([test_binary, "--test-case=safetensors cross-check*"], env=env)
        if run.returncode != 0:
            print("FAIL: heed could not read the file Python wrote (exit %d)" % run.returncode)
            return 1
        path = os.path.join(tmp, "heed.safetensors")
        if not os.path.exists(path):
            print("FAIL: heed wrote no %s (did the test case run?)" % path)
            return 1
        with open(path, "rb") as f:
            theirs = f.read()
        tensors, metadata = parse(theirs)
        for name, (shape, values) in EXPECTED.items():
            dtype, got_shape, raw = tensors[name]
            if dtype != "F32" or got_shape != shape or floats(raw) != values:
                print("FAIL: %s reads back as %s %s %s" % (name, dtype, got_shape, floats(raw)))
                return 1
        if metadata != METADATA or set(tensors) != set(EXPECTED):
            print("FAIL: names or metadata differ: %s %s" % (sorted(tensors), metadata))
            return 1
        if theirs != ours:
            print("FAIL: heed's file parses but is not byte for byte the reference layout")
            print("  heed:   %r" % theirs[:200])
            print("  python: %r" % ours[:200])
            return 1
    print("OK: heed reads Python's safetensors, and writes the identical bytes")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "--file":
        for path in argv[2:]:
            with open(path, "rb") as f:
                tensors, metadata = parse(f.read())
            print("%s: %d tensors, metadata %s" % (path, len(tensors), metadata))
            for name, (dtype, shape, _) in tensors.items():
                print("  %s %s %s" % (name, dtype, shape))
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    return cross_check(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
