package org.norm4j.bench;

import java.util.Arrays;
import java.util.Random;
import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * BatchNorm2d(64)'s training forward + backward inside a graph (between two reshapes, so that its
 * output gradient is the engine's own array and its input not a leaf), with the input gradient
 * written over the output gradient ({@link Autograd#setInPlace} on, the default) against a
 * separate array (off), in alternating rounds in one JVM: medians of each round's per-call medians
 * (the first two rounds dropped), and in how many rounds the handed array was faster. Not JMH, for
 * the reason {@link BatchNormPaths} gives. Run as {@code java --add-modules jdk.incubator.vector
 * -Xmx8g -XX:+UseTransparentHugePages -cp norm4j-bench/target/benchmarks.jar
 * org.norm4j.bench.InPlaceGrad THREADS [cl]} ({@code cl}: channels-last [256·28·28, 64];
 * docs/benchmarks.md, the twenty-fourth session).
 */
public final class InPlaceGrad {
    private InPlaceGrad() {}

    public static void main(String[] args) {
        Parallel.setThreads(args.length > 0 ? Integer.parseInt(args[0]) : 1);
        boolean cl = args.length > 1 && args[1].equals("cl");
        int[] shape = cl ? new int[] {256 * 28 * 28, 64} : new int[] {256, 64, 28, 28};
        int n = 256 * 64 * 28 * 28;
        BatchNorm bn = BatchNorm.builder(Convention.PYTORCH, 64).build();
        bn.train();
        Random r = new Random(1);
        float[] x = new float[n], dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
            dy[i] = (float) r.nextGaussian();
        }
        Tensor x0 = Tensor.wrap(x, n).requiresGrad(true);
        int rounds = 12, calls = 11;
        double[][] t = new double[2][rounds];
        boolean before = Autograd.isInPlace();
        for (int round = 0; round < rounds; round++) {
            for (int e = 0; e < 2; e++) {
                boolean on = (e == 1) ^ (round % 2 == 1);   // which goes first alternates
                Autograd.setInPlace(on);
                long[] ts = new long[calls];
                for (int i = 0; i < calls; i++) {
                    try (Workspace.Scope s = Workspace.open()) {
                        long t0 = System.nanoTime();
                        Tensor y = Pointwise.reshape(bn.forward(Pointwise.reshape(x0, shape)), n);
                        y.backward(Tensor.wrap(dy, n));
                        ts[i] = System.nanoTime() - t0;
                        x0.zeroGrad();
                    }
                }
                Arrays.sort(ts);
                t[on ? 1 : 0][round] = ts[calls / 2] / 1e6;
            }
        }
        Autograd.setInPlace(before);
        int faster = 0;
        for (int k = 2; k < rounds; k++) if (t[1][k] < t[0][k]) faster++;
        System.out.printf("%s, %d thread(s): separate %.2f ms, handed %.2f ms (handed faster in %d/%d rounds)%n",
                Arrays.toString(shape), Parallel.threads(), BatchNormPaths.median(t[0], 2), BatchNormPaths.median(t[1], 2), faster, rounds - 2);
    }
}
