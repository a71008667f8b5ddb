package org.norm4j.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.norm4j.tensor.Tensor;

/**
 * Shapes as JMH parameters and the inputs built from them. A shape is written {@code 256x64x28x28};
 * the suffix {@code /cl} marks a channels-last tensor ({@code 256x28x28x64/cl}: features on the last
 * axis). The same strings are the keys of tools/bench_pytorch.py, so the report can pair the runs.
 */
final class Inputs {
    private Inputs() {}

    static boolean channelsLast(String shape) {
        return shape.endsWith("/cl");
    }

    static int[] dims(String shape) {
        String s = channelsLast(shape) ? shape.substring(0, shape.length() - 3) : shape;
        return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    static int size(int[] dims) {
        long n = 1;
        for (int d : dims) n *= d;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too large: " + Arrays.toString(dims));
        return (int) n;
    }

    /** The feature axis: 1 for channels-first (and rank 2), the last for channels-last. */
    static int featureAxis(String shape, int[] dims) {
        return channelsLast(shape) ? dims.length - 1 : 1;
    }

    /** PyTorch's batch norm over the shape's feature axis ({@link #featureAxis}), as every batch-norm benchmark builds it. */
    static org.norm4j.nn.norm.BatchNorm batchNorm(String shape) {
        int[] d = dims(shape);
        int axis = featureAxis(shape, d);
        return org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, d[axis]).axis(axis == 1 ? 1 : -1).build();
    }

    /** Deterministic values of mean {@code mean} and spread about 1 (fixed seed per shape). */
    static float[] values(int n, long seed, float mean) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // sum of two uniforms: triangular on [-1, 1), cheap and non-degenerate
            v[i] = mean + (float) (r.nextDouble() + r.nextDouble() - 1.0) * 1.7f;
        }
        return v;
    }

    static Tensor tensor(int[] dims, long seed, float mean) {
        return Tensor.wrap(values(size(dims), seed, mean), dims);
    }

    /** Every axis but the first: the normalized shape of layer and RMS norm in these benchmarks. */
    static int[] trailing(int[] dims) {
        return Arrays.copyOfRange(dims, 1, dims.length);
    }

    /** Sets the gradients of x and of m's parameters to None, as tools/bench_pytorch.py does PyTorch's before each call. */
    static void clearGrads(Tensor x, org.norm4j.nn.Module m) {
        x.clearGrad();
        for (org.norm4j.nn.Parameter p : m.parameters()) p.clearGrad();
    }

    /**
     * What every normalization benchmark feeds its layer: x (seed 1, mean 0.5), the same values as
     * a leaf that requires grad, and dy (seed 2, mean 0); forward runs under {@code noGrad},
     * forward + backward into the leaf and the layer's parameters, their gradients cleared before
     * each call ({@code Tensor.clearGrad}) as tools/bench_pytorch.py sets PyTorch's to None: the
     * backward writes dx, it does not add to the previous call's. Both run in a
     * {@link org.norm4j.tensor.Workspace} scope, as {@code Trainer} runs a step: the outputs and
     * gradients reuse the previous call's arrays, so the figure is the kernels' and not the
     * allocator's (a call outside a scope also pays a fresh output: AllocateBench).
     */
    @SuppressWarnings("try")   // the noGrad() scope is used for its effect only
    static final class Operands {
        final Tensor x;
        final Tensor xGrad;
        final Tensor dy;

        Operands(int[] dims) {
            float[] xs = values(size(dims), 1, 0.5f);
            x = Tensor.wrap(xs, dims);
            xGrad = Tensor.wrap(xs, dims).requiresGrad(true);
            dy = tensor(dims, 2, 0f);
        }

        void forward(org.norm4j.nn.Module m, org.openjdk.jmh.infra.Blackhole bh) {
            bh.consume(forward(m));
        }

        /** The output (its array the workspace's: valid until the next call). */
        Tensor forward(org.norm4j.nn.Module m) {
            try (var s = org.norm4j.tensor.Workspace.open(); var g = org.norm4j.autograd.Autograd.noGrad()) {
                return m.forward(x);
            }
        }

        void forwardBackward(org.norm4j.nn.Module m, org.openjdk.jmh.infra.Blackhole bh) {
            bh.consume(forwardBackward(m));
        }

        /** The output, after its backward into x and m's parameters. */
        Tensor forwardBackward(org.norm4j.nn.Module m) {
            clearGrads(xGrad, m);
            try (var s = org.norm4j.tensor.Workspace.open()) {
                Tensor y = m.forward(xGrad);
                y.backward(dy);
                return y;
            }
        }
    }
}
