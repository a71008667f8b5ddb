#!/usr/bin/env python3
"""Turns JMH's JSON result (-rf json) into the table of docs/benchmarks.md: ms per call, GB/s by the
byte model, % of the copy bandwidth measured in the same run, allocation per call (when run with
-prof gc), the scalar twin (when given) and PyTorch's time and the ratio norm4j / PyTorch (when
given tools/bench_pytorch.py's JSON). Standard library only; bin/bench calls it.

  python3 norm4j-bench/report.py --jmh jmh-*.json [--scalar jmh-scalar-*.json] [--pytorch pytorch-*.json] [--env env.txt]
"""
import argparse, json, re, sys

# benchmark method -> (key shared with tools/bench_pytorch.py, bytes per call in units of N·4)
# The byte model (docs/benchmarks.md): what the operation necessarily moves, each tensor once.
MODEL = {
    "BatchNormBench.trainForward": ("bn.train_fwd", 2),
    "BatchNormBench.evalForward": ("bn.eval_fwd", 2),
    "BatchNormBench.trainForwardBackward": ("bn.train_fwd_bwd", 5),
    "BatchNormKernelBench.stats": ("kernel.bn_stats", 1),
    "BatchNormKernelBench.apply": ("kernel.bn_apply", 2),
    "BatchNormKernelBench.trainForward": ("kernel.bn_train_fwd", 2),
    "BatchNormKernelBench.backward": ("kernel.bn_bwd", 3),
    "RowNormBench.layerNormForward": ("ln.fwd", 2),
    "RowNormBench.layerNormForwardBackward": ("ln.fwd_bwd", 5),
    "RowNormBench.rmsNormForward": ("rms.fwd", 2),
    "RowNormBench.rmsNormForwardBackward": ("rms.fwd_bwd", 5),
    "GroupInstanceNormBench.groupNormForward": ("gn.fwd", 2),
    "GroupInstanceNormBench.groupNormForwardBackward": ("gn.fwd_bwd", 5),
    "GroupInstanceNormBench.instanceNormForward": ("in.fwd", 2),
    "GroupInstanceNormBench.instanceNormForwardBackward": ("in.fwd_bwd", 5),
    "MemoryBench.copy": ("mem.copy", 2),
    "MemoryBench.read": ("mem.read", 1),
    "MemoryBench.write": ("mem.write", 1),
    "AllocateBench.allocate": ("mem.allocate", 1),
    "MemoryBench2T.copy": ("mem.copy_2t", 2),
    "CopyBench.copy": ("mem.copy_same", 2),
    "LeNetBench.forwardBackward": ("lenet.layer_fwd_bwd", None),   # no byte model: not all memory-bound
    "Step.trainStep": ("lenet.train_step", None),
}
LENET = ["Conv2d(1,6,5)", "BatchNorm2d(6)", "Sigmoid", "AvgPool2d(2)", "Conv2d(6,16,5)", "BatchNorm2d(16)", "Sigmoid",
         "AvgPool2d(2)", "Flatten", "Linear(256,120)", "BatchNorm1d(120)", "Sigmoid", "Linear(120,84)", "BatchNorm1d(84)",
         "Sigmoid", "Linear(84,10)"]

ORDER = ["bn.train_fwd", "bn.eval_fwd", "bn.train_fwd_bwd", "kernel.bn_stats", "kernel.bn_apply", "kernel.bn_train_fwd",
         "kernel.bn_bwd", "ln.fwd", "ln.fwd_bwd", "rms.fwd", "rms.fwd_bwd", "gn.fwd", "gn.fwd_bwd", "in.fwd", "in.fwd_bwd"]
