package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.kernels.Parallel;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The copy each normalization kernel is held against: one tensor of the kernel's own shape copied
 * into another ({@code System.arraycopy} over {@link Parallel}'s tasks of 2¹⁶ floats) on the same
 * number of threads. Same size, same cache, same threads: a kernel at 100% of this moves its
 * model's bytes as fast as a copy of its input does. Byte model 2·N·4 (STREAM's count).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class CopyBench {
    @Param({"256x64x28x28", "4096x768"})
    public String shape;

    /** norm4j's kernel threads ({@link Parallel}). */
    @Param({"1", "2"})
    public int threads;

    private float[] src;
    private float[] dst;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        int n = Inputs.size(Inputs.dims(shape));
        src = Inputs.values(n, 1, 0.5f);
        dst = new float[n];
    }

    @Benchmark
    public void copy(Blackhole bh) {
        bh.consume(copy(src, dst));
    }

    /** src into dst ({@code System.arraycopy} over {@link Parallel}'s tasks of 2¹⁶ floats); returns dst. */
    static float[] copy(float[] src, float[] dst) {
        Parallel.forRange(src.length, 1 << 16, (lo, hi) -> System.arraycopy(src, lo, dst, lo, hi - lo));
        return dst;
    }
}
