#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the norm4j Java tests.

Usage:
    /usr/bin/python3 tools/make_fixtures.py           # (re)generate all fixtures
    /usr/bin/python3 tools/make_fixtures.py --check   # re-read and verify all fixtures

Output: norm4j-core/src/test/resources/fixtures/<case>.txt

File format (one file per case):
  * '#' lines are comments.
  * one line: 'config key=value key=value ...'
  * tensor lines: '<name> <shape comma-joined> <v1> <v2> ...' (row-major, '%.9g'
    of the float32 value, which round-trips float32 exactly; scalars have shape 1).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "norm4j-core", "src", "test", "resources", "fixtures")
STEPS = 3

# name -> (description, layer class name, constructor kwargs, input shape)
CASES = [
    ("bn1d_2d", "BatchNorm1d(3) on [5,3]", "BatchNorm1d", dict(num_features=3), [5, 3]),
    ("bn1d_2d_none", "BatchNorm1d(3, momentum=None) on [5,3]", "BatchNorm1d",
     dict(num_features=3, momentum=None), [5, 3]),
    ("bn1d_3d", "BatchNorm1d(3) on [4,3,7]", "BatchNorm1d", dict(num_features=3), [4, 3, 7]),
    ("bn2d", "BatchNorm2d(3) on [4,3,5,6]", "BatchNorm2d", dict(num_features=3), [4, 3, 5, 6]),
    ("bn2d_none", "BatchNorm2d(3, momentum=None) on [4,3,5,6]", "BatchNorm2d",
     dict(num_features=3, momentum=None), [4, 3, 5, 6]),
    ("bn2d_m03_eps1e-3", "BatchNorm2d(3, momentum=0.3, eps=1e-3) on [4,3,5,6]", "BatchNorm2d",
     dict(num_features=3, momentum=0.3, eps=1e-3), [4, 3, 5, 6]),
    ("bn2d_noaffine", "BatchNorm2d(3, affine=False) on [4,3,5,6]", "BatchNorm2d",
     dict(num_features=3, affine=False), [4, 3, 5, 6]),
    ("bn2d_notrack", "BatchNorm2d(3, track_running_stats=False) on [4,3,5,6] "
     "(eval mode also uses batch statistics)", "BatchNorm2d",
     dict(num_features=3, track_running_stats=False), [4, 3, 5, 6]),
    ("bn3d", "BatchNorm3d(2) on [2,2,3,4,5]", "BatchNorm3d", dict(num_features=2), [2, 2, 3, 4, 5]),
    ("ln_last", "LayerNorm(6) on [3,4,6]", "LayerNorm", dict(normalized_shape=[6]), [3, 4, 6]),
    ("ln_chw", "LayerNorm([5,6]) on [4,3,5,6]", "LayerNorm", dict(normalized_shape=[5, 6]), [4, 3, 5, 6]),
    ("ln_noaffine", "LayerNorm(6, elementwise_affine=False) on [3,4,6]", "LayerNorm",
     dict(normalized_shape=[6], elementwise_affine=False), [3, 4, 6]),
    ("gn", "GroupNorm(3, 6) on [2,6,4,5]", "GroupNorm", dict(num_groups=3, num_channels=6), [2, 6, 4, 5]),
    ("gn_noaffine", "GroupNorm(2, 6, affine=False) on [2,6,4,5]", "GroupNorm",
     dict(num_groups=2, num_channels=6, affine=False), [2, 6, 4, 5]),
    ("gn_1d", "GroupNorm(2, 4) on [3,4,7]", "GroupNorm", dict(num_groups=2, num_channels=4), [3, 4, 7]),
    ("in2d", "InstanceNorm2d(3) (defaults: affine=False, track_running_stats=False) on [2,3,4,5]",
     "InstanceNorm2d", dict(num_features=3), [2, 3, 4, 5]),
    ("in2d_affine_track", "InstanceNorm2d(3, affine=True, track_running_stats=True) on [2,3,4,5] "
     "(num_batches_tracked is not incremented by PyTorch's InstanceNorm)", "InstanceNorm2d",
     dict(num_features=3, affine=True, track_running_stats=True), [2, 3, 4, 5]),
    ("in1d_affine", "InstanceNorm1d(4, affine=True) on [3,4,9]", "InstanceNorm1d",
     dict(num_features=4, affine=True), [3, 4, 9]),
]


def fmt_tensor(name, t):
    a = t.detach().cpu().numpy()
    shape = ",".join(str(d) for d in a.shape) if a.ndim > 0 else "1"
    flat = a.reshape(-1)
    if flat.dtype == np.float32:
        vals = ["%.9g" % float(v) for v in flat]
    else:
        vals = ["%d" % int(v) for v in flat]
    return "%s %s %s" % (name, shape, " ".join(vals))


