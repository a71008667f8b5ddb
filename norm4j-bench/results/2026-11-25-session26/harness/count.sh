#!/bin/bash
# usage: count.sh CP OUTFILE N [jvm flags]: N two-thread KernelCopyRatio runs, one line each: run, cl kernel.bn_train_fwd ms, cl kernel.bn_bwd ms, [4096,768] kernel.bn_train_fwd ms
cp=$1; out=$2; n=$3; shift 3
for i in $(seq 1 $n); do
  r=$(nice -n -10 java --add-modules jdk.incubator.vector -Xmx6g -XX:+UseTransparentHugePages "$@" -cp $cp org.norm4j.bench.KernelCopyRatio 2 2>&1)
  cl=$(echo "$r" | awk '$1=="256x28x28x64/cl" && $2=="kernel.bn_train_fwd"{print $3}')
  clb=$(echo "$r" | awk '$1=="256x28x28x64/cl" && $2=="kernel.bn_bwd"{print $3}')
  wide=$(echo "$r" | awk '$1=="4096x768" && $2=="kernel.bn_train_fwd"{print $3}')
  slow=$(awk -v a=$cl -v b=$wide 'BEGIN{print (a>5.2 || b>1.5) ? "SLOW" : ""}')
  echo "$i $cl $clb $wide $slow" >> $out
done
