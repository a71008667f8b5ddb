"""What the PyTorch-side tools share: the d2l LeNet-BN and Fashion-MNIST from its gzip IDX files.

Imported by load_checkpoint.py, d2l_lenet_pytorch.py and make_safetensors_fixture.py (Python puts
the script's directory on sys.path, so `import d2l` works from any working directory).
"""
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

DEFAULT_DATA = os.environ.get("NORM4J_DATA", "/usr/share/datasets/fashion-mnist")


def lenet_bn():
    """The d2l book's LeNet with batch normalization (2020 edition), the network of `norm4j train`."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, 10))


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        blob = f.read()
    (m,) = struct.unpack(">I", blob[:4])
    if m != magic:
        sys.exit("%s: IDX magic 0x%08x, expected 0x%08x" % (path, m, magic))
    ndim = m & 0xFF
    dims = struct.unpack(">" + "I" * ndim, blob[4:4 + 4 * ndim])
    arr = np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        sys.exit("%s: %d values for dims %r" % (path, arr.size, dims))
    return arr.reshape(dims)


def fashion_mnist(data_dir, train):
    """Images [N, 1, 28, 28] float32 in [0, 1] (x/255, as ToTensor) and labels int64."""
    prefix = "train" if train else "t10k"
    images = os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz")
    labels = os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz")
    for p in (images, labels):
        if not os.path.isfile(p):
            sys.exit("missing %s: install Debian's dataset-fashion-mnist, or pass --data DIR "
                     "(a directory with the four Fashion-MNIST gzip IDX files)" % p)
    x = read_idx(images, 0x00000803).astype(np.float32) / np.float32(255)
    y = read_idx(labels, 0x00000801).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)
