package org.norm4j.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

class AutogradTest {

    @Test
    void gradientsAccumulateUntilZeroed() {
        LayerNorm ln = new LayerNorm(2);
        Tensor x = Tensor.of(new float[] {1, 3}, 1, 2).requiresGrad(true);
        Tensor dy = Tensor.of(new float[] {1, 0}, 1, 2);
        ln.forward(x).backward(dy);
        float[] once = x.grad().toArray();
        ln.forward(x).backward(dy);
        Check.close("second backward adds", x.grad().toArray(), new double[] {2 * once[0], 2 * once[1]}, 1e-7, 1e-6);
        x.zeroGrad();
        Check.close("zeroGrad", x.grad().toArray(), new double[] {0, 0}, 0, 0);
    }

    @Test
    void chainedOpsShareOneWalk() {
        // y = LN(LN(x)): the second LN of an already normalized row is (almost) the identity, so
        // dx equals the first LN's dx for dy; checks that gradients flow through two recorded ops.
        LayerNorm a = new LayerNorm(new int[] {3}, 0, false), b = new LayerNorm(new int[] {3}, 0, false);
        Tensor x = Tensor.of(new float[] {1, 2, 4}, 1, 3).requiresGrad(true);
        Tensor x2 = Tensor.of(new float[] {1, 2, 4}, 1, 3).requiresGrad(true);
        Tensor dy = Tensor.of(new float[] {0.3f, -1, 2}, 1, 3);
        b.forward(a.forward(x)).backward(dy);
        a.forward(x2).backward(dy);
        Check.close("LN∘LN = LN", x.grad().toArray(), x2.grad().toArray(), 1e-5, 1e-5);
    }

