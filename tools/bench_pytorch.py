#!/usr/bin/env python3
"""PyTorch's side of the normalization benchmarks: the shapes and operations of norm4j-bench.

Each (operation, shape) is timed call by call after a warm-up; the figure is the median of the
repeats. Bytes follow docs/benchmarks.md's model (forward and eval 2·N·4: read x, write y;
forward+backward 5·N·4: and read dy, read x, write dx), so GB/s here and in the JMH report mean
the same thing. The keys (op, shape) are the report's, so bin/bench can print norm4j/PyTorch ratios.

  bn.train_fwd      BatchNorm{1d,2d} in train mode under no_grad (batch statistics + running update)
  bn.eval_fwd       the same in eval mode (running statistics)
  bn.train_fwd_bwd  train mode, y = bn(x); y.backward(dy), x.grad and the parameters' grads reset to None
  ln.* / rms.*      LayerNorm / RMS norm over every axis but the first (RMS: PyTorch 1.13 has no
                    nn.RMSNorm, so x * rsqrt(mean(x²) + eps) * weight, as a 1.13 user writes it)
  gn.* / in.*       GroupNorm(C/2, C) / InstanceNorm2d(C) with PyTorch's defaults
  mem.copy          dst.copy_(src) of 64 MiB, beside norm4j's System.arraycopy
  lenet.*           d2l's lenet_bn() (tools/d2l.py) in train mode, batch 256 of random images: forward +
                    backward of layer i alone (shape "i"; its input a leaf that requires grad, except the
                    images of layer 0, as in training), and one
                    training step (zero_grad, forward, cross-entropy, backward, SGD lr 1.0; shape "256")

A shape ending in /cl (256x28x28x64/cl) is PyTorch's channels-last memory format: the logical
tensor [256, 64, 28, 28] stored as [256, 28, 28, 64], norm4j's BatchNorm with axis -1 on that array.

Run with Debian's PyTorch:
  /usr/bin/python3 tools/bench_pytorch.py --threads 1 2 --json out.json
"""
import argparse, json, statistics, sys, time

import torch
from torch import nn

