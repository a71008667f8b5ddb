package org.norm4j.bench;

import java.util.Arrays;
import java.util.Random;
import org.norm4j.kernels.Normalization;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * Batch norm's two orders of work over channels-first input, in one JVM, in alternating rounds:
 * one channel at a time ({@link Normalization#setBatchPerChannelBytes} at half the L2) against the
 * two passes over the tensor in memory order (0, the default). Training-mode forward and backward
 * of BatchNorm2d, and of LeNet's second block (batch norm, sigmoid, 2×2 pooling), medians of each
 * round's per-call medians (the first two rounds dropped). The results are the same bits either way.
 * Not JMH: the two settings alternate round by round in one JVM, so that the machine's slow and
 * fast phases (docs/benchmarks.md) fall on both; JMH would run them in separate forks, minutes apart.
 * The backward's choice applies only where a channel's dy and x fit the limit and no pooling is
 * fused: [64, 64, 14, 14] and [256, 128, 14, 14] here.
 * Run as {@code java --add-modules jdk.incubator.vector -Xmx4g -cp norm4j-bench/target/benchmarks.jar
 * org.norm4j.bench.BatchNormPaths THREADS} (docs/benchmarks.md, the twenty-second session).
 */
public final class BatchNormPaths {
    private BatchNormPaths() {}

    public static void main(String[] args) {
        Parallel.setThreads(args.length > 0 ? Integer.parseInt(args[0]) : 1);
        long half = Normalization.channelCacheBytes(), before = Normalization.batchPerChannelBytes();
        int[][] shapes = {{256, 16, 8, 8}, {64, 64, 14, 14}, {256, 128, 14, 14}, {32, 64, 56, 56}};
        for (int k = 0; k < shapes.length; k++) {
            int[] sh = shapes[k];
            boolean lenet = k == 0;
            Sequential m = lenet ? new Sequential(BatchNorm.builder(Convention.PYTORCH, sh[1]).build(), new Sigmoid(), new AvgPool2d(2))
                    : new Sequential(BatchNorm.builder(Convention.PYTORCH, sh[1]).build());
            m.train();
            int n = Shape.size(sh);
            Random r = new Random(1);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
            int[] outShape = lenet ? new int[] {sh[0], sh[1], sh[2] / 2, sh[3] / 2} : sh;
            float[] dy = new float[Shape.size(outShape)];
            for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
            Tensor xt = Tensor.wrap(x, sh).requiresGrad(true);
            int calls = Math.max(30, (int) (2e8 / n / 8)), rounds = 8;
            double[][] fwd = new double[2][rounds], bwd = new double[2][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int mode = 0; mode < 2; mode++) {
                    Normalization.setBatchPerChannelBytes(mode == 0 ? half : 0);
                    long[] f = new long[calls], b = new long[calls];
                    for (int i = 0; i < calls; i++) {
                        try (Workspace.Scope s = Workspace.open()) {
                            long t0 = System.nanoTime();
                            Tensor y = m.forward(xt);
                            long t1 = System.nanoTime();
                            y.backward(Tensor.wrap(dy, outShape));
                            f[i] = t1 - t0;
                            b[i] = System.nanoTime() - t1;
                            xt.zeroGrad();
                        }
                    }
                    Arrays.sort(f);
                    Arrays.sort(b);
                    fwd[mode][round] = f[calls / 2] / 1e3;
                    bwd[mode][round] = b[calls / 2] / 1e3;
                }
            }
            StringBuilder line = new StringBuilder(Arrays.toString(sh) + (lenet ? " + sigmoid + pool" : "") + ", " + Parallel.threads()
                    + " thread(s), us:");
            for (int mode = 0; mode < 2; mode++) {
                line.append(String.format("  %s forward %.1f, backward %.1f", mode == 0 ? "per channel" : "two passes",
                        median(fwd[mode], 2), median(bwd[mode], 2)));
            }
            int fasterF = 0, fasterB = 0;
            for (int round = 2; round < rounds; round++) {
                if (fwd[1][round] < fwd[0][round]) fasterF++;
                if (bwd[1][round] < bwd[0][round]) fasterB++;
            }
            System.out.println(line + String.format("  (two passes faster in %d/%d rounds forward, %d/%d backward)",
                    fasterF, rounds - 2, fasterB, rounds - 2));
        }
        Normalization.setBatchPerChannelBytes(before);
    }

    /** The median of v[from..] (the mean of the two middle values for an even count). */
    static double median(double[] v, int from) {
        double[] s = Arrays.copyOfRange(v, from, v.length);
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
