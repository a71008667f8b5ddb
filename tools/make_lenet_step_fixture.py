#!/usr/bin/env python3
"""PyTorch's d2l LeNet-BN training steps, replayed by norm4j in LeNetStepFixtureTest.

The network of `norm4j train` (d2l.lenet_bn(): Conv-BN-Sigmoid-AvgPool twice, Linear-BN-Sigmoid
twice, Linear) takes a few SGD steps at lr 1.0 in training mode with the mean cross-entropy loss,
exactly as d2l's train_ch6 (zero_grad, forward, loss, backward, step). The fixture holds what
norm4j must reproduce: each step's loss, the training-mode logits and every parameter's gradient
of the first step, the state dict after the last step (parameters and BN running statistics), and
the eval-mode logits of fresh images after it.

Two kinds of fixture, one text format (that of fixtures/README.md, read by testing.Fixture):

  default      the committed one (norm4j-core/src/test/resources/fixtures/lenet_steps.txt, ~60 KB):
               weights and images from a SplitMix64 stream that the Java test regenerates bit for
               bit, so neither the initial state nor the images are stored; batches of 16, 16 and 6
               (a last partial batch, as the d2l loader keeps); large tensors stored sampled.
  --real N     PyTorch's own initialization (torch.manual_seed(--seed), Xavier-uniform weights as
               train_ch6, default biases), optionally --pretrain-epochs E of the d2l recipe first,
               then N batches of --batch-size real Fashion-MNIST training images in a torch.randperm
               order; the initial state and the image indices are stored, every tensor in full, and
               beside each recorded tensor `f64drift.<name>`: max |float32 − float64| / max |float64|
               of the same steps replayed by PyTorch in float64, the yardstick for how far rounding
               alone carries over N steps at lr 1.0. For a local, larger comparison (needs the data
               set; not committed):
                   /usr/bin/python3 tools/make_lenet_step_fixture.py --real 20 --out /tmp/lenet_real.txt
                   NORM4J_LENET_STEP_FIXTURE=/tmp/lenet_real.txt mvn -B -q -pl norm4j-core test -Dtest=LeNetStepFixtureTest

The SplitMix64 stream (seed 20261123): z_i = mix(seed + (i+1)·0x9E3779B97F4A7C15), mix the
finalizer of Steele, Lea and Flood. A uniform u in [0, 1) is (z >>> 40)·2⁻²⁴ (exact in float and
double). Consumed in this order: for each Conv2d/Linear in state-dict order, its weight
(Xavier-uniform: float32((2u − 1)·sqrt(6/(fanIn + fanOut))), fanIn = in·k·k, fanOut = out·k·k)
then its bias (float32((2u − 1)/sqrt(fanIn)), PyTorch's default bound); then, per training image
then per eval image, one draw for the label ((z >>> 32) mod 10) and 784 draws for the pixels
(byte b = z >>> 56, b < 96 set to 0 for a Fashion-MNIST-like dark background; x = float32(b)/255).
BN layers start at PyTorch's defaults (weight 1, bias 0, running mean 0, running var 1). On these
noise images lr 1.0 makes the loss climb (2.2, 3.2, 4.8): large updates, which only makes the
comparison stricter.

Sampled tensors: a tensor of n elements is stored as its elements 0, s, 2s, … with
s = ceil(n / limit) (limit 512 for the final state, 64 for the gradients); s = 1 stores it whole.

Regenerate:  /usr/bin/python3 tools/make_lenet_step_fixture.py      (Debian's python3-torch, 1.13)
"""
import argparse
import copy
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from d2l import DEFAULT_DATA, fashion_mnist, lenet_bn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "norm4j-core", "src", "test", "resources", "fixtures", "lenet_steps.txt")
REGEN = "/usr/bin/python3 tools/make_lenet_step_fixture.py"
M64 = (1 << 64) - 1
SPLITMIX_SEED = 20261123
BATCHES = (16, 16, 6)
EVAL_IMAGES = 8
FINAL_LIMIT, GRAD_LIMIT = 512, 64


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 40) * 2.0 ** -24


def fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def splitmix_init(net, rng):
    """Xavier-uniform weights and PyTorch-bounded biases from the stream (see the header)."""
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in, fan_out = fans(tuple(m.weight.shape))
                a = math.sqrt(6.0 / (fan_in + fan_out))
                w = np.array([(2 * rng.uniform() - 1) * a for _ in range(m.weight.numel())], dtype=np.float32)
                m.weight.copy_(torch.from_numpy(w.reshape(tuple(m.weight.shape))))
                bound = 1 / math.sqrt(fan_in)
                b = np.array([(2 * rng.uniform() - 1) * bound for _ in range(m.bias.numel())], dtype=np.float32)
                m.bias.copy_(torch.from_numpy(b))


def splitmix_images(rng, n):
    xs, ys = np.empty((n, 1, 28, 28), dtype=np.float32), np.empty(n, dtype=np.int64)
    for i in range(n):
        ys[i] = (rng.next() >> 32) % 10
        b = np.array([rng.next() >> 56 for _ in range(784)], dtype=np.float32)
        b[b < 96] = 0
        xs[i, 0] = (b / np.float32(255)).reshape(28, 28)
    return torch.from_numpy(xs), torch.from_numpy(ys)


def sample(t, limit):
    flat = t.detach().reshape(-1).double().numpy()  # float32 values exactly
    s = 1 if limit is None else max(1, math.ceil(flat.size / limit))
    return flat[::s]