BN_SHAPES = ["256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "256x28x28x64/cl", "4096x768"]
ROW_SHAPES = ["256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "4096x768"]
IMAGE_SHAPES = ["256x6x24x24", "256x16x8x8", "256x64x28x28"]
COPY_MIB = 64

# bytes moved per call, in units of N·4 (docs/benchmarks.md)
BYTES = {"fwd": 2, "eval_fwd": 2, "train_fwd": 2, "fwd_bwd": 5, "train_fwd_bwd": 5, "copy": 2}


def parse(shape):
    cl = shape.endswith("/cl")
    dims = [int(d) for d in shape[:-3 if cl else None].split("x")]
    return dims, cl


def make_input(shape, seed):
    """A tensor of the shape's memory layout; for /cl the logical NCHW tensor in channels_last."""
    dims, cl = parse(shape)
    g = torch.Generator().manual_seed(seed)
    if cl:
        n, h, w, c = dims
        t = (torch.rand(n, h, w, c, generator=g) + torch.rand(n, h, w, c, generator=g) - 1) * 1.7 + 0.5
        return t.permute(0, 3, 1, 2)   # logical [N, C, H, W], channels_last strides
    return (torch.rand(*dims, generator=g) + torch.rand(*dims, generator=g) - 1) * 1.7 + 0.5


def time_call(fn, warmup_s, measure_s, min_reps, max_reps):
    t_end = time.perf_counter() + warmup_s
    calls = 0
    while calls < 3 or time.perf_counter() < t_end:
        fn()
        calls += 1
    times = []
    t_end = time.perf_counter() + measure_s
    while len(times) < min_reps or (time.perf_counter() < t_end and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, min(times) * 1e3, len(times)


def bn_module(dims, cl):
    c = dims[-1] if cl else dims[1]
    return nn.BatchNorm2d(c) if len(dims) == 4 else nn.BatchNorm1d(c)


def cases():
    """(op, shape, make) where make() returns the zero-argument call to time."""
    out = []
    for shape in BN_SHAPES:
        def train_fwd(shape=shape):
            dims, cl = parse(shape)
            m, x = bn_module(dims, cl).train(), make_input(shape, 1)

            def f():
                with torch.no_grad():
                    return m(x)
            return f

        def eval_fwd(shape=shape):
            dims, cl = parse(shape)
            m, x = bn_module(dims, cl), make_input(shape, 1)
            with torch.no_grad():
                m.train()(make_input(shape, 3))
            m.eval()

            def f():
                with torch.no_grad():
                    return m(x)
            return f

        def fwd_bwd(shape=shape):
            dims, cl = parse(shape)
            m = bn_module(dims, cl).train()
            return grad_call(m, make_input(shape, 1), make_input(shape, 2) - 0.5)

        out += [("bn.train_fwd", shape, train_fwd), ("bn.eval_fwd", shape, eval_fwd), ("bn.train_fwd_bwd", shape, fwd_bwd)]
    for shape in ROW_SHAPES:
        dims, _ = parse(shape)
        out += [("ln.fwd", shape, lambda dims=dims, s=shape: fwd_call(nn.LayerNorm(dims[1:]), make_input(s, 1))),
                ("ln.fwd_bwd", shape, lambda dims=dims, s=shape: grad_call(nn.LayerNorm(dims[1:]), make_input(s, 1), make_input(s, 2) - 0.5)),
                ("rms.fwd", shape, lambda dims=dims, s=shape: fwd_call(RMSNorm(dims[1:]), make_input(s, 1))),
                ("rms.fwd_bwd", shape, lambda dims=dims, s=shape: grad_call(RMSNorm(dims[1:]), make_input(s, 1), make_input(s, 2) - 0.5))]
    for shape in IMAGE_SHAPES:
        dims, _ = parse(shape)
        c = dims[1]
        out += [("gn.fwd", shape, lambda c=c, s=shape: fwd_call(nn.GroupNorm(c // 2, c), make_input(s, 1))),
                ("gn.fwd_bwd", shape, lambda c=c, s=shape: grad_call(nn.GroupNorm(c // 2, c), make_input(s, 1), make_input(s, 2) - 0.5)),
                ("in.fwd", shape, lambda c=c, s=shape: fwd_call(nn.InstanceNorm2d(c), make_input(s, 1))),
                ("in.fwd_bwd", shape, lambda c=c, s=shape: grad_call(nn.InstanceNorm2d(c), make_input(s, 1), make_input(s, 2) - 0.5))]
    for i in LENET_LAYERS:
        out.append(("lenet.layer_fwd_bwd", str(i), lambda i=i: lenet_layer_call(i)))
    out.append(("lenet.train_step", "256", lenet_step_call))
    return out


LENET_LAYERS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]   # 8 is Flatten


def lenet_layer_call(i):
    from d2l import lenet_bn
    net = lenet_bn().train()
    a = torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for k in range(i):
            a = net[k](a)
        y = net[i](a)
    dy = torch.rand(y.shape, generator=torch.Generator().manual_seed(2)) - 0.5
    return grad_call(net[i], a, dy, input_grad=i > 0)   # as in training: the images need no gradient


def lenet_step_call():
    from d2l import lenet_bn
    net = lenet_bn().train()
    for m in net:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (256,), generator=torch.Generator().manual_seed(3))

    def f():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return f


class RMSNorm(nn.Module):
    """What torch.nn.RMSNorm (2.4+) computes, written with 1.13's ops; eps = float32's epsilon."""

    def __init__(self, normalized_shape):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(*normalized_shape))
        self.dims = tuple(range(-len(normalized_shape), 0))
        self.eps = torch.finfo(torch.float32).eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=self.dims, keepdim=True) + self.eps) * self.weight


def fwd_call(m, x):
    def f():
        with torch.no_grad():
            return m(x)
    return f


def grad_call(m, x, dy, input_grad=True):
    x = x.detach().requires_grad_(input_grad)
    params = list(m.parameters())

    def f():
        x.grad = None
        for p in params:
            p.grad = None
        y = m(x)
        y.backward(dy)
        return y
    return f


def copy_call():
    n = COPY_MIB * (1 << 20) // 4
    src, dst = torch.full((n,), 1.5), torch.full((n,), 2.5)
    return lambda: dst.copy_(src)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1], help="torch.set_num_threads values, run one after the other")
    ap.add_argument("--warmup", type=float, default=0.5, help="seconds of warm-up per case (at least 3 calls)")
    ap.add_argument("--time", type=float, default=2.0, help="seconds of timed calls per case")
    ap.add_argument("--min-reps", type=int, default=5)
    ap.add_argument("--max-reps", type=int, default=500)
    ap.add_argument("--only", default=None, help="substring of op or shape to keep, e.g. bn. or 256x64x28x28")
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()
    torch.manual_seed(0)
    results = []
    print(f"# PyTorch {torch.__version__}, {torch.__config__.parallel_info().splitlines()[0] if hasattr(torch.__config__, 'parallel_info') else ''}",
          file=sys.stderr)
    for threads in a.threads:
        torch.set_num_threads(threads)
        all_cases = [("mem.copy", f"{COPY_MIB}MiB", copy_call)] + cases()
        for op, shape, make in all_cases:
            if a.only and a.only not in op and a.only not in shape:
                continue
            fn = make()
            ms, min_ms, reps = time_call(fn, a.warmup, a.time, a.min_reps, a.max_reps)
            if op == "mem.copy":
                nbytes = 2 * COPY_MIB * (1 << 20)
            elif op.startswith("lenet."):
                nbytes = None   # no byte model
            else:
                dims, _ = parse(shape)
                n = 1
                for d in dims:
                    n *= d
                nbytes = BYTES[op.split(".", 1)[1]] * n * 4
            gbps = nbytes / (ms * 1e-3) / 1e9 if nbytes else None
            results.append({"op": op, "shape": shape, "threads": threads, "ms": ms, "min_ms": min_ms, "reps": reps,
                            "bytes": nbytes, "gbps": gbps})
            print(f"{op:19s} {shape:17s} threads {threads}: {ms:9.3f} ms (min {min_ms:.3f}, {reps} reps)"
                  + (f"  {gbps:6.2f} GB/s" if gbps else ""), flush=True)
            del fn
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": a.threads, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