def config_line(layer, m):
    kv = [("layer", layer)]
    if layer.startswith("BatchNorm") or layer.startswith("InstanceNorm"):
        kv.append(("num_features", m.num_features))
        kv.append(("eps", repr(float(m.eps))))
        kv.append(("momentum", "None" if m.momentum is None else repr(float(m.momentum))))
        kv.append(("affine", int(m.affine)))
        kv.append(("track_running_stats", int(m.track_running_stats)))
    elif layer == "LayerNorm":
        kv.append(("normalized_shape", ",".join(str(d) for d in m.normalized_shape)))
        kv.append(("eps", repr(float(m.eps))))
        kv.append(("affine", int(m.elementwise_affine)))
    elif layer == "GroupNorm":
        kv.append(("num_groups", m.num_groups))
        kv.append(("num_channels", m.num_channels))
        kv.append(("eps", repr(float(m.eps))))
        kv.append(("affine", int(m.affine)))
    kv.append(("steps", STEPS))
    return "config " + " ".join("%s=%s" % (k, v) for k, v in kv)


def make_input(shape, ch_mu, ch_sigma):
    x = torch.randn(*shape)
    if len(shape) >= 2:
        bshape = [1] * len(shape)
        bshape[1] = shape[1]
        x = x * ch_sigma.view(bshape) + ch_mu.view(bshape)
    return x


