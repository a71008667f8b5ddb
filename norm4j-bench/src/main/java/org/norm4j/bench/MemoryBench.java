package org.norm4j.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * The memory bandwidth the kernels are measured against, one thread, in the same run: copy
 * ({@code System.arraycopy}, 2·N·4 bytes: read + write, STREAM's count), read (a Vector API sum
 * with four accumulators, 1·N·4) and write ({@code Arrays.fill}, 1·N·4). Arrays of 64 MiB are the
 * size of the large tensors (and may partly stay in a large L3 between calls, as the tensors do);
 * 1024 MiB are far beyond any cache. {@link AllocateBench} measures a fresh output.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class MemoryBench {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Size of each array in MiB. */
    @Param({"64", "1024"})
    public int mib;

    private float[] src;
    private float[] dst;

    @Setup(Level.Trial)
    public void setup() {
        int n = mib * (1 << 20) / Float.BYTES;
        src = new float[n];
        dst = new float[n];
        Arrays.fill(src, 1.5f);
        Arrays.fill(dst, 2.5f);   // touch every page before measuring
    }

    @Benchmark
    public void copy(Blackhole bh) {
        System.arraycopy(src, 0, dst, 0, src.length);
        bh.consume(dst);
    }

    @Benchmark
    public float read() {
        return sum(src);
    }

    @Benchmark
    public void write(Blackhole bh) {
        Arrays.fill(dst, 0.25f);
        bh.consume(dst);
    }

    static float sum(float[] a) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int step = F.length(), i = 0;
        for (int bound = a.length - 4 * step; i <= bound; i += 4 * step) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + step));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * step));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * step));
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) s += a[i];
        return s;
    }
}
