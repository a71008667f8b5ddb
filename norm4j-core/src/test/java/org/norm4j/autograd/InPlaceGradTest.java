package org.norm4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Normalization;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.InstanceNorm;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

/**
 * {@link Node.InPlace}: the engine hands an op dOut's own array as its input's gradient only where
 * dOut is the engine's (not the caller's seed), the input is not a leaf, gets its first gradient
 * there and has dOut's length; and the normalizations that accept it give the gradients of a
 * separate buffer, bit for bit, and the finite differences' values.
 */
class InPlaceGradTest {

    /** An identity op whose backward notes whether it was handed dOut itself, then assigns or adds dOut. */
    private static Tensor probe(Tensor x, boolean inPlace, boolean[] handed) {
        return probe(x, inPlace, handed, new float[2][]);
    }

    /** The same, keeping the arrays it was given: seen[0] = dOut, seen[1] = its input's gradient. */
    private static Tensor probe(Tensor x, boolean inPlace, boolean[] handed, float[][] seen) {
        Tensor y = Tensor.wrap(x.data(), x.shape());
        Node.Assigning back = (dOut, d, fresh) -> {
            handed[0] = d[0] == dOut;
            seen[0] = dOut;
            seen[1] = d[0];
            for (int i = 0; i < dOut.length; i++) d[0][i] = fresh[0] ? dOut[i] : d[0][i] + dOut[i];
        };
        if (inPlace) Autograd.recordInPlace(y, "Probe", back::apply, x);
        else Autograd.record(y, "Probe", back, x);
        return y;
    }

    /** The gradient leaving the second probe (x0 → reshape → probe → probe → root), and whether the second probe (root's op) and the first were handed dOut. */
    private static boolean[] handedDOut(boolean firstInPlace, boolean secondInPlace, boolean viaLeaf, int[] rootShape) {
        boolean[] first = new boolean[1], second = new boolean[1];
        Tensor x0 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor x = viaLeaf ? x0 : Pointwise.reshape(x0, 3, 2);   // a leaf, or computed from one
        Tensor h = probe(x, firstInPlace, first);
        Tensor y = probe(h, secondInPlace, second);
        Tensor root = rootShape == null ? y : Pointwise.reshape(y, rootShape);
        float[] seed = {0.5f, -1, 2, 0.25f, 3, -4};
        float[] keep = seed.clone();
        root.backward(Tensor.of(seed, root.shape()));
        assertArrayEquals(keep, seed, 0f, "the seed is the caller's: never written");
        assertArrayEquals(keep, x0.grad().toArray(), 0f, "identities pass the seed through");
        return new boolean[] {first[0], second[0]};
    }

