#!/usr/bin/env python3
"""Load a norm4j checkpoint into PyTorch's d2l LeNet-BN and print its Fashion-MNIST test accuracy.

Usage:
    /usr/bin/python3 tools/load_checkpoint.py CHECKPOINT.safetensors [--data DIR] [--batch N]

Builds the d2l LeNet with batch normalization as torch.nn.Sequential, loads the checkpoint with
load_state_dict(strict=True) (so every key, shape and dtype must match PyTorch's own state_dict),
switches to eval() and classifies the 10,000 test images. Output, one line:

    pytorch test_acc=0.xxxx

DIR holds the gzip IDX files t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz
(default: $NORM4J_DATA, else /usr/share/datasets/fashion-mnist from Debian's
dataset-fashion-mnist). Images are scaled to [0, 1] as float32, as norm4j's loader does.

The safetensors file is read with the `safetensors` package when it is installed, else by hand
(numpy + json; Debian ships no safetensors package). A randomly initialised model scores about
0.1; to try the script without a trained checkpoint:

    /usr/bin/python3 tools/make_safetensors_fixture.py --lenet-random /tmp/lenet.safetensors
    /usr/bin/python3 tools/load_checkpoint.py /tmp/lenet.safetensors
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

from d2l import lenet_bn, fashion_mnist

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "F16": "<f2",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
MAX_HEADER = 100_000_000


def read_safetensors(path):
    """name -> torch tensor; I64 0-dim entries become torch.long scalars (num_batches_tracked)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        sys.exit("%s: %d bytes, too short for a safetensors file" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n < 2 or n > min(len(blob) - 8, MAX_HEADER):
        sys.exit("%s: header length %d does not fit a file of %d bytes" % (path, n, len(blob)))
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        sys.exit("%s: the header is not valid UTF-8 JSON: %s" % (path, e))
    header.pop("__metadata__", None)
    data = memoryview(blob)[8 + n:]
    state, spans = {}, []
    for name, info in header.items():
        if info.get("dtype") not in DTYPES:
            sys.exit("%s: tensor %r: unsupported dtype %r" % (path, name, info.get("dtype")))
        dtype = np.dtype(DTYPES[info["dtype"]])
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(data) \
                or end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            sys.exit("%s: tensor %r: data_offsets %r do not hold %s %r within %d data bytes"
                     % (path, name, info["data_offsets"], info["dtype"], shape, len(data)))
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
        state[name] = torch.from_numpy(arr)      # a 0-dim int64 array gives a 0-dim torch.long
        spans.append((begin, end, name))
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            sys.exit("%s: tensor %r at data byte %d: tensors overlap or leave a hole at %d" % (path, name, begin, pos))
        pos = end
    if pos != len(data):
        sys.exit("%s: %d data bytes after the last tensor" % (path, len(data) - pos))
    return state


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a safetensors file with PyTorch state-dict keys")
    ap.add_argument("--data", default=os.environ.get("NORM4J_DATA", "/usr/share/datasets/fashion-mnist"),
                    help="directory of the Fashion-MNIST gzip IDX files")
    ap.add_argument("--batch", type=int, default=1000, help="evaluation batch size")
    args = ap.parse_args()

    net = lenet_bn()
    state = read_safetensors(args.checkpoint)
    net.load_state_dict(state, strict=True)
    net.eval()
    x, y = fashion_mnist(args.data, train=False)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), args.batch):
            correct += (net(x[i:i + args.batch]).argmax(dim=1) == y[i:i + args.batch]).sum().item()
    print("pytorch test_acc=%.4f" % (correct / len(y)))


if __name__ == "__main__":
    main()
