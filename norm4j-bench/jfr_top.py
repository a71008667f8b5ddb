#!/usr/bin/env python3
"""Where the time goes in a JFR recording: the top frames of the execution samples (Java code) and the
native-method samples (JNI: OpenBLAS), attributed three ways, plus the garbage collector's pauses.

  self     the innermost frame (JDK intrinsics and Vector API internals show as themselves)
  norm4j   the innermost org.norm4j frame (a JDK or Vector API frame is charged to its norm4j caller)
  kernel   the innermost frame of org.norm4j.kernels / ops / autograd / nn / train, as a class name

Record with JFR's default settings (Java and native samples both every 20 ms, so their counts compare):
  NORM4J_JAVA_OPTS='-XX:StartFlightRecording=filename=/tmp/x.jfr' bin/norm4j train ...
and read with
  python3 norm4j-bench/jfr_top.py /tmp/x.jfr [--top 25] [--thread main]
(calls `jfr print --json`; standard library only).
"""
import argparse, collections, json, subprocess, sys


def frames_of(ev):
    st = ev["values"].get("stackTrace")
    if not st:
        return []
    out = []
    for f in st["frames"]:
        m = f["method"]
        out.append((m["type"]["name"].replace("/", "."), m["name"], f.get("lineNumber", -1)))
    return out


def duration_ms(v):
    # jfr --json writes durations as ISO-8601 strings ("PT0.0123S") in recent JDKs
    if isinstance(v, (int, float)):
        return v / 1e6
    s = str(v)
    if s.startswith("PT") and s.endswith("S"):
        body = s[2:-1]
        mins = 0.0
        if "M" in body:
            m, body = body.split("M", 1)
            mins = float(m)
        return (mins * 60 + float(body or 0)) * 1e3
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--thread", default=None, help="keep samples of threads whose name contains this")
    a = ap.parse_args()
    events = "jdk.ExecutionSample,jdk.NativeMethodSample,jdk.GarbageCollection"
    raw = subprocess.run(["jfr", "print", "--json", "--events", events, a.recording], check=True, capture_output=True,
                         text=True).stdout
    evs = json.loads(raw)["recording"]["events"]
    selfc, norm4jc, kernelc, lines = (collections.Counter() for _ in range(4))
    n_java = n_native = 0
    gc_ms, gc_n = 0.0, 0
    for ev in evs:
        t = ev["type"]
        if t == "jdk.GarbageCollection":
            gc_ms += duration_ms(ev["values"].get("sumOfPauses", 0))
            gc_n += 1
            continue
        thread = ev["values"].get("sampledThread") or {}
        name = thread.get("javaName") or thread.get("osName") or ""
        if a.thread and a.thread not in name:
            continue
        fr = frames_of(ev)
        if not fr:
            continue
        tag = "" if t == "jdk.ExecutionSample" else " [native]"
        if tag:
            n_native += 1
        else:
            n_java += 1
        top = fr[0]
        selfc[f"{top[0]}.{top[1]}{tag}"] += 1
        lines[f"{top[0]}.{top[1]}:{top[2]}{tag}"] += 1
        own = next((f for f in fr if f[0].startswith("org.norm4j.")), None)
        norm4jc[(f"{own[0]}.{own[1]}" if own else f"(no norm4j frame) {top[0]}.{top[1]}") + tag] += 1
        k = next((f for f in fr if f[0].startswith(("org.norm4j.kernels", "org.norm4j.ops", "org.norm4j.autograd",
                                                     "org.norm4j.nn", "org.norm4j.train", "org.norm4j.data"))), None)
        kernelc[(k[0].rsplit(".", 1)[-1] if k else "(other)") + tag] += 1
    total = n_java + n_native
    print(f"{total} samples ({n_java} Java, {n_native} native); GC: {gc_n} collections, {gc_ms:.0f} ms of pauses")
    for title, c in [("by innermost org.norm4j frame", norm4jc), ("by innermost frame (self)", selfc),
                     ("by class (kernels/ops/autograd/nn/train)", kernelc), ("by source line (self)", lines)]:
        print(f"\n{title}:")
        for key, n in c.most_common(a.top):
            print(f"  {100 * n / max(total, 1):5.1f}%  {n:6d}  {key}")


if __name__ == "__main__":
    sys.exit(main())
