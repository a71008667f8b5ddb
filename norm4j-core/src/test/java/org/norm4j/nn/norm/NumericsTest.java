package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.GradCheck;

/**
 * Equivalences within the family (GN(1) = LN, GN(C) = IN), awkward sizes against a plain
 * double-precision reference, a constant channel, and a channel with mean 1e4 and spread 1e-2.
 */
class NumericsTest {
    final Random rnd = new Random(7);

    @Test
    void groupNormWithOneGroupIsLayerNormOverCHW() {
        Tensor x = GradCheck.random(rnd, 3, 4, 5, 2);
        Tensor x2 = Tensor.of(x.toArray(), x.shape()).requiresGrad(true);
        GroupNorm gn = new GroupNorm(1, 4);
        LayerNorm ln = new LayerNorm(4, 5, 2);
        Tensor a = gn.forward(x), b = ln.forward(x2);
        Check.close("GN(1) = LN forward", a.toArray(), b.toArray(), 1e-6, 1e-6);
        Tensor dy = GradCheck.random(rnd, 3, 4, 5, 2);
        a.backward(dy);
        b.backward(dy);
        Check.close("GN(1) = LN dx", x.grad().toArray(), x2.grad().toArray(), 1e-5, 1e-5);
    }

    @Test
    void groupNormWithOneChannelPerGroupIsInstanceNorm() {
        Tensor x = GradCheck.random(rnd, 2, 3, 4, 5);
        Tensor x2 = Tensor.of(x.toArray(), x.shape()).requiresGrad(true);
        GroupNorm gn = new GroupNorm(3, 3);
        InstanceNorm in = new InstanceNorm(3, 1e-5, 0.1, true, false);
        GradCheck.randomize(rnd, gn.weight(), 1, 0.3);
        GradCheck.randomize(rnd, gn.bias(), 0, 0.3);
        in.weight().copyFrom(gn.weight());
        in.bias().copyFrom(gn.bias());
        Tensor a = gn.forward(x), b = in.forward(x2);
        Check.close("GN(C) = IN forward", a.toArray(), b.toArray(), 0, 0);
        Tensor dy = GradCheck.random(rnd, 2, 3, 4, 5);
        a.backward(dy);
        b.backward(dy);
        Check.close("GN(C) = IN dx", x.grad().toArray(), x2.grad().toArray(), 0, 0);
        Check.close("GN(C) = IN dweight", gn.weight().grad().toArray(), in.weight().grad().toArray(), 0, 0);
        Check.close("GN(C) = IN dbias", gn.bias().grad().toArray(), in.bias().grad().toArray(), 0, 0);
    }