def generate_case(idx, name, desc, layer, kwargs, shape):
    torch.manual_seed(1234 + idx)
    m = getattr(nn, layer)(**kwargs)
    has_affine = m.weight is not None
    tracks = getattr(m, "running_mean", None) is not None
    with torch.no_grad():
        if has_affine:
            m.weight.copy_(torch.empty_like(m.weight).uniform_(0.5, 1.5))
            m.bias.copy_(torch.randn_like(m.bias) * 0.5)
        if tracks:
            m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.3)
            m.running_var.copy_(torch.empty_like(m.running_var).uniform_(0.5, 2.0))

    lines = [
        "# %s: %s" % (name, desc),
        "# generated by tools/make_fixtures.py with PyTorch %s" % torch.__version__,
        "# regenerate: /usr/bin/python3 tools/make_fixtures.py",
        config_line(layer, m),
    ]
    if has_affine:
        lines.append(fmt_tensor("weight", m.weight))
        lines.append(fmt_tensor("bias", m.bias))
    if tracks:
        lines.append(fmt_tensor("running_mean.init", m.running_mean))
        lines.append(fmt_tensor("running_var.init", m.running_var))

    # per-channel input statistics (dim 1), fixed for the case
    nch = shape[1] if len(shape) >= 2 else 1
    ch_mu = torch.empty(nch).uniform_(-2.0, 2.0)
    ch_sigma = torch.empty(nch).uniform_(0.5, 3.0)

    def step(tag):
        if has_affine:
            m.zero_grad(set_to_none=False)  # grads zeroed before each step
        x = make_input(shape, ch_mu, ch_sigma).requires_grad_(True)
        dy = torch.randn(*shape)
        y = m(x)
        y.backward(dy)
        out = [fmt_tensor("x." + tag, x), fmt_tensor("dy." + tag, dy),
               fmt_tensor("y." + tag, y), fmt_tensor("dx." + tag, x.grad)]
        if has_affine:
            out.append(fmt_tensor("dweight." + tag, m.weight.grad))
            out.append(fmt_tensor("dbias." + tag, m.bias.grad))
        return out

    if has_affine:
        m.weight.grad = torch.zeros_like(m.weight)
        m.bias.grad = torch.zeros_like(m.bias)
    m.train()
    for k in range(STEPS):
        lines += step(str(k))
        if tracks:
            lines.append(fmt_tensor("running_mean.%d" % k, m.running_mean))
            lines.append(fmt_tensor("running_var.%d" % k, m.running_var))
            lines.append(fmt_tensor("num_batches_tracked.%d" % k, m.num_batches_tracked))
    m.eval()
    lines += step("eval")

    path = os.path.join(OUT_DIR, name + ".txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


README = """# norm4j reference fixtures

Reference data produced by PyTorch for the norm4j normalization-layer tests.
Generated by `tools/make_fixtures.py` (PyTorch {ver}); do not edit by hand.

Regenerate:   /usr/bin/python3 tools/make_fixtures.py
Verify:       /usr/bin/python3 tools/make_fixtures.py --check

One file per case, `<case>.txt`:

* lines starting with `#` are comments (case description, torch version, regenerate command);
* one `config key=value ...` line: `layer` (PyTorch class name), `num_features` (BN/IN) or
  `normalized_shape` (LN, comma-joined) or `num_groups` + `num_channels` (GN), `eps`,
  `momentum` (number or `None`; BN/IN only), `affine` (1/0; for LayerNorm this is
  `elementwise_affine`), `track_running_stats` (1/0; BN/IN only), `steps`;
* tensor lines `<name> <shape comma-joined> <v1> <v2> ...`, values row-major, printed with
  `%.9g` from float32 (exact round trip); scalars use shape `1`.

Tensors: `weight`, `bias` (initial affine parameters, only if affine=1);
`running_mean.init`, `running_var.init` (initial running stats, only if tracked);
for each training step k = 0..steps-1: `x.k`, `dy.k`, `y.k`, `dx.k`, `dweight.k`, `dbias.k`
(gradients of `y.backward(dy)`, grads zeroed before each step) and, if running stats are tracked,
`running_mean.k`, `running_var.k`, `num_batches_tracked.k` after the step;
then one eval-mode step: `x.eval`, `dy.eval`, `y.eval`, `dx.eval`, `dweight.eval`, `dbias.eval`.

Notes: PyTorch's InstanceNorm does not increment `num_batches_tracked` (it stays 0);
BatchNorm with `track_running_stats=0` and InstanceNorm without tracked stats use batch
statistics in eval mode too.
"""


def generate():
    os.makedirs(OUT_DIR, exist_ok=True)
    for i, (name, desc, layer, kwargs, shape) in enumerate(CASES):
        p = generate_case(i, name, desc, layer, kwargs, shape)
        print("wrote %s (%d bytes)" % (os.path.relpath(p, ROOT), os.path.getsize(p)))
    with open(os.path.join(OUT_DIR, "README.md"), "w") as f:
        f.write(README.format(ver=torch.__version__))


# ----------------------------------------------------------------------------- check mode

def read_fixture(path):
    config, tensors, comments = None, {}, []
    with open(path) as f:
        for ln in f:
            ln = ln.rstrip("\n")
            if not ln:
                continue
            if ln.startswith("#"):
                comments.append(ln)
                continue
            parts = ln.split(" ")
            if parts[0] == "config":
                assert config is None, "duplicate config line"
                config = dict(p.split("=", 1) for p in parts[1:])
                continue
            name, shp, vals = parts[0], parts[1], parts[2:]
            shape = tuple(int(d) for d in shp.split(","))
            assert int(np.prod(shape)) == len(vals), "%s: shape %s vs %d values" % (name, shp, len(vals))
            assert name not in tensors, "duplicate tensor " + name
            a32 = np.array([float(v) for v in vals], dtype=np.float64).astype(np.float32)
            # '%.9g' of the parsed float32 must reproduce the text (exact float32 round trip)
            if a32.dtype == np.float32 and not name.startswith("num_batches_tracked"):
                assert all("%.9g" % float(f) == v for f, v in zip(a32, vals)), "round trip " + name
            tensors[name] = a32.astype(np.float64).reshape(shape)
    assert config is not None, "no config line"
    return comments, config, tensors


def check_case(path, name):
    comments, cfg, T = read_fixture(path)
    assert any("PyTorch" in c for c in comments[:3])
    assert any("regenerate: /usr/bin/python3 tools/make_fixtures.py" in c for c in comments[:3])
    steps = int(cfg["steps"])
    layer = cfg["layer"]
    eps = float(cfg["eps"])
    affine = cfg["affine"] == "1"
    track = cfg.get("track_running_stats") == "1"
    w, b = T.get("weight"), T.get("bias")
    assert affine == (w is not None) == (b is not None)
    tags = [str(k) for k in range(steps)] + ["eval"]
    for t in tags:
        for n in ("x", "dy", "y", "dx"):
            assert n + "." + t in T, "missing %s.%s" % (n, t)
        assert affine == ("dweight." + t in T) == ("dbias." + t in T)
    rm = T.get("running_mean.init")
    rv = T.get("running_var.init")
    assert track == (rm is not None)
    nbt = 0
    max_err = 0.0
    for t in tags:
        x = T["x." + t]
        dy = T["dy." + t]
        training = t != "eval"
        # Work in a "view" v of shape [..] where the statistics are reduced over `axes`;
        # wb / bb are the affine parameters broadcast to x's shape.
        wb = bb = None
        to_v = lambda a: a  # noqa: E731
        if layer.startswith("BatchNorm") or layer.startswith("InstanceNorm"):
            is_in = layer.startswith("InstanceNorm")
            C = int(cfg["num_features"])
            pshape = [1] * x.ndim
            pshape[1] = C
            axes = tuple(range(2, x.ndim)) if is_in else (0,) + tuple(range(2, x.ndim))
            batch_stats = training or not track
            if batch_stats:
                mean = x.mean(axis=axes, keepdims=True)
                var = x.var(axis=axes, keepdims=True)
                if training and track:
                    n = int(np.prod([x.shape[a] for a in axes]))
                    bm, bv = mean, var * n / (n - 1)
                    if is_in:  # running stats are averaged over the batch
                        bm = bm.mean(axis=0)
                        bv = bv.mean(axis=0)
                    bm = bm.reshape(C)
                    bv = bv.reshape(C)
                    if not is_in:
                        nbt += 1
                    mom = cfg["momentum"]
                    f = (1.0 / nbt) if mom == "None" else float(mom)
                    rm = (1 - f) * rm + f * bm
                    rv = (1 - f) * rv + f * bv
            else:
                mean = T["running_mean.%d" % (steps - 1)].reshape(pshape)
                var = T["running_var.%d" % (steps - 1)].reshape(pshape)
            if affine:
                wb, bb = w.reshape(pshape), b.reshape(pshape)
            param_axes = (0,) + tuple(range(2, x.ndim))
        elif layer == "LayerNorm":
            ns = tuple(int(d) for d in cfg["normalized_shape"].split(","))
            axes = tuple(range(x.ndim - len(ns), x.ndim))
            batch_stats = True
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True)
            if affine:
                wb, bb = w, b
            param_axes = tuple(range(x.ndim - len(ns)))
        elif layer == "GroupNorm":
            G = int(cfg["num_groups"])
            C = int(cfg["num_channels"])
            N = x.shape[0]
            to_v = lambda a: a.reshape(N, G, -1)  # noqa: E731
            axes = (2,)
            batch_stats = True
            mean = to_v(x).mean(axis=2, keepdims=True)
            var = to_v(x).var(axis=2, keepdims=True)
            pshape = [1] * x.ndim
            pshape[1] = C
            if affine:
                wb, bb = w.reshape(pshape), b.reshape(pshape)
            param_axes = (0,) + tuple(range(2, x.ndim))
        else:
            raise AssertionError("unknown layer " + layer)

        inv = 1.0 / np.sqrt(var + eps)
        xhat = ((to_v(x) - mean) * inv).reshape(x.shape)
        y = xhat * wb + bb if affine else xhat
        err = float(np.max(np.abs(y - T["y." + t]) / (1.0 + np.abs(y))))
        max_err = max(max_err, err)
        assert err < 1e-5, "%s y.%s mismatch: %g" % (name, t, err)

        # backward, float64 closed form
        g = to_v(dy * wb if affine else dy)
        xv = to_v(xhat)
        if batch_stats:
            dxv = inv * (g - g.mean(axis=axes, keepdims=True)
                         - xv * (g * xv).mean(axis=axes, keepdims=True))
        else:
            dxv = inv * g
        dx = dxv.reshape(x.shape)
        derr = float(np.max(np.abs(dx - T["dx." + t])) / (1.0 + np.max(np.abs(dx))))
        assert derr < 1e-5, "%s dx.%s mismatch: %g" % (name, t, derr)
        max_err = max(max_err, derr)
        if affine:
            dw = (dy * xhat).sum(axis=param_axes).reshape(w.shape)
            db = dy.sum(axis=param_axes).reshape(b.shape)
            e = max(float(np.max(np.abs(dw - T["dweight." + t]))) / (1.0 + float(np.max(np.abs(dw)))),
                    float(np.max(np.abs(db - T["dbias." + t]))) / (1.0 + float(np.max(np.abs(db)))))
            assert e < 1e-5, "%s dweight/dbias.%s mismatch: %g" % (name, t, e)
            max_err = max(max_err, e)

        if training and track:
            e1 = float(np.max(np.abs(rm - T["running_mean." + t])))
            e2 = float(np.max(np.abs(rv - T["running_var." + t]) / (1.0 + np.abs(rv))))
            assert e1 < 1e-5 and e2 < 1e-5, "%s running stats %s mismatch: %g %g" % (name, t, e1, e2)
            assert int(T["num_batches_tracked." + t].reshape(-1)[0]) == nbt, "%s nbt.%s" % (name, t)
            # continue from the recorded (float32) stats, as the Java side would
            rm = T["running_mean." + t]
            rv = T["running_var." + t]
    return cfg, max_err


def check():
    names = [c[0] for c in CASES]
    ok = True
    for name in names:
        path = os.path.join(OUT_DIR, name + ".txt")
        try:
            cfg, err = check_case(path, name)
            print("OK   %-20s %7d bytes  max rel err (y, dx, dw, db) %.2e" % (name, os.path.getsize(path), err))
        except Exception as e:  # noqa: BLE001
            ok = False
            print("FAIL %-20s %s" % (name, e))
    extra = sorted(set(f[:-4] for f in os.listdir(OUT_DIR) if f.endswith(".txt")) - set(names))
    if extra:
        print("note: unexpected fixture files:", extra)
    print("all fixtures OK" if ok else "SOME FIXTURES FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        sys.exit(check())
    generate()
