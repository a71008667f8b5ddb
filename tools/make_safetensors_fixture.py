#!/usr/bin/env python3
"""Generate the safetensors fixtures for the org.norm4j.io tests.

Usage:
    /usr/bin/python3 tools/make_safetensors_fixture.py            # (re)generate all fixtures
    /usr/bin/python3 tools/make_safetensors_fixture.py --check    # re-read them and verify
    /usr/bin/python3 tools/make_safetensors_fixture.py --lenet-random OUT.safetensors
        # write the state_dict of a freshly initialised d2l LeNet-BN (for trying
        # tools/load_checkpoint.py without a trained checkpoint)

Output, under norm4j-core/src/test/resources/io/:
  torch_state.safetensors   state_dict() of nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(2))
                            after random affine parameters and two training steps per layer
                            (torch.manual_seed(0)); keys 0.weight, 0.bias, 0.running_mean,
                            0.running_var, 0.num_batches_tracked (I64, 0-dim), then 1.*
  torch_eval.safetensors    eval-mode inputs and outputs of that model: x0 [2,3,2,2] -> y0 = net[0](x0),
                            x1 [3,2] -> y1 = net[1](x1)
  bad-safetensors/*.safetensors   files that break the format, one way each;
  bad-safetensors/EXPECTED.txt    '<file>\t<fragment the Java error message must contain>'

The safetensors Python package is not required (Debian does not ship it): the format is
written here by hand with numpy + json, exactly as the specification says: 8-byte little-endian
header length, JSON header padded with spaces to a multiple of 8, data little-endian in C order.
PyTorch: Debian's python3-torch (1.13).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

from d2l import lenet_bn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "norm4j-core", "src", "test", "resources", "io")
BAD_DIR = os.path.join(OUT_DIR, "bad-safetensors")
REGEN = "/usr/bin/python3 tools/make_safetensors_fixture.py"

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
NP_TO_DTYPE = {np.dtype("float32"): "F32", np.dtype("float64"): "F64",
               np.dtype("int64"): "I64", np.dtype("int32"): "I32"}


# ---- the format, by hand ----------------------------------------------------------------

def encode(tensors, metadata=None):
    """Bytes of a safetensors file holding tensors (name -> numpy array), in dict order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        arr = np.array(arr, order="C", copy=True)    # not ascontiguousarray: it turns 0-dim into 1-dim
        dtype = NP_TO_DTYPE[arr.dtype]
        blob = arr.astype(DTYPES[dtype]).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    return raw_file(json.dumps(header, separators=(",", ":")).encode("utf-8"), b"".join(blobs))


def raw_file(header_bytes, data, header_len=None):
    """A file from raw header bytes (padded with spaces to 8) and data; header_len overrides the length field."""
    header_bytes = header_bytes + b" " * (-len(header_bytes) % 8)
    n = len(header_bytes) if header_len is None else header_len
    return struct.pack("<Q", n) + header_bytes + data


def decode(blob):
    """(tensors, metadata) of a safetensors file's bytes; checks what a reader must."""
    if len(blob) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n < 2 or n > min(len(blob) - 8, 100_000_000):
        raise ValueError("bad header length %d" % n)
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, covered = {}, []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        shape = info["shape"]
        np_dtype = np.dtype(DTYPES[info["dtype"]])
        if not 0 <= begin <= end <= len(data) or end - begin != int(np.prod(shape)) * np_dtype.itemsize:
            raise ValueError("tensor %r: bad data_offsets %r for %s %r" % (name, info["data_offsets"], info["dtype"], shape))
        tensors[name] = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape)
        covered.append((begin, end))
    pos = 0
    for begin, end in sorted(covered):
        if begin != pos:
            raise ValueError("tensors overlap or leave a hole at data byte %d" % pos)
        pos = end
    if pos != len(data):
        raise ValueError("data region has %d trailing bytes" % (len(data) - pos))
    return tensors, metadata


def save_state_dict(state, path, metadata):
    tensors = {k: v.detach().cpu().contiguous().numpy() for k, v in state.items()}
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


# ---- fixtures -------------------------------------------------------------------------

