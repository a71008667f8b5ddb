package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.kernels.Normalization;
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
 * The batch-norm kernels of {@link Normalization} called directly, with every buffer allocated once
 * in setup: what the loops cost without the public API's allocation, cloning and tape. The
 * parameters are computed as {@code ChannelNorm} does (the per-channel arithmetic is negligible).
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

    private int a, c, b;
    private float[] x, y, dy, dx;
    private double[] mean, m2, sumDy, sumDyXc;
    private float[] center, scale, shift, coefDy, coefX, coefK;

    @Setup(Level.Trial)
    public void setup() {
        org.norm4j.kernels.Parallel.setThreads(threads);
        int[] d = Inputs.dims(shape);
        int axis = Inputs.featureAxis(shape, d);
        c = d[axis];
        a = 1;
        for (int i = 0; i < axis; i++) a *= d[i];
        b = 1;
        for (int i = axis + 1; i < d.length; i++) b *= d[i];
        int n = Inputs.size(d);
        x = Inputs.values(n, 1, 0.5f);
        dy = Inputs.values(n, 2, 0f);
        y = new float[n];
        dx = new float[n];
        mean = new double[c];
        m2 = new double[c];
        sumDy = new double[c];
        sumDyXc = new double[c];
        center = new float[c];
        scale = new float[c];
        shift = new float[c];
        coefDy = new float[c];
        coefX = new float[c];
        coefK = new float[c];
        Normalization.collectStatsChannels(mean, m2, x, 0, a, c, b);
        params();
        for (int k = 0; k < c; k++) {
            coefDy[k] = scale[k];
            coefX[k] = -1e-3f;
            coefK[k] = 1e-4f;
        }
    }

    private void params() {
        double count = (double) a * b;
        for (int k = 0; k < c; k++) {
            double inv = 1 / Math.sqrt(m2[k] / count + 1e-5);
            float mf = (float) mean[k];
            center[k] = mf;
            scale[k] = (float) inv;
            shift[k] = (float) ((mf - mean[k]) * inv);
        }
    }

    @Benchmark
    public void stats(Blackhole bh) {
        Normalization.collectStatsChannels(mean, m2, x, 0, a, c, b);
        bh.consume(m2);
    }

    @Benchmark
    public void apply(Blackhole bh) {
        Normalization.applyChannels(y, 0, x, 0, a, c, b, center, scale, shift, 0);
        bh.consume(y);
    }

    @Benchmark
    public void trainForward(Blackhole bh) {
        Normalization.collectStatsChannels(mean, m2, x, 0, a, c, b);
        params();
        Normalization.applyChannels(y, 0, x, 0, a, c, b, center, scale, shift, 0);
        bh.consume(y);
    }

    @Benchmark
    public void backward(Blackhole bh) {
        java.util.Arrays.fill(sumDy, 0);
        java.util.Arrays.fill(sumDyXc, 0);
        Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, 0, x, 0, a, c, b, center, 0);
        Normalization.backwardChannels(dx, 0, dy, 0, x, 0, a, c, b, coefDy, coefX, center, coefK, 0, true);
        bh.consume(dx);
    }
}