def line(name, shape, values):
    vals = " ".join("%.9g" % float(np.float32(v)) for v in values)
    return "%s %s %s" % (name, ",".join(str(d) for d in shape) if len(shape) else "1", vals)


def replay(net, data, xev, lr, dtype):
    """The steps on a copy of net in dtype: name -> (shape, values) of every recorded tensor."""
    net = copy.deepcopy(net).to(dtype)
    init = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rec = {}
    net.train()
    for step, (xb, yb) in enumerate(data):
        opt.zero_grad()
        logits = net(xb.to(dtype))
        loss = loss_fn(logits, yb)
        loss.backward()
        if step == 0:
            rec["logits.0"] = (tuple(logits.shape), logits.detach())
            for k, p in net.named_parameters():
                rec["grad0." + k] = (tuple(p.shape), p.grad.clone())
        rec["loss.%d" % step] = ((), loss.detach())
        opt.step()
    for k, v in net.state_dict().items():
        if v.dtype.is_floating_point:
            rec["final." + k] = (tuple(v.shape), v.clone())
            d = (v.double() - init[k].double()).reshape(-1)
            rec["dsq." + k] = ((), (d * d).sum())
    net.eval()
    with torch.no_grad():
        rec["eval.logits"] = ((len(xev), 10), net(xev.to(dtype)))
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None)
    ap.add_argument("--real", type=int, default=0, metavar="N", help="N steps on real Fashion-MNIST with PyTorch's own init (local check)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--pretrain-epochs", type=int, default=0, metavar="E",
                    help="with --real: first train E epochs of the d2l recipe in PyTorch, so the steps are those of a trained network")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=DEFAULT_DATA)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    net = lenet_bn()
    lr = 1.0
    header = ["# d2l LeNet-BN: SGD steps at lr %g in training mode, mean cross-entropy; made by tools/make_lenet_step_fixture.py" % lr,
              "# PyTorch %s; see the script's header for the format and the SplitMix64 stream" % torch.__version__]
    out = []
    if a.real:
        for m in net:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
        xtr, ytr = fashion_mnist(a.data, True)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        net.train()
        for _ in range(a.pretrain_epochs):
            perm = torch.randperm(len(ytr))
            for i in range(0, len(ytr), a.batch_size):
                opt.zero_grad()
                nn.functional.cross_entropy(net(xtr[perm[i:i + a.batch_size]]), ytr[perm[i:i + a.batch_size]]).backward()
                opt.step()
        perm = torch.randperm(len(ytr))
        batches = [(perm[i * a.batch_size:(i + 1) * a.batch_size]) for i in range(a.real)]
        data = [(xtr[idx], ytr[idx]) for idx in batches]
        xev = fashion_mnist(a.data, False)[0][:EVAL_IMAGES]
        config = "config init=state data=fashion-mnist steps=%d lr=%g final_limit=none grad_limit=none eval_images=%d seed=%d" % (
            a.real, lr, EVAL_IMAGES, a.seed)
        final_limit = grad_limit = None
        header.append("# local check: %s --real %d --batch-size %d --seed %d --pretrain-epochs %d" % (
            REGEN, a.real, a.batch_size, a.seed, a.pretrain_epochs))
        for k, v in net.state_dict().items():
            out.append(line("init." + k, tuple(v.shape), v.reshape(-1).numpy()))
        for i, idx in enumerate(batches):
            out.append(line("idx.%d" % i, (len(idx),), idx.numpy()))
        out.append(line("eval.idx", (EVAL_IMAGES,), np.arange(EVAL_IMAGES)))
    else:
        rng = SplitMix64(SPLITMIX_SEED)
        splitmix_init(net, rng)
        x, y = splitmix_images(rng, sum(BATCHES))
        xev, _ = splitmix_images(rng, EVAL_IMAGES)
        data, start = [], 0
        for b in BATCHES:
            data.append((x[start:start + b], y[start:start + b]))
            start += b
        config = "config init=splitmix data=splitmix splitmix_seed=%d batches=%s steps=%d lr=%g final_limit=%d grad_limit=%d eval_images=%d" % (
            SPLITMIX_SEED, ",".join(map(str, BATCHES)), len(BATCHES), lr, FINAL_LIMIT, GRAD_LIMIT, EVAL_IMAGES)
        final_limit, grad_limit = FINAL_LIMIT, GRAD_LIMIT
        header.append("# regenerate: " + REGEN)
    records = replay(net, data, xev, lr, torch.float32)
    if a.real:
        # the yardstick: the same steps in float64; norm4j must be about as close to PyTorch's float32 as that is
        control = replay(net, data, xev, lr, torch.float64)
    for name, (shape, values) in records.items():
        limit = grad_limit if name.startswith("grad0.") else final_limit if name.startswith("final.") else None
        v = sample(values, limit)
        out.append(line(name, shape if v.size == values.numel() else (v.size,), v))
        if a.real:
            ref = control[name][1].reshape(-1)
            drift = float((values.reshape(-1).double() - ref).abs().max() / max(float(ref.abs().max()), 1e-30))
            out.append(line("f64drift." + name, (), [drift]))
    path = a.out or (DEFAULT_OUT if not a.real else None)
    if path is None:
        sys.exit("--real needs --out (the real-data fixture is a local check, not committed)")
    with open(path, "w") as f:
        f.write("\n".join(header + [config] + out) + "\n")
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
