package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ExpF} and the sigmoid of both {@link Loops} twins against {@link Math#exp} in double: the
 * exponential within 2 ulp over its whole range, the sigmoid within 3 ulp of the exact
 * value (plus the flush below e^−87), the special values, and the two twins bit for bit.
 */
class SigmoidTest {

    private static double ulps(float actual, double exact) {
        return Math.abs(actual - exact) / Math.ulp((float) exact);
    }

    @Test
    void expWithinTwoUlpOverItsRange() {
        double worst = 0;
        float at = 0;
        for (float t = 0f; t >= ExpF.LO; t = Math.nextDown(t - Math.abs(t) * 1e-4f)) {   // ~2e5 points, dense near 0
            double u = ulps(ExpF.expNonPositive(t), Math.exp(t));
            if (u > worst) {
                worst = u;
                at = t;
            }
        }
        assertTrue(worst <= 2, "exp: worst " + worst + " ulp at t = " + at);
        assertEquals(1f, ExpF.expNonPositive(0f));
        assertEquals(1f, ExpF.expNonPositive(-0f));
        assertEquals(0f, ExpF.expNonPositive(-87.5f));
        assertEquals(0f, ExpF.expNonPositive(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(ExpF.expNonPositive(Float.NaN)));
    }

    @ParameterizedTest
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sigmoidAgainstDouble(String name) {
        Loops l = Twins.get(name);
        Random r = new Random(7);
        int n = 100_003;
        float[] x = new float[n + 3], y = new float[n + 5];
        for (int i = 0; i < n; i++) x[3 + i] = (float) (r.nextGaussian() * (i % 3 == 0 ? 40 : 4));
        l.sigmoid(y, 5, x, 3, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double exact = 1 / (1 + Math.exp(-(double) x[3 + i]));
            float got = y[5 + i];
            if (x[3 + i] < ExpF.LO) {   // e^x below e^−87 is flushed: sigmoid(x) = 0 there
                assertTrue(got == 0f, name + ": sigmoid(" + x[3 + i] + ") = " + got);
                continue;
            }
            double u = ulps(got, exact);
            if (u > worst) worst = u;
            if (u > 3) fail(name + ": sigmoid(" + x[3 + i] + ") = " + got + ", exact " + exact + " (" + u + " ulp)");
        }
        System.out.println("SigmoidTest " + name + ": worst " + worst + " ulp over " + n + " values");
    }

    /**
     * affineSigmoid (the batch norm's apply and the sigmoid in one pass) equals affine then sigmoid
     * bit for bit on runs around the vector length (its last vector overlaps the one before), at
     * offsets, writing nothing outside the run; the in-place sigmoid equals the out-of-place one.
     */
    @ParameterizedTest
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineSigmoidIsAffineThenSigmoid(String name) {
        Loops l = Twins.get(name);
        Random r = new Random(11);
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 31, 33, 100, 784}) {
            float[] x = new float[n + 6];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 30);
            float center = 0.7f, scale = 0.3f, shift = -0.2f;
            float[] expected = new float[n + 9], actual = new float[n + 9];
            java.util.Arrays.fill(actual, -5f);
            java.util.Arrays.fill(expected, -5f);
            l.affine(expected, 4, x, 3, n, center, scale, shift);
            l.sigmoid(expected, 4, expected, 4, n);   // in place
            l.affineSigmoid(actual, 4, x, 3, n, center, scale, shift);
            for (int i = 0; i < actual.length; i++) {
                if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                    fail(name + " n=" + n + ": element " + i + " " + actual[i] + ", affine then sigmoid gives " + expected[i]);
                }
            }
            float[] outOfPlace = new float[n + 4];
            l.sigmoid(outOfPlace, 4, x, 3, n);
            float[] inPlace = x.clone();
            l.sigmoid(inPlace, 3, inPlace, 3, n);
            for (int i = 0; i < n; i++) {
                assertTrue(Float.floatToIntBits(outOfPlace[4 + i]) == Float.floatToIntBits(inPlace[3 + i]), name + " n=" + n + ": in place differs at " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.norm4j.kernels.Twins#names")
    void specialValues(String name) {
        Loops l = Twins.get(name);
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -100f, 88f, -88f, 17f, -17f,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 1e-30f, -1e-30f, 0.5f};
        float[] y = new float[x.length];
        l.sigmoid(y, 0, x, 0, x.length);   // 17 values: one vector of 16 lanes and a tail of 1
        assertTrue(Float.isNaN(y[0]), "NaN");
        assertEquals(1f, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(0.5f, y[3]);
        assertEquals(0.5f, y[4]);
        assertEquals(1f, y[5]);
        assertEquals(0f, y[6]);
        assertEquals(1f, y[7]);
        assertEquals(0f, y[8]);
        assertEquals((float) (1 / (1 + Math.exp(-17.0))), y[9], Math.ulp(1f));
        assertEquals(1 / (1 + Math.exp(17.0)), y[10], 2 * Math.ulp((float) (1 / (1 + Math.exp(17.0)))));
        assertEquals(1f, y[11]);
        assertEquals(0f, y[12]);
        assertEquals(0.5f, y[13]);
        assertEquals(0.5f, y[14]);
        assertEquals(0.5f, y[15]);
        assertEquals((float) (1 / (1 + Math.exp(-0.5))), y[16], Math.ulp(0.6f));
    }

    @Test
    void twinsBitIdentical() {
        Assumptions.assumeTrue(Loops.vector() != null, "jdk.incubator.vector is not in the boot layer");
        Random r = new Random(11);
        for (int n : new int[] {0, 1, 15, 16, 17, 33, 1000, 4099}) {
            float[] x = new float[n], dy = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (r.nextGaussian() * 30);
                dy[i] = (float) r.nextGaussian();
            }
            if (n > 3) {
                x[0] = Float.NaN;
                x[1] = Float.NEGATIVE_INFINITY;
                x[2] = -90f;
            }
            float[] ys = new float[n], yv = new float[n];
            Loops.scalar().sigmoid(ys, 0, x, 0, n);
            Loops.vector().sigmoid(yv, 0, x, 0, n);
            float[] ds = new float[n], dv = new float[n];
            for (int i = 0; i < n; i++) ds[i] = dv[i] = 0.25f * i;
            Loops.scalar().sigmoidBackward(ds, 0, dy, 0, ys, 0, n);
            Loops.vector().sigmoidBackward(dv, 0, dy, 0, ys, 0, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(ys[i]), Float.floatToIntBits(yv[i]), "sigmoid n=" + n + " i=" + i + " x=" + x[i]);
                assertEquals(Float.floatToIntBits(ds[i]), Float.floatToIntBits(dv[i]), "backward n=" + n + " i=" + i);
                double expected = 0.25 * i + (double) dy[i] * ys[i] * (1 - ys[i]);
                if (!Float.isNaN(ys[i])) assertEquals(expected, ds[i], 1e-6 * (Math.abs(expected) + 1), "backward value i=" + i);
            }
        }
    }
}