    @Test
    void onlyAnInPlaceOpWhoseDOutIsTheEnginesAndWhoseInputIsNotALeafIsHandedDOut() {
        // root = reshape(probe2(probe1(reshape(x0)))): probe2's dOut is the root reshape's gradient
        // buffer (the engine's), probe1's is probe2's input gradient; both inputs are non-leaves
        boolean[] h = handedDOut(true, true, false, new int[] {6});
        assertTrue(h[1], "probe2: the engine's dOut, a non-leaf input of its length");
        assertTrue(h[0], "probe1: the array handed down again");
        // probe2 is the root's op: its dOut is the caller's seed
        h = handedDOut(true, true, false, null);
        assertFalse(h[1], "the seed is never handed on");
        assertTrue(h[0], "probe1's dOut is probe2's fresh buffer");
        // probe1's input is a leaf: its gradient is the leaf's own buffer
        h = handedDOut(true, true, true, new int[] {6});
        assertTrue(h[1]);
        assertFalse(h[0], "a leaf keeps its own gradient buffer");
        // an op that does not allow it
        h = handedDOut(false, false, false, new int[] {6});
        assertFalse(h[0]);
        assertFalse(h[1]);
        // an op whose input is longer than its output, and one that reads its input twice
        Tensor x0 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 6).requiresGrad(true);
        Tensor x = Pointwise.reshape(x0, 2, 3);
        boolean[] shorter = new boolean[1], twice = new boolean[1];
        Tensor half = Tensor.of(new float[] {1, 2, 3}, 3);
        Autograd.recordInPlace(half, "FirstHalf", (dOut, d, fresh) -> {
            shorter[0] = d[0] == dOut;
            for (int i = 0; i < 6; i++) d[0][i] = (fresh[0] ? 0 : d[0][i]) + (i < 3 ? dOut[i] : 0);
        }, x);
        Tensor x2 = Pointwise.reshape(x0, 6), sq = Tensor.of(new float[] {1, 4, 9, 16, 25, 36}, 6);
        Autograd.recordInPlace(sq, "Product", (dOut, d, fresh) -> {
            twice[0] = d[0] == dOut || d[1] == dOut;
            for (int i = 0; i < 6; i++) d[0][i] += dOut[i] * x0.data()[i] + dOut[i] * x0.data()[i];
        }, x2, x2);
        Pointwise.reshape(half, 3).backward(Tensor.of(new float[] {1, 1, 1}, 3));
        assertFalse(shorter[0], "dOut shorter than the input is not handed");
        assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0}, x0.grad().toArray(), 0f);
        x0.zeroGrad();
        Pointwise.reshape(sq, 6).backward(Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 6));
        assertFalse(twice[0], "an input that is also another input of the op is not handed");
        assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, x0.grad().toArray(), 0f);
        // switched off
        boolean before = Autograd.setInPlace(false);
        try {
            h = handedDOut(true, true, false, new int[] {6});
            assertFalse(h[0]);
            assertFalse(h[1]);
        } finally {
            Autograd.setInPlace(before);
        }
    }

    /** A second gradient into the same input adds to the handed array: x used by two probes whose sum is the root. */
    @Test
    void aSecondGradientIntoTheInputAddsToTheHandedArray() {
        boolean[] a = new boolean[1], b = new boolean[1];
        Tensor x0 = Tensor.of(new float[] {1, 2, 3, 4}, 4).requiresGrad(true);
        Tensor x = Pointwise.reshape(x0, 2, 2);
        Tensor y1 = Pointwise.reshape(probe(x, true, a), 4), y2 = Pointwise.reshape(probe(x, true, b), 4);
        Tensor s = Tensor.wrap(new float[] {0, 0, 0, 0}, 4);
        float[] sd = s.data();
        for (int i = 0; i < 4; i++) sd[i] = y1.data()[i] + y2.data()[i];
        Autograd.record(s, "Add", (dOut, d) -> {
            for (int i = 0; i < dOut.length; i++) {
                d[0][i] += dOut[i];
                d[1][i] += dOut[i];
            }
        }, y1, y2);
        Tensor root = Pointwise.reshape(s, 2, 2);
        root.backward(Tensor.of(new float[] {1, -2, 3, 0.5f}, 2, 2));
        assertTrue(a[0] != b[0], "the probe that ran first was handed its dOut, the other added");
        assertArrayEquals(new float[] {2, -4, 6, 1}, x0.grad().toArray(), 0f);
    }

    /** A normalization between two reshapes (so its dOut is the engine's and its input a non-leaf), with its parameters. */
    private record Case(String label, Module module, int[] shape, boolean eval) {
        Case(String label, Module module, int[] shape) {
            this(label, module, shape, false);
        }
    }

    /** Small cases (the finite differences take them all) and, with {@code large}, shapes whose passes split into several tasks and take the paths of long rows. */
    private static List<Case> cases(boolean large) {
        List<Case> c = new ArrayList<>();
        if (large) {
            c.add(new Case("BatchNorm2d [8, 16, 32, 32]", BatchNorm.builder(Convention.PYTORCH, 16).build(), new int[] {8, 16, 32, 32}));
            c.add(new Case("BatchNorm2d eval", BatchNorm.builder(Convention.PYTORCH, 16).build(), new int[] {8, 16, 32, 32}, true));
            c.add(new Case("BatchNorm1d [2048, 64]", BatchNorm.builder(Convention.PYTORCH, 64).build(), new int[] {2048, 64}));
            c.add(new Case("BatchNorm1d [4096, 32]", BatchNorm.builder(Convention.PYTORCH, 32).build(), new int[] {4096, 32}));
            c.add(new Case("InstanceNorm2d [2, 2, 256, 256]", new InstanceNorm(2, 1e-5, 0.1, true, false), new int[] {2, 2, 256, 256}));
            c.add(new Case("GroupNorm [2, 4, 256, 256]", new GroupNorm(2, 4), new int[] {2, 4, 256, 256}));
            c.add(new Case("LayerNorm [24, 4096]", new LayerNorm(4096), new int[] {24, 4096}));
            c.add(new Case("LayerNorm [300, 700]", new LayerNorm(700), new int[] {300, 700}));
            return c;
        }
        c.add(new Case("BatchNorm2d", BatchNorm.builder(Convention.PYTORCH, 3).build(), new int[] {4, 3, 5, 5}));
        c.add(new Case("BatchNorm2d+ReLU", BatchNorm.builder(Convention.PYTORCH, 3).activation(Activation.RELU).build(), new int[] {4, 3, 5, 5}));
        c.add(new Case("BatchNorm2d+sigmoid", BatchNorm.builder(Convention.PYTORCH, 3).activation(Activation.SIGMOID).build(), new int[] {4, 3, 5, 5}));
        c.add(new Case("BatchNorm1d", BatchNorm.builder(Convention.PYTORCH, 6).build(), new int[] {7, 6}));
        c.add(new Case("BatchNorm1d+sigmoid", BatchNorm.builder(Convention.PYTORCH, 70).activation(Activation.SIGMOID).build(), new int[] {40, 70}));
        c.add(new Case("InstanceNorm2d", new InstanceNorm(3, 1e-5, 0.1, true, false), new int[] {2, 3, 4, 4}));
        c.add(new Case("GroupNorm", new GroupNorm(2, 4), new int[] {3, 4, 3, 3}));
        c.add(new Case("LayerNorm", new LayerNorm(10), new int[] {6, 10}));
        c.add(new Case("RMSNorm", new RMSNorm(10), new int[] {6, 10}));
        return c;
    }

    private static List<Case> concat(List<Case> a, List<Case> b) {
        List<Case> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static Function<Tensor, Tensor> between(Case k) {
        int size = Shape.size(k.shape());
        return t -> Pointwise.reshape(k.module().forward(Pointwise.reshape(t, k.shape())), size);
    }

    /**
     * x's, gamma's and beta's gradients through the case (x → reshape → probe → norm → probe →
     * reshape), in one list; whether the norm was handed its dOut (the probe before it sees as its
     * dOut the array the probe after it wrote its gradient into) into handed[0].
     */
    private static List<float[]> grads(Case k, float[] x, float[] seed, boolean[] handed) {
        Tensor xt = Tensor.of(x.clone(), x.length).requiresGrad(true);
        for (Parameter p : k.module().parameters()) p.zeroGrad();
        float[][] before = new float[2][], after = new float[2][];
        Tensor in = probe(Pointwise.reshape(xt, k.shape()), true, new boolean[1], before);
        Tensor out = Pointwise.reshape(probe(k.module().forward(in), true, new boolean[1], after), x.length);
        out.backward(Tensor.of(seed.clone(), seed.length));
        handed[0] = before[0] == after[1];
        List<float[]> g = new ArrayList<>();
        g.add(xt.grad().toArray());
        for (Parameter p : k.module().parameters()) g.add(p.grad().toArray());
        return g;
    }

    @Test
    void normalizationsGiveASeparateBuffersGradientsBitForBit() {
        Random r = new Random(11);
        long perChannelBefore = Normalization.batchPerChannelBytes();
        int threadsBefore = Parallel.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                for (long perChannel : new long[] {0, 1L << 20}) {   // batch norm's two passes, and channel by channel
                    Parallel.setThreads(threads);
                    Normalization.setBatchPerChannelBytes(perChannel);
                    for (Case k : concat(cases(false), cases(true))) {
                        if (k.eval()) k.module().eval();
                        else k.module().train();
                        int n = Shape.size(k.shape());
                        float[] x = new float[n], seed = new float[n];
                        for (int i = 0; i < n; i++) {
                            x[i] = (float) (r.nextGaussian() * 2 + 0.5);
                            seed[i] = (float) r.nextGaussian();
                        }
                        boolean before = Autograd.setInPlace(false);
                        List<float[]> separate;
                        boolean[] was = new boolean[1];
                        try {
                            separate = grads(k, x, seed, was);
                        } finally {
                            Autograd.setInPlace(before);
                        }
                        assertFalse(was[0], k.label() + ": handed dOut while switched off");
                        List<float[]> handed = grads(k, x, seed, was);
                        assertTrue(was[0], k.label() + ": the norm was handed its dOut");
                        assertEquals(separate.size(), handed.size());
                        for (int j = 0; j < separate.size(); j++) {
                            assertArrayEquals(separate.get(j), handed.get(j), 0f,
                                    k.label() + " gradient " + j + ", " + threads + " thread(s), per-channel limit " + perChannel);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
            Normalization.setBatchPerChannelBytes(perChannelBefore);
        }
    }

    @Test
    void normalizationsHandedDOutMatchFiniteDifferences() {
        Random r = new Random(5);
        for (Case k : cases(false)) {
            if (k.label().contains("ReLU")) continue;   // its kink within a step of some inputs
            k.module().train();
            int n = Shape.size(k.shape());
            Tensor x = GradCheck.random(r, n).requiresGrad(true);
            GradCheck.check(k.label() + " handed dOut", between(k), x, k.module().parameters().toArray(new Tensor[0]));
        }
    }
}