def bn_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(2))
    with torch.no_grad():
        for bn in net:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    net.train()
    for _ in range(2):                      # two training steps: running stats, num_batches_tracked = 2
        net[0](torch.randn(4, 3, 5, 5) * 2 + 1)
        net[1](torch.randn(6, 2) * 3 - 1)
    net.eval()
    x0 = torch.randn(2, 3, 2, 2) * 2 + 1
    x1 = torch.randn(3, 2) * 3 - 1
    with torch.no_grad():
        y0, y1 = net[0](x0), net[1](x1)
    return net, {"x0": x0.numpy(), "y0": y0.numpy(), "x1": x1.numpy(), "y1": y1.numpy()}


def valid_header(**override):
    """Header of a well-formed two-tensor file (a F32 [3] at [0,12], b I64 [] at [12,20]) with fields overridden."""
    a = {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}
    b = {"dtype": "I64", "shape": [], "data_offsets": [12, 20]}
    a.update(override)
    return json.dumps({"a": a, "b": b}, separators=(",", ":")).encode()


DATA20 = struct.pack("<3f", 1.0, 2.0, 3.0) + struct.pack("<q", 7)


def bad_corpus():
    """name -> (bytes, fragment the Java message must contain)."""
    big = 1 << 32

    def one(name_json, info):
        """A one-member header: raw name bytes (quotes included), then the info and any more members."""
        return b"{" + name_json + b":" + info.encode("utf-8") + b"}"

    cases = {
        "empty": (b"", "too short for the 8-byte header length"),
        "short-length-field": (b"\x02\x00\x00\x00\x00", "too short for the 8-byte header length"),
        "header-len-2pow63-minus-1": (struct.pack("<Q", (1 << 63) - 1) + b"{}      ", "header length 9223372036854775807"),
        "header-len-u64-max": (struct.pack("<Q", (1 << 64) - 1) + b"{}      ", "header length 18446744073709551615"),
        "header-len-zero": (struct.pack("<Q", 0) + b"{}      ", "header length 0"),
        "header-len-one": (struct.pack("<Q", 1) + b"{}      ", "header length 1"),
        "header-len-past-eof": (raw_file(b"{}", b"", header_len=9), "header length 9"),
        "header-len-over-100MB": (raw_file(b"{}", b"", header_len=100_000_001), "header length 100000001"),
        "not-json": (raw_file(b"hello!!!", b""), "the header must be a JSON object"),
        "top-level-array": (raw_file(b"[]", b""), "the header must be a JSON object"),
        "truncated-json": (raw_file(b'{"a":{"dtype":"F32"', b""), "expected ',' or '}'"),
        "trailing-garbage": (raw_file(valid_header() + b"x", DATA20), "after the header object"),
        "deep-nesting": (raw_file(b'{"a":' + b"[" * 5000, b""), "the tensor info must be a JSON object"),
        "unknown-dtype": (raw_file(valid_header(dtype="F33"), DATA20), 'unknown dtype "F33"'),
        "lowercase-dtype": (raw_file(valid_header(dtype="f32"), DATA20), 'unknown dtype "f32"'),
        "negative-dim": (raw_file(valid_header(shape=[-3]), DATA20), "must be ≥ 0"),
        "fractional-dim": (raw_file(valid_header(shape=[1.5]), DATA20), "must be a non-negative integer"),
        "dim-over-2pow63": (raw_file(valid_header(shape=[99999999999999999999]), DATA20), "more than 2^63 − 1"),
        "shape-product-overflow": (raw_file(valid_header(shape=[big, big, big]), DATA20), "more than 2^63 bytes"),
        "rank-65": (raw_file(valid_header(shape=[1] * 65), DATA20), "more than 64 entries"),
        "shape-length-mismatch": (raw_file(valid_header(shape=[2]), DATA20), "needs 8"),
        "offsets-past-end": (raw_file(valid_header(data_offsets=[0, 1000]), DATA20), "reach past the end of the data region"),
        "offsets-reversed": (raw_file(valid_header(data_offsets=[12, 0]), DATA20), "end before they begin"),
        "offsets-three-numbers": (raw_file(valid_header(data_offsets=[0, 12, 12]), DATA20), "more than 2 entries"),
        "offsets-one-number": (raw_file(valid_header(data_offsets=[12]), DATA20), "must be [begin, end]"),
        "offsets-not-number": (raw_file(valid_header().replace(b"[0,12]", b"[0,NaN]"), DATA20), "expected a number"),
        "overlap": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                        '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}'), DATA20[:12]),
                    'overlap tensor "a"'),
        "hole": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                     '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}'), DATA20[:12]),
                 "belong to no tensor"),
        "trailing-data": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), DATA20[:8]),
                          "belong to no tensor"),
        "truncated-data": (raw_file(valid_header(), DATA20[:16]), "reach past the end of the data region"),
        "duplicate-tensor": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                                 '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'), DATA20[:8]),
                             'duplicate key "a"'),
        "duplicate-field": (raw_file(one(b'"a"', '{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}'),
                                     DATA20[:4]), 'duplicate field "dtype"'),
        "missing-offsets": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[1]}'), DATA20[:4]), 'missing field "data_offsets"'),
        "extra-field": (raw_file(one(b'"a"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4],"foo":1}'), DATA20[:4]),
                        'unknown field "foo"'),
        "metadata-not-string": (raw_file(b'{"__metadata__":{"k":1}}', b""), "values are JSON strings"),
        "metadata-not-object": (raw_file(b'{"__metadata__":"x"}', b""), "__metadata__ must be a JSON object"),
        "invalid-utf8-name": (raw_file(one(b'"a\xff"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), DATA20[:4]),
                              "invalid UTF-8"),
        "unpaired-surrogate": (raw_file(one(b'"\\ud800"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), DATA20[:4]),
                               "unpaired surrogate"),
        "control-char-in-name": (raw_file(one(b'"a\x01"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), DATA20[:4]),
                                 "control character 0x01"),
        "bad-escape": (raw_file(one(b'"a\\q"', '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), DATA20[:4]),
                       "invalid escape"),
        "unterminated-string": (raw_file(b'{"abc', b""), "unterminated string"),
    }
    return cases


def write_file(path, blob):
    with open(path, "wb") as f:
        f.write(blob)


def generate():
    os.makedirs(BAD_DIR, exist_ok=True)
    net, evals = bn_model()
    meta = {"format": "pt", "generator": "tools/make_safetensors_fixture.py", "torch": torch.__version__,
            "model": "nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(2)), 2 training steps"}
    save_state_dict(net.state_dict(), os.path.join(OUT_DIR, "torch_state.safetensors"), meta)
    write_file(os.path.join(OUT_DIR, "torch_eval.safetensors"),
               encode(evals, {"generator": "tools/make_safetensors_fixture.py", "regenerate": REGEN}))
    expected = ["# Bad safetensors files replayed by SafeTensorsCorpusTest; made by " + REGEN,
                "# <file>\t<fragment the SafeTensorsFormatException message must contain>"]
    for name, (blob, fragment) in bad_corpus().items():
        write_file(os.path.join(BAD_DIR, name + ".safetensors"), blob)
        expected.append("%s.safetensors\t%s" % (name, fragment))
    with open(os.path.join(BAD_DIR, "EXPECTED.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(expected) + "\n")
    print("wrote torch_state.safetensors, torch_eval.safetensors and %d bad files under %s"
          % (len(bad_corpus()), os.path.relpath(OUT_DIR, ROOT)))


def check():
    with open(os.path.join(OUT_DIR, "torch_state.safetensors"), "rb") as f:
        tensors, meta = decode(f.read())
    net, evals = bn_model()
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    fresh = nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(2))
    fresh.load_state_dict(state, strict=True)
    for k, v in net.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    with open(os.path.join(OUT_DIR, "torch_eval.safetensors"), "rb") as f:
        stored, _ = decode(f.read())
    for k, v in evals.items():
        assert np.array_equal(stored[k], v), k
    for name, (blob, _) in bad_corpus().items():   # the Java test checks that each is refused, and how
        with open(os.path.join(BAD_DIR, name + ".safetensors"), "rb") as f:
            assert f.read() == blob, name
    print("ok: %d keys %s, metadata %s; %d bad files as generated" % (len(tensors), list(tensors), meta, len(bad_corpus())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify the fixtures instead of writing them")
    ap.add_argument("--lenet-random", metavar="OUT", help="write a randomly initialised LeNet-BN state_dict to OUT")
    args = ap.parse_args()
    if args.lenet_random:
        torch.manual_seed(0)
        save_state_dict(lenet_bn().state_dict(), args.lenet_random, {"format": "pt", "model": "d2l LeNet-BN, random init"})
        print("wrote", args.lenet_random)
    elif args.check:
        check()
    else:
        generate()


if __name__ == "__main__":
    sys.exit(main())
