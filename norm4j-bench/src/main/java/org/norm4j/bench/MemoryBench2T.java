package org.norm4j.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Copy bandwidth with two threads, each copying its own 64 MiB arrays: the machine's figure (the
 * issue's STREAM copy), against which a future two-thread kernel would be measured. The report
 * multiplies bytes per op by the thread count.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class MemoryBench2T {
    @Param({"64"})
    public int mib;

    private float[] src;
    private float[] dst;

    @Setup(Level.Trial)
    public void setup() {
        int n = mib * (1 << 20) / Float.BYTES;
        src = new float[n];
        dst = new float[n];
        Arrays.fill(src, 1.5f);
        Arrays.fill(dst, 2.5f);
    }

    @Benchmark
    public void copy(Blackhole bh) {
        System.arraycopy(src, 0, dst, 0, src.length);
        bh.consume(dst);
    }
}