    /**
     * An op that assigns ({@link Node.Assigning}) is told a gradient buffer is fresh only when it is
     * the first to write into it: of two ops reading one tensor, the one the walk reaches first
     * assigns and the other adds; an op reading the same tensor twice gets no fresh buffer; a leaf's
     * gradient is fresh for the first op only, while it is None. The gradients are the sums either way.
     */
    @Test
    void onlyTheFirstGradientIntoATensorIsFresh() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor t = Tensor.wrap(new float[] {1, 2}, 2), u = Tensor.wrap(new float[] {1, 2}, 2);
        java.util.List<String> seen = new java.util.ArrayList<>();
        Node.Assigning identity = (dOut, d, fresh) -> {
            seen.add("identity " + fresh[0]);
            for (int i = 0; i < 2; i++) d[0][i] = (fresh[0] ? 0 : d[0][i]) + dOut[i];
        };
        Autograd.record(t, "t", identity, x);
        Autograd.record(u, "u", identity, x);
        Node.Assigning times2 = (dOut, d, fresh) -> {
            seen.add("times2 " + fresh[0]);
            for (int i = 0; i < 2; i++) d[0][i] = (fresh[0] ? 0 : d[0][i]) + 2 * dOut[i];
        };
        Tensor a = Tensor.wrap(new float[2], 2), b = Tensor.wrap(new float[2], 2), sq = Tensor.wrap(new float[2], 2);
        Autograd.record(a, "a", times2, t);
        Autograd.record(b, "b", times2, t);
        Autograd.record(sq, "u·u", (dOut, d, fresh) -> {   // reads u twice: d[0] and d[1] are one buffer
            seen.add("u·u " + fresh[0] + " " + fresh[1]);
            for (int i = 0; i < 2; i++) {
                d[0][i] += dOut[i] * (i + 1);
                d[1][i] += dOut[i] * (i + 1);
            }
        }, u, u);
        Tensor root = Tensor.wrap(new float[2], 2);
        Autograd.record(root, "sum", (dOut, d) -> {
            for (int k = 0; k < 3; k++) for (int i = 0; i < 2; i++) d[k][i] += dOut[i];
        }, a, b, sq);
        root.backward(Tensor.of(new float[] {1, 10}, 2));
        java.util.Collections.sort(seen);
        assertEquals(java.util.List.of("identity false", "identity true", "times2 false", "times2 true", "u·u false false"), seen);
        // d root/dx = 2 + 2 (through t) + 2·u (through u): (6, 8) per unit of dy
        Check.close("sum of the paths", x.grad().toArray(), new double[] {6, 80}, 0, 0);
    }

    /**
     * {@link Tensor#clearGrad()} is PyTorch's {@code x.grad = None}: grad() is null, zeroGrad()
     * leaves it None, and the next backward gives the gradient of that backward alone, as a new
     * tensor would get it: assigned into the kept storage by an op that assigns (a batch norm here:
     * the same bits as a new tensor's; an op that records what the engine tells it sees a fresh
     * buffer, and after zeroGrad() one to add to), added to zeros by one that does not, and added
     * to by a second op reading the tensor. The optimizer skips a parameter whose gradient is None.
     */
    @Test
    void aClearedGradientIsNoneUntilTheNextBackward() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 3);
        float[] xs = {1, 5, -2, 0.5f, 3, 4, 2, -1, 7, 0, 1, 2};
        Tensor dy = Tensor.of(new float[] {0.3f, -1, 2, 1, 0.5f, -0.25f, 4, 1, -3, 2, 2, 0.125f}, 4, 3);
        Tensor fresh = Tensor.of(xs, 4, 3).requiresGrad(true);
        bn.forward(fresh).backward(dy);
        Tensor zeroed = Tensor.of(xs, 4, 3).requiresGrad(true);   // the adding path: zeros, then +=
        bn.forward(zeroed).backward(dy);
        zeroed.zeroGrad();
        bn.forward(zeroed).backward(dy);
        Check.close("a new tensor's gradient = zeros plus it", fresh.grad().toArray(), toDouble(zeroed.grad().toArray()), 0, 0);
        Tensor x = Tensor.of(xs, 4, 3).requiresGrad(true);
        bn.forward(x).backward(dy);
        bn.forward(x).backward(dy);   // twice the gradient now
        float[] storage = x.grad().data();
        x.clearGrad();
        assertNull(x.grad());
        assertTrue(x.gradIsNone());
        x.zeroGrad();
        assertNull(x.grad(), "zeroGrad keeps a cleared gradient None");
        bn.forward(x).backward(dy);
        assertTrue(java.util.Arrays.equals(fresh.grad().toArray(), x.grad().toArray()), "assigned: a new tensor's gradient, bit for bit");
        Check.close("assigned = zeros plus it", x.grad().toArray(), toDouble(zeroed.grad().toArray()), 0, 0);
        assertTrue(storage == x.grad().data(), "the storage is kept");
        bn.forward(x).backward(dy);
        Check.close("then added to", x.grad().toArray(), twice(fresh.grad().toArray()), 1e-6, 1e-6);

        x.clearGrad();   // an op that adds (the engine's own sum at a leaf root) sees zeros
        x.backward(dy);
        Check.close("a leaf root after clearGrad", x.grad().toArray(), toDouble(dy.toArray()), 0, 0);

        x.clearGrad();   // two ops reading x: the first assigns, the second adds
        Tensor y1 = bn.forward(x), y2 = bn.forward(x);
        Tensor root = Tensor.wrap(new float[12], 4, 3);
        Autograd.record(root, "sum", (dOut, d) -> {
            for (int k = 0; k < 2; k++) for (int i = 0; i < 12; i++) d[k][i] += dOut[i];
        }, y1, y2);
        root.backward(dy);
        Check.close("two ops into a cleared gradient", x.grad().toArray(), twice(fresh.grad().toArray()), 1e-6, 1e-6);

        // the engine tells an assigning op so: fresh for a cleared gradient, not for a zeroed one
        java.util.List<Boolean> told = new java.util.ArrayList<>();
        Node.Assigning copy = (dOut, d, f) -> {
            told.add(f[0]);
            for (int i = 0; i < 12; i++) d[0][i] = (f[0] ? 0 : d[0][i]) + dOut[i];
        };
        x.clearGrad();
        Tensor c1 = Tensor.wrap(new float[12], 4, 3);
        Autograd.record(c1, "copy", copy, x);
        c1.backward(dy);
        x.zeroGrad();
        Tensor c2 = Tensor.wrap(new float[12], 4, 3);
        Autograd.record(c2, "copy", copy, x);
        c2.backward(dy);
        assertEquals(java.util.List.of(true, false), told);
        Check.close("zeroed, then added", x.grad().toArray(), toDouble(dy.toArray()), 0, 0);

        org.norm4j.nn.Parameter w = bn.weight();
        float[] before = w.data().clone();
        w.clearGrad();
        new org.norm4j.optim.SGD(java.util.List.of(w), 0.1, 0.9, 0, 0.1, false).step();
        assertTrue(java.util.Arrays.equals(before, w.data()), "a parameter whose gradient is None is skipped");
    }

    /**
     * Only an op's first input gets a fresh buffer: a weight's gradient is added into, zeros where
     * it was None or not computed before. A cleared weight gradient holds exactly the new gradient
     * (not the old one plus it), and a weight computed by another op (a reshape of a leaf here)
     * gets zeros to add into, not an uninitialized buffer: dW = dyᵀ·x, by hand.
     */
    @Test
    void weightGradientsAreAddedIntoZeros() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, -1, 0.5f, 2}, 2, 3);
        Tensor dy = Tensor.of(new float[] {1, -2, 0.5f, 3}, 2, 2);
        double[] dW = {1 * 1 + 0.5 * -1, 1 * 2 + 0.5 * 0.5, 1 * 3 + 0.5 * 2, -2 * 1 + 3 * -1, -2 * 2 + 3 * 0.5, -2 * 3 + 3 * 2};
        Tensor w = Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, 2, 3).requiresGrad(true);
        org.norm4j.ops.Dense.forward(x, w, null).backward(dy);
        org.norm4j.ops.Dense.forward(x, w, null).backward(dy);
        w.clearGrad();
        org.norm4j.ops.Dense.forward(x, w, null).backward(dy);
        Check.close("a cleared weight gradient", w.grad().toArray(), dW, 1e-6, 1e-6);

        Tensor flat = Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, 6).requiresGrad(true);
        for (int rep = 0; rep < 3; rep++) {   // the workspace's recycled arrays are not zeros
            try (var s = org.norm4j.tensor.Workspace.open()) {
                flat.clearGrad();
                Tensor wNonLeaf = org.norm4j.ops.Pointwise.reshape(flat, 2, 3);
                org.norm4j.ops.Dense.forward(x, wNonLeaf, null).backward(dy);
                Check.close("a weight computed by an op", flat.grad().toArray(), dW, 1e-6, 1e-6);
            }
        }
    }

    /**
     * Every op that assigns its input's gradient writes all of it: a cleared gradient whose kept
     * storage holds NaN comes out as the gradient added into zeros (zeroGrad), for convolutions on
     * each of their paths (direct, lanes, im2col with stride 2 and padding), pooling, the norms,
     * an activation, a linear layer and a reshape.
     */
    @Test
    void aClearedGradientIsWrittenWhole() {
        org.norm4j.tensor.Rng rng = new org.norm4j.tensor.Rng(5);
        java.util.List<org.norm4j.nn.Module> layers = java.util.List.of(
                new org.norm4j.nn.Conv2d(3, 6, 5), new org.norm4j.nn.Conv2d(3, 16, 5), new org.norm4j.nn.Conv2d(3, 4, 3, 2, 1),
                new org.norm4j.nn.MaxPool2d(2), new org.norm4j.nn.AvgPool2d(2), new org.norm4j.nn.AvgPool2d(3, 2, 1),
                BatchNorm.of(Convention.PYTORCH, 3), new LayerNorm(3, 12, 12), new org.norm4j.nn.Sigmoid(), new org.norm4j.nn.Flatten());
        for (int rep = 0; rep < 2; rep++) {
            for (org.norm4j.nn.Module m : layers) {
                float[] xs = new float[32 * 3 * 12 * 12];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.normal();
                Tensor zeroed = Tensor.of(xs, 32, 3, 12, 12).requiresGrad(true), cleared = Tensor.of(xs, 32, 3, 12, 12).requiresGrad(true);
                Tensor y = m.forward(zeroed);
                float[] dys = new float[y.size()];
                for (int i = 0; i < dys.length; i++) dys[i] = (float) rng.normal();
                Tensor dy = Tensor.wrap(dys, y.shape());
                y.backward(dy);
                zeroed.zeroGrad();
                m.forward(zeroed).backward(dy);
                m.forward(cleared).backward(dy);
                java.util.Arrays.fill(cleared.grad().data(), Float.NaN);
                cleared.clearGrad();
                m.forward(cleared).backward(dy);
                Check.close(m + " into a cleared gradient", cleared.grad().toArray(), toDouble(zeroed.grad().toArray()), 0, 0);
            }
        }
    }

    private static double[] twice(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = 2.0 * v[i];
        return d;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    @Test
    void noGradRecordsNothing() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 2);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor y;
        try (var g = Autograd.noGrad()) {
            assertFalse(Autograd.isGradEnabled());
            y = bn.forward(x);
        }
        assertTrue(Autograd.isGradEnabled());
        assertNull(y.gradFn());
        assertFalse(y.requiresGrad());
        assertThrows(IllegalStateException.class, () -> y.backward(Tensor.zeros(2, 2)));
    }

    @Test
    void aGraphIsUsedOnce() {
        LayerNorm ln = new LayerNorm(2);
        Tensor x = Tensor.of(new float[] {1, 3}, 1, 2).requiresGrad(true);
        Tensor y = ln.forward(x);
        y.backward(Tensor.of(new float[] {1, 0}, 1, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.backward(Tensor.of(new float[] {1, 0}, 1, 2)));
        assertTrue(e.getMessage().contains("LayerNorm"), e.getMessage());
    }

    @Test
    void gradientShapeMustMatch() {
        Tensor y = new LayerNorm(2).forward(Tensor.of(new float[] {1, 3}, 1, 2).requiresGrad(true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.zeros(2, 1)));
        assertTrue(e.getMessage().contains("[2, 1]") && e.getMessage().contains("[1, 2]"), e.getMessage());
    }

    @Test
    void frozenParametersGetNoGradient() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 2).trainable(false);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 5}, 2, 2).requiresGrad(true);
        bn.forward(x).backward(Tensor.of(new float[] {1, 1, 0, 1}, 2, 2));
        assertNull(bn.weight().grad());
        assertNull(bn.bias().grad());
        assertEquals(4, x.grad().size());
    }
}
