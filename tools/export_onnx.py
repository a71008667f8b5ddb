#!/usr/bin/env python3
"""Export the d2l LeNet-BN (and a small model using the other importable operators) from PyTorch
with torch.onnx.export, as fixtures for norm4j's ONNX import tests.

Usage:
    /usr/bin/python3 tools/export_onnx.py            # (re)generate the fixtures
    /usr/bin/python3 tools/export_onnx.py --check    # regenerate into a temp dir and compare the outputs
    /usr/bin/python3 tools/export_onnx.py --checkpoint model.safetensors --onnx model.onnx
        # export a trained d2l LeNet-BN state dict (tools/d2l_lenet_pytorch.py --save, or a norm4j
        # PYTORCH checkpoint) and print PyTorch's test accuracy, to compare with `norm4j import`

Output, under norm4j-core/src/test/resources/onnx/ (read by org.norm4j.onnx.PyTorchOnnxTest):
  lenet_bn.onnx          tools/d2l.py's lenet_bn(), torch.manual_seed(0), 10 SGD steps (lr 0.5) on random
                         batches of 32 so that the BN running statistics and affine parameters are not
                         their initial values, then eval(); exported with opset 15, a dynamic batch axis
                         "N" on input and logits, training=TrainingMode.PRESERVE (keeps the four
                         BatchNormalization nodes: PyTorch's default, TrainingMode.EVAL, folds the two
                         after convolutions into them)
  lenet_bn_eval.onnx     the same model with the default training=TrainingMode.EVAL (Conv+BN folded by
                         PyTorch, BatchNormalization only after the Gemms)
  lenet_bn_io.safetensors   input [8,1,28,28] (uniform [0,1), seed 1) and PyTorch's logits [8,10]
  zoo.onnx, zoo_io.safetensors
                         a small model with Conv (stride 2, padding 1), Relu, MaxPool, AvgPool2d(3,1,1)
                         (exported as Pad + AveragePool), Tanh, reshape(-1, 64) (Constant + Reshape),
                         x @ W + b (MatMul + Add), Sigmoid, Linear without bias (MatMul), softmax(-1);
                         input [4,1,16,16], output probs [4,5]

The tensors are written with make_safetensors_fixture.encode (safetensors by hand); the metadata
says how they were made. PyTorch: Debian's python3-torch (1.13); the onnx package is not needed.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

from d2l import lenet_bn
from make_safetensors_fixture import decode, encode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "norm4j-core", "src", "test", "resources", "onnx")
REGEN = "/usr/bin/python3 tools/export_onnx.py"
OPSET = 15


def trained_lenet():
    torch.manual_seed(0)
    model = lenet_bn()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    for _ in range(10):
        x = torch.rand(32, 1, 28, 28)
        y = torch.randint(0, 10, (32,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


class Zoo(nn.Module):
    """The importable operators that LeNet-BN does not use, as PyTorch exports them."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.p = nn.MaxPool2d(2)
        self.a = nn.AvgPool2d(3, stride=1, padding=1)
        self.w = nn.Parameter(torch.randn(4 * 4 * 4, 8) * 0.3)
        self.b = nn.Parameter(torch.randn(8))
        self.l = nn.Linear(8, 5, bias=False)

    def forward(self, x):
        x = self.p(torch.relu(self.c(x)))
        x = torch.tanh(self.a(x))
        x = x.reshape(-1, 64)
        x = torch.sigmoid(x @ self.w + self.b)
        return torch.softmax(self.l(x), dim=-1)


def export(model, x, path, output, training):
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=[output],
                      dynamic_axes={"input": {0: "N"}, output: {0: "N"}}, training=training,
                      do_constant_folding=training != torch.onnx.TrainingMode.PRESERVE)


def write(path, blob):
    with open(path, "wb") as f:
        f.write(blob)


def generate(out_dir):
    torch.set_num_threads(1)
    meta = {"made_by": REGEN, "torch": torch.__version__, "opset": str(OPSET)}

    lenet = trained_lenet()
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = lenet(x)
    export(lenet, x, os.path.join(out_dir, "lenet_bn.onnx"), "logits", torch.onnx.TrainingMode.PRESERVE)
    export(lenet, x, os.path.join(out_dir, "lenet_bn_eval.onnx"), "logits", torch.onnx.TrainingMode.EVAL)
    write(os.path.join(out_dir, "lenet_bn_io.safetensors"),
          encode({"input": x.numpy(), "logits": logits.numpy()},
                 dict(meta, model="d2l lenet_bn(), seed 0, 10 SGD steps lr 0.5 on random batches of 32, eval()")))

    torch.manual_seed(2)
    zoo = Zoo().eval()
    xz = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        probs = zoo(xz)
    export(zoo, xz, os.path.join(out_dir, "zoo.onnx"), "probs", torch.onnx.TrainingMode.EVAL)
    write(os.path.join(out_dir, "zoo_io.safetensors"),
          encode({"input": xz.numpy(), "probs": probs.numpy()}, dict(meta, model="tools/export_onnx.py Zoo, seed 2")))
    return logits.numpy(), probs.numpy()


def export_checkpoint(checkpoint, onnx_path, data_dir):
    """A trained LeNet-BN state dict exported as norm4j's fixtures are; prints PyTorch's test accuracy."""
    from d2l import fashion_mnist
    torch.set_num_threads(1)
    with open(checkpoint, "rb") as f:
        tensors, _ = decode(f.read())
    model = lenet_bn()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}, strict=True)
    model.eval()
    export(model, torch.zeros(1, 1, 28, 28), onnx_path, "logits", torch.onnx.TrainingMode.PRESERVE)
    print("wrote %s" % onnx_path)
    if os.path.isdir(data_dir):
        x, y = fashion_mnist(data_dir, False)
        with torch.no_grad():
            correct = sum(int((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum()) for i in range(0, len(y), 1000))
        print("pytorch test_acc=%.4f (%d of %d)" % (correct / len(y), correct, len(y)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary directory and compare")
    ap.add_argument("--checkpoint", help="export this d2l LeNet-BN state dict (safetensors) instead of the fixtures")
    ap.add_argument("--onnx", default="model.onnx", help="where --checkpoint's export goes")
    ap.add_argument("--data", default=os.environ.get("NORM4J_DATA", "/usr/share/datasets/fashion-mnist"))
    args = ap.parse_args()
    if args.checkpoint:
        export_checkpoint(args.checkpoint, args.onnx, args.data)
        return
    if args.check:
        with tempfile.TemporaryDirectory() as d:
            generate(d)
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as a, open(os.path.join(OUT_DIR, name), "rb") as b:
                    same = a.read() == b.read()
                print("%-26s %s" % (name, "identical" if same else "DIFFERS"))
        return
    os.makedirs(OUT_DIR, exist_ok=True)
    logits, probs = generate(OUT_DIR)
    for name in sorted(os.listdir(OUT_DIR)):
        print("%-26s %7d bytes" % (name, os.path.getsize(os.path.join(OUT_DIR, name))))
    print("logits[0] =", np.array2string(logits[0], precision=4))
    print("probs[0]  =", np.array2string(probs[0], precision=4))


if __name__ == "__main__":
    sys.exit(main())
