#!/bin/bash
# usage: hunt.sh CP OUTDIR MAXRUNS [JVM flags]: two-thread KernelCopyRatio runs, one after another,
# until the first slow JVM (channels-last kernel.bn_train_fwd > 5.2 ms or [4096, 768] > 1.5 ms).
# OUTDIR/summary.txt gets one line a run: run, channels-last fwd ms, [4096, 768] fwd ms; then SLOW n.
# In a flag, RUN stands for the run's number: -XX:LogFile=OUTDIR/logRUN.txt keeps a log per run.
cp=$1; out=$2; max=$3; shift 3
mkdir -p "$out"
for i in $(seq 1 "$max"); do
  flags=()
  for f in "$@"; do flags+=("${f//RUN/$i}"); done
  nice -n -10 java --add-modules jdk.incubator.vector -Xmx6g -XX:+UseTransparentHugePages "${flags[@]}" \
    -cp "$cp" org.norm4j.bench.KernelCopyRatio 2 > "$out/out$i.txt" 2>&1
  cl=$(awk '$1=="256x28x28x64/cl" && $2=="kernel.bn_train_fwd"{print $3}' "$out/out$i.txt")
  wide=$(awk '$1=="4096x768" && $2=="kernel.bn_train_fwd"{print $3}' "$out/out$i.txt")
  echo "$i $cl $wide" >> "$out/summary.txt"
  if awk -v a="$cl" -v b="$wide" 'BEGIN{exit !(a>5.2 || b>1.5)}'; then echo "SLOW $i" >> "$out/summary.txt"; break; fi
done