    /** Training BN over [A, C, B] against the textbook formulas in double, for sizes around the vector widths. */
    @Test
    void awkwardSizesAgainstDoubleReference() {
        int[] sizes = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 97};
        for (int a : new int[] {1, 2, 3}) {
            for (int b : sizes) {
                if (a * b < 2) continue;
                checkBatchNorm(new int[] {a, 3, b}, 1);
                checkBatchNorm(new int[] {a, b, 2}, 1);    // b channels (a channels-first run of 2)
                checkBatchNorm(new int[] {a * 2, b}, -1);  // channels-last rows of b
                checkLayerNorm(a, b);
            }
        }
        checkBatchNorm(new int[] {1031, 5}, -1);  // several chunks in the channels-last reduction
        checkBatchNorm(new int[] {2, 3, 4099}, 1);
    }

    private void checkBatchNorm(int[] shape, int axis) {
        int ax = axis < 0 ? shape.length + axis : axis;
        int C = shape[ax];
        BatchNorm bn = BatchNorm.builder(Convention.PYTORCH, C).axis(axis).build();
        GradCheck.randomize(rnd, bn.weight(), 1, 0.3);
        GradCheck.randomize(rnd, bn.bias(), 0, 0.3);
        Tensor x = GradCheck.random(rnd, shape);
        Tensor dy = GradCheck.random(rnd, shape);
        Tensor y = bn.forward(x);
        y.backward(dy);
        int A = 1, B = 1;
        for (int i = 0; i < ax; i++) A *= shape[i];
        for (int i = ax + 1; i < shape.length; i++) B *= shape[i];
        double[][] ref = referenceBatchNorm(x.data(), dy.data(), A, C, B, bn.weight().data(), bn.bias().data(), 1e-5);
        String label = "BN " + java.util.Arrays.toString(shape) + " axis " + axis;
        Check.close(label + " y", y.toArray(), ref[0], 2e-6, 2e-6);
        Check.close(label + " dx", x.grad().toArray(), ref[1], 1e-5, 1e-5);
        Check.close(label + " dgamma", bn.weight().grad().toArray(), ref[2], 1e-5, 1e-5);
        Check.close(label + " dbeta", bn.bias().grad().toArray(), ref[3], 1e-5, 1e-5);
    }

    /** {y, dx, dGamma, dBeta} of training-mode BN, plain loops in double. */
    static double[][] referenceBatchNorm(float[] x, float[] dy, int A, int C, int B, float[] gamma, float[] beta, double eps) {
        double[] y = new double[x.length], dx = new double[x.length], dg = new double[C], db = new double[C];
        double n = (double) A * B;
        for (int c = 0; c < C; c++) {
            double mean = 0, var = 0;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) mean += x[(a * C + c) * B + b];
            mean /= n;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) { double d = x[(a * C + c) * B + b] - mean; var += d * d; }
            var /= n;
            double inv = 1 / Math.sqrt(var + eps), sdy = 0, sdyx = 0;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) {
                int i = (a * C + c) * B + b;
                double xhat = (x[i] - mean) * inv;
                y[i] = gamma[c] * xhat + beta[c];
                sdy += dy[i];
                sdyx += dy[i] * xhat;
            }
            dg[c] = sdyx;
            db[c] = sdy;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) {
                int i = (a * C + c) * B + b;
                double xhat = (x[i] - mean) * inv;
                dx[i] = gamma[c] * inv * (dy[i] - sdy / n - xhat * sdyx / n);
            }
        }
        return new double[][] {y, dx, dg, db};
    }

    private void checkLayerNorm(int rows, int len) {
        LayerNorm ln = new LayerNorm(len);
        GradCheck.randomize(rnd, ln.weight(), 1, 0.3);
        GradCheck.randomize(rnd, ln.bias(), 0, 0.3);
        Tensor x = GradCheck.random(rnd, rows, len);
        Tensor y = ln.forward(x);
        double[] want = new double[x.size()];
        float[] xv = x.data(), g = ln.weight().data(), b = ln.bias().data();
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < len; i++) mean += xv[r * len + i] / (double) len;
            for (int i = 0; i < len; i++) var += Math.pow(xv[r * len + i] - mean, 2) / len;
            for (int i = 0; i < len; i++) want[r * len + i] = (xv[r * len + i] - mean) / Math.sqrt(var + 1e-5) * g[i] + b[i];
        }
        Check.close("LN [" + rows + "," + len + "] y", y.toArray(), want, 2e-6, 2e-6);
    }

    /** A constant channel has variance 0: the output is beta, and the gradients stay finite. */
    @Test
    void constantChannel() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 2);
        bn.bias().copyFrom(new float[] {0.5f, -1f});
        float[] v = {5, 1, 5, 2, 5, 3, 5, 4};
        Tensor x = Tensor.of(v, 4, 2).requiresGrad(true);
        Tensor y = bn.forward(x);
        float[] out = y.toArray();
        for (int a = 0; a < 4; a++) assertTrue(out[a * 2] == 0.5f, "constant channel gives beta, got " + out[a * 2]);
        y.backward(Tensor.of(new float[] {1, 0, -1, 0, 2, 0, 0, 0}, 4, 2));
        for (float g : x.grad().toArray()) assertTrue(Float.isFinite(g), "finite gradient");
        Check.close("var-0 running var (unbiased)", bn.runningVar().toArray(), new double[] {0.9, 0.9 + 0.1 * 5 / 3.0}, 1e-6, 1e-6);
    }

    /**
     * Mean 1e4, standard deviation 1e-2: norm4j normalizes at float rounding; the one-pass
     * E[x²] − E[x]² in float (what a naive kernel does) and PyTorch's folded x·a + b do not.
     */
    @Test
    void largeMeanTinySpread() {
        int n = 4096;
        float[] v = new float[n * 2];
        for (int i = 0; i < n; i++) {
            v[2 * i] = (float) (1e4 + 1e-2 * rnd.nextGaussian());
            v[2 * i + 1] = (float) rnd.nextGaussian();
        }
        double[][] ref = referenceBatchNorm(v, new float[v.length], n, 2, 1, new float[] {1, 1}, new float[2], 1e-5);
        for (String name : new String[] {"BatchNorm", "LayerNorm", "InstanceNorm"}) {
            float[] got;
            double[] want;
            if (name.equals("BatchNorm")) {
                got = BatchNorm.of(Convention.PYTORCH, 2).forward(Tensor.of(v, n, 2)).toArray();
                want = ref[0];
            } else {
                float[] ch0 = new float[n];
                for (int i = 0; i < n; i++) ch0[i] = v[2 * i];
                got = name.equals("LayerNorm") ? new LayerNorm(n).forward(Tensor.of(ch0, 1, n)).toArray()
                        : new InstanceNorm(1).forward(Tensor.of(ch0, 1, 1, n)).toArray();
                want = new double[n];
                for (int i = 0; i < n; i++) want[i] = ref[0][2 * i];
            }
            Check.close(name + " at mean 1e4, std 1e-2", got, want, 2e-6, 2e-6);
        }
        // The naive alternatives, to show the test has teeth.
        float s = 0, s2 = 0;
        for (int i = 0; i < n; i++) { s += v[2 * i]; s2 += v[2 * i] * v[2 * i]; }
        float mean = s / n, naiveVar = s2 / n - mean * mean;
        double m = meanOf(v, n), trueVar = 0;
        for (int i = 0; i < n; i++) trueVar += Math.pow(v[2 * i] - m, 2) / n;
        assertTrue(Math.abs(naiveVar - trueVar) > 10 * trueVar, "naive E[x²]−E[x]² in float is far off: " + naiveVar + " vs " + trueVar);
        double inv = 1 / Math.sqrt(trueVar + 1e-5);
        float a = (float) inv, b = (float) (-m * inv);
        double worst = 0;
        for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs((v[2 * i] * a + b) - ref[0][2 * i]));
        assertTrue(worst > 1e-3, "folded x·a + b loses accuracy at mean 1e4: " + worst);
    }

    private static double meanOf(float[] v, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[2 * i];
        return s / n;
    }
}