SHAPES = ["256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "256x28x28x64/cl", "4096x768"]


def elements(params):
    if "layer" in params:
        return 0, params["layer"]
    if not params:
        return 0, "256"
    if set(params) == {"threads"}:   # LeNetBench.Step on 1 or 2 of norm4j's threads
        return 0, "256/" + params["threads"]
    if "shape" in params:
        s = params["shape"]
        n = 1
        for d in (s[:-3] if s.endswith("/cl") else s).split("x"):
            n *= int(d)
        return n, s
    mib = int(params["mib"])
    return mib * (1 << 20) // 4, f"{mib}MiB"


def to_ms(score, unit):
    return score * {"ms/op": 1.0, "us/op": 1e-3, "ns/op": 1e-6, "s/op": 1e3}[unit]


def load_jmh(paths):
    """Rows of every file by (op, shape, threads); a later file's row replaces an earlier one of the same key.
    threads: the benchmark's `threads` parameter (norm4j's kernel threads) where it has a shape, else JMH's."""
    rows, data = {}, []
    for path in paths or []:
        with open(path) as f:
            try:
                data += json.load(f)
            except json.JSONDecodeError:   # a run still in progress, or one that was stopped
                print(f"report: skipping {path} (not a complete JMH result)", file=sys.stderr)
    for r in data:
        name = r["benchmark"].rsplit(".", 2)
        method = name[-2] + "." + name[-1]
        if method not in MODEL:
            continue
        key, units = MODEL[method]
        n, shape = elements(r.get("params", {}))
        pm = r["primaryMetric"]
        if r.get("mode") == "sample":
            # the median call, as tools/bench_pytorch.py reports PyTorch's; ± is p90 − median
            # (a mean would carry the machine's stalls and collections into one side only)
            pct = pm["scorePercentiles"]
            ms = to_ms(pct["50.0"], pm["scoreUnit"])
            err = to_ms(pct["90.0"] - pct["50.0"], pm["scoreUnit"])
        else:
            ms = to_ms(pm["score"], pm["scoreUnit"])
            e = pm.get("scoreError")
            err = to_ms(e, pm["scoreUnit"]) if isinstance(e, (int, float)) and e == e else None   # "NaN" with one iteration
        jmh_threads = r.get("threads", 1)   # JMH's own threads (MemoryBench2T: each copies its arrays)
        threads = int(r.get("params", {}).get("threads", jmh_threads)) if "shape" in r.get("params", {}) else jmh_threads
        nbytes = units * n * 4 * jmh_threads if units else None
        alloc = None
        sec = r.get("secondaryMetrics", {})
        for k, v in sec.items():
            if k.endswith("gc.alloc.rate.norm"):
                alloc = v["score"]   # B/op
        rows[(key, shape, threads)] = {"ms": ms, "err": err, "gbps": nbytes / (ms * 1e-3) / 1e9 if nbytes else None, "alloc": alloc, "n": n,
                              "bytes": nbytes, "jvm": r.get("jvmArgs", []), "jdk": r.get("jdkVersion"), "vm": r.get("vmVersion")}
    return rows, data


def load_pytorch(paths):
    out, meta, threads = {}, None, []
    for path in paths or []:
        with open(path) as f:
            data = json.load(f)
        meta = data
        for r in data["results"]:
            out[(r["op"], r["shape"], r["threads"])] = r
            if r["threads"] not in threads:
                threads.append(r["threads"])
    if meta:
        meta = dict(meta, threads=sorted(threads))
    return out, meta


def fmt_ms(ms):
    if ms is None:
        return "–"
    return f"{ms:.3f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jmh", nargs="+", default=[], help="JMH JSON files (-rf json), later ones override")
    ap.add_argument("--scalar", nargs="+", default=None, help="JMH JSON of the same benchmarks with -Dnorm4j.scalar=true")
    ap.add_argument("--pytorch", nargs="+", default=None, help="tools/bench_pytorch.py --json outputs")
    ap.add_argument("--env", default=None, help="a text file printed as the header")
    ap.add_argument("--epochs", nargs="+", default=None,
                    help="metrics CSVs named epochs-norm4j-T.csv / epochs-pytorch-T.csv (bin/bench --lenet-epochs)")
    ap.add_argument("--compact", action="store_true", help="leave out the error and PyTorch GB/s columns")
    a = ap.parse_args()
    rows, raw = load_jmh(a.jmh)
    scalar = load_jmh(a.scalar)[0] if a.scalar else {}
    torch_rows, torch_raw = load_pytorch(a.pytorch)
    torch_threads = torch_raw["threads"] if torch_raw else []
    out = sys.stdout

    if a.env:
        with open(a.env) as f:
            out.write(f.read().rstrip() + "\n")
    if raw:
        r0 = raw[0]
        out.write(f"JMH {r0.get('jmhVersion')}, JDK {r0.get('jdkVersion')} ({r0.get('vmName')}), fork flags: "
                  f"{' '.join(r0.get('jvmArgs', []))}; {r0.get('warmupIterations')}×{r0.get('warmupTime')} warm-up, "
                  f"{r0.get('measurementIterations')}×{r0.get('measurementTime')} measured, {r0.get('forks')} fork\n")
    if torch_raw:
        out.write(f"PyTorch {torch_raw['torch']}, torch.set_num_threads in {torch_threads}\n")
    out.write("\n")

    # ---- memory ----
    copy_ref = rows.get(("mem.copy", "1024MiB", 1)) or rows.get(("mem.copy", "64MiB", 1))
    ref = copy_ref["gbps"] if copy_ref else None
    ref2 = rows[("mem.copy_2t", "64MiB", 2)]["gbps"] if ("mem.copy_2t", "64MiB", 2) in rows else None
    machine = {1: ref, 2: ref2}   # the machine's copy figure at each thread count
    out.write("Memory bandwidth (bytes: copy 2·N·4, read/write/allocate 1·N·4):\n\n")
    out.write("| benchmark | size | threads | ms | GB/s |" + (" PyTorch copy_ GB/s (threads) |" if torch_raw else "") + "\n")
    out.write("|---|---|---|---|---|" + ("---|" if torch_raw else "") + "\n")
    labels = {"mem.copy": "copy (System.arraycopy)", "mem.read": "read (Vector API sum)", "mem.write": "write (Arrays.fill)",
              "mem.allocate": "allocate (new float[N])", "mem.copy_2t": "copy, 2 threads (aggregate)",
              "mem.copy_same": "copy of a tensor (Parallel tasks)"}
    mem = sorted((k for k in rows if k[0] in labels), key=lambda k: (list(labels).index(k[0]), rows[k]["n"], k[2]))
    for key, size, threads in mem:
        r = rows[(key, size, threads)]
        pt = ""
        if torch_raw:
            cells = [f"{torch_rows[('mem.copy', size, t)]['gbps']:.1f} ({t})" for t in torch_threads
                     if key == "mem.copy" and ("mem.copy", size, t) in torch_rows]
            pt = " " + ", ".join(cells) + " |"
        out.write(f"| {labels[key]} | {size} | {threads} | {fmt_ms(r['ms'])} | {r['gbps']:.1f} |{pt}\n")
    out.write("\n")
    if ref:
        out.write(f"Machine copy: {ref:.1f} GB/s on 1 thread (System.arraycopy of "
                  f"{'1024' if ('mem.copy', '1024MiB', 1) in rows else '64'} MiB, this run)"
                  + (f", {ref2:.1f} GB/s on 2 (two threads each copying 64 MiB).\n" if ref2 else ".\n"))
    out.write("% machine copy = GB/s / the copy figure above at the row's thread count (1T or 2T); % same copy = GB/s / the "
              "copy of a tensor of the row's shape on the row's threads (CopyBench), where measured.\n")
    out.write("ratio = norm4j ms / PyTorch ms on the same number of threads (< 1: norm4j faster).\n")
    if any(r.get("mode") == "sample" for r in raw):
        out.write("ms: the median call on both sides (JMH sample mode; bench_pytorch.py's median); ± = 90th percentile − median. "
                  "Results of earlier runs in JMH's average mode give their mean and its error instead.\n")
    out.write("\n")

    # ---- kernels ----
    has_alloc = any(r["alloc"] is not None for r in rows.values())
    head = ["op", "shape", "threads", "norm4j ms"] + ([] if a.compact else ["±"]) + ["GB/s", "% machine copy", "% same copy"]
    if has_alloc:
        head.append("alloc MB/op")
    if scalar:
        head += ["scalar ms", "vector speed-up"]
    if torch_threads:
        head += ["PyTorch ms (same threads)"] + ([] if a.compact else ["PyTorch GB/s"]) + ["ratio"]
    out.write("| " + " | ".join(head) + " |\n")
    out.write("|" + "---|" * len(head) + "\n")

    def shape_rank(s):
        return SHAPES.index(s) if s in SHAPES else len(SHAPES)

    keys = sorted((k for k in rows if not k[0].startswith(("mem.", "lenet."))),
                  key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, shape_rank(k[1]), k[2]))
    for key, shape, t in keys:
        r = rows[(key, shape, t)]
        pct = lambda g: f"{100 * r['gbps'] / g:.0f}%" if g else "–"
        # the same-size copy: CopyBench's row of the same element count (a channels-last shape has
        # its channels-first twin's count) on the same threads
        same = next((v for k, v in rows.items() if k[0] == "mem.copy_same" and k[2] == t and v["n"] == r["n"]), None)
        cells = [key, shape, str(t), fmt_ms(r["ms"])] + ([] if a.compact else [fmt_ms(r["err"])]) + [
            f"{r['gbps']:.2f}", pct(machine.get(t)), pct(same["gbps"] if same else None)]
        if has_alloc:
            cells.append(f"{r['alloc'] / 1e6:.1f}" if r["alloc"] is not None else "–")
        if scalar:
            s = scalar.get((key, shape, t))
            cells += [fmt_ms(s["ms"]), f"{s['ms'] / r['ms']:.2f}×"] if s else ["–", "–"]
        if torch_threads:
            p = torch_rows.get((key, shape, t))
            if p:
                cells += [fmt_ms(p["ms"])] + ([] if a.compact else [f"{p['gbps']:.2f}"]) + [f"**{r['ms'] / p['ms']:.2f}**"]
            else:
                cells += ["–"] * (2 if a.compact else 3)
        out.write("| " + " | ".join(cells) + " |\n")

    # ---- LeNet layers ----
    lenet = sorted((k for k in rows if k[0].startswith("lenet.")),
                   key=lambda k: (k[0] != "lenet.layer_fwd_bwd", int(k[1].split("/")[-1])))
    if lenet:
        out.write("\nLeNet-BN, batch 256, training mode: forward + backward of each layer, and one whole training step "
                  "(ms per batch; ratio = norm4j / PyTorch):\n\n")
        head = ["layer", "norm4j ms", "alloc MB/op" if has_alloc else None]
        head = [h for h in head if h]
        for t in torch_threads:
            head += [f"PyTorch {t}T ms", f"ratio {t}T"]
        out.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for key, shape, _ in lenet:
            r = rows[(key, shape, _)]
            own = int(shape.split("/")[1]) if "/" in shape else None   # the step's norm4j thread count
            if key == "lenet.layer_fwd_bwd":
                name = f"{shape} {LENET[int(shape)]}"
            else:
                name = "training step (batch 256)" + (f", norm4j {own} thread{'s' if own > 1 else ''}" if own else "")
            cells = [name, fmt_ms(r["ms"])]
            if has_alloc:
                cells.append(f"{r['alloc'] / 1e6:.1f}" if r["alloc"] is not None else "–")
            for t in torch_threads:
                p = torch_rows.get((key, shape.split("/")[0], t))
                same = own is None or own == t   # a step is compared at the same thread count only
                cells += [fmt_ms(p["ms"]), f"**{r['ms'] / p['ms']:.2f}**" if same else "–"] if p else ["–", "–"]
            out.write("| " + " | ".join(cells) + " |\n")

    # ---- LeNet epochs ----
    if a.epochs:
        secs = {}   # (who, threads) -> one list of seconds per run (bin/bench --lenet-repeats: -rK files)
        for path in sorted(a.epochs):
            base = path.rsplit("/", 1)[-1][len("epochs-"):-len(".csv")]
            if re.search(r"-r\d+$", base):
                base = base.rsplit("-", 1)[0]
            who, threads = base.rsplit("-", 1)
            with open(path) as f:
                lines = [l.strip().split(",") for l in f if l.strip()]
            col = lines[0].index("seconds")
            secs.setdefault((who, int(threads)), []).append([float(l[col]) for l in lines[1:]])
        runs = max(len(v) for v in secs.values())
        out.write("\nOne epoch of the d2l LeNet-BN recipe (60 000 images, batch 256), seconds: median of epochs 2..N "
                  + (f"of {runs} runs per side, norm4j's and PyTorch's alternating " if runs > 1 else "")
                  + "(epoch 1 in brackets); threads = `norm4j train --threads` (OpenBLAS at 1), torch.set_num_threads for PyTorch:\n\n")
        out.write("| threads | norm4j s | PyTorch s | ratio norm4j / PyTorch |\n|---|---|---|---|\n")
        for t in sorted({k[1] for k in secs}):
            n, p = secs.get(("norm4j", t)), secs.get(("pytorch", t))

            def med(rs):
                rest = sorted(x for r in rs for x in (r[1:] or r))
                return rest[len(rest) // 2] if len(rest) % 2 else (rest[len(rest) // 2 - 1] + rest[len(rest) // 2]) / 2
            cell = lambda rs: f"{med(rs):.2f} ({', '.join(f'{r[0]:.2f}' for r in rs)})" if rs else "–"
            ratio = f"**{med(n) / med(p):.2f}**" if n and p else "–"
            out.write(f"| {t} | {cell(n)} | {cell(p)} | {ratio} |\n")


if __name__ == "__main__":
    main()
