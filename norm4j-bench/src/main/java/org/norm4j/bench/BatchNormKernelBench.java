package org.norm4j.bench;

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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The batch-norm kernels of {@link org.norm4j.kernels.Normalization} called directly ({@link BatchNormKernels}), with
 * every buffer allocated once in setup: what the loops cost without the public API's allocation,
 * cloning and tape. The parameters are computed as {@code ChannelNorm} does (the per-channel
 * arithmetic is negligible).
 *
 * <p>Byte model: {@code stats} 1·N·4 (read x), {@code apply} 2·N·4 (read x, write y),
 * {@code trainForward} 2·N·4 (statistics then apply), {@code backward} 3·N·4 (read dy and x, write dx)
 * for the dx pass; the sums before it read dy and x once more (5·N·4 actually moved). dx is assigned,
 * as BatchNorm's backward writes the gradient of an input computed by another op (a convolution's
 * output in a network) or of a leaf whose gradient is None.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class BatchNormKernelBench {
    @Param({"256x6x24x24", "256x64x28x28", "256x28x28x64/cl", "4096x768"})
    public String shape;

    /** norm4j's kernel threads ({@link org.norm4j.kernels.Parallel}); 2 is the machine's cores. */
    @Param({"1", "2"})
    public int threads;

    private BatchNormKernels k;

    @Setup(Level.Trial)
    public void setup() {
        org.norm4j.kernels.Parallel.setThreads(threads);
        k = new BatchNormKernels(shape);
    }

    @Benchmark
    public void stats(Blackhole bh) {
        bh.consume(k.stats());
    }

    @Benchmark
    public void apply(Blackhole bh) {
        bh.consume(k.apply());
    }

    @Benchmark
    public void trainForward(Blackhole bh) {
        bh.consume(k.trainForward());
    }

    @Benchmark
    public void backward(Blackhole bh) {
        bh.consume(k.backward());
    }
}
