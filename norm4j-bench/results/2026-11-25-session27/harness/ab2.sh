#!/bin/bash
T=$1; S=$2; OP=$3; R=${4:-3}
for i in $(seq $R); do
  for v in old new; do
    if [ $v = old ]; then CP=/tmp/fp:/tmp/old-bench.jar; else CP=/tmp/fp:/work/main/norm4j-bench/target/benchmarks.jar; fi
    nice -n -10 java --add-modules jdk.incubator.vector -Xmx6g -XX:+UseTransparentHugePages -cp $CP org.norm4j.bench.FamPerf $T $S $OP 3 2>&1 | grep -v WARN | sed "s/^/$v T$T /"
  done
done | awk '{print $1, $2, $3, $4, $8}' | sort | awk '{k=$1" "$2" "$3" "$4; a[k]=a[k]" "$5} END {for (k in a) print k, a[k]}'
