package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Loops#avgPool2x2} and {@link Loops#sigmoidBackwardPooled2x2} of both twins, plane by plane,
 * on shapes around the vector length (fewer outputs than a vector, a whole number of vectors, one
 * over), odd rows and columns, and LeNet's planes, each at an offset inside a larger array:
 * <ul>
 *   <li>the pooling equals, bit for bit, PyTorch's loop written here in float
 *       ({@code s = 0; s += each of the window's four elements in row order; s·0.25}), and is within
 *       three float roundings of the window's mean in double;</li>
 *   <li>the backward equals, bit for bit, the pooling's backward (each element of a window gets
 *       0.25 of its gradient, 0 outside every window) followed by the sigmoid's backward into
 *       zeros ({@code 0 + g·y·(1 − y)}), and is within three roundings of the product in double;</li>
 *   <li>nothing outside the plane's output is written, and the twins agree bit for bit (including a
 *       zero's sign: −0 inputs pool to +0, as the loop that starts from 0 gives).</li>
 * </ul>
 */
class PoolLoopsTest {
    private static final int[][] PLANES = {
        {2, 2}, {3, 3}, {4, 4}, {2, 34}, {6, 10}, {8, 8}, {8, 9}, {9, 8}, {10, 10}, {11, 13}, {12, 12}, {28, 28}, {29, 27}, {1, 6}, {6, 1},
        {4, 64}, {6, 32}, {8, 16}, {5, 18}, {4, 30}, {16, 16}, {14, 14}, {30, 30}, {2, 16}, {4, 17}, {3, 40},
        {16, 8}, {12, 8}, {17, 8}, {6, 4}, {16, 4},   // rows of half a vector (8 floats on AVX-512, 4 on AVX2): row pairs four at a time
    };
    /** Floats after the plane in each array: none (a load past the plane would leave the array), and more than a vector. */
    private static final int[] SLACK = {0, 20};
    private static final int OFF = 5, P_OFF = 3;
    private static final double U = 0x1p-24;

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void avgPool2x2(String name) {
        Loops l = Twins.get(name);
        for (int[] hw : PLANES) for (int slack : SLACK) {
            int h = hw[0], w = hw[1], oh = h / 2, ow = w / 2;
            Random r = new Random(31L * h + w);
            float[] y = new float[OFF + h * w + slack];
            for (int i = 0; i < y.length; i++) y[i] = (float) r.nextGaussian();
            y[OFF] = -0f;   // the first window all −0: the loop from 0 gives +0
            if (w > 1) y[OFF + 1] = -0f;
            if (h > 1) {
                y[OFF + w] = -0f;
                if (w > 1) y[OFF + w + 1] = -0f;
            }
            float[] p = new float[P_OFF + oh * ow + slack];
            java.util.Arrays.fill(p, 7f);
            l.avgPool2x2(p, P_OFF, y, OFF, h, w);
            String label = name + " " + h + "x" + w + " (" + slack + " after)";
            for (int i = 0; i < p.length; i++) {
                if (i >= P_OFF && i < P_OFF + oh * ow) continue;
                assertEquals(7f, p[i], label + ": wrote outside the output at " + i);
            }
            for (int rr = 0; rr < oh; rr++) {
                for (int c = 0; c < ow; c++) {
                    int a = OFF + 2 * rr * w + 2 * c;
                    float s = 0;
                    s += y[a];
                    s += y[a + 1];
                    s += y[a + w];
                    s += y[a + w + 1];
                    float expected = s * 0.25f, actual = p[P_OFF + rr * ow + c];
                    if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
                        fail(String.format("%s: output (%d, %d) %.9g, PyTorch's loop gives %.9g", label, rr, c, actual, expected));
                    }
                    double exact = ((double) y[a] + y[a + 1] + y[a + w] + y[a + w + 1]) / 4;
                    double mag = (Math.abs(y[a]) + Math.abs(y[a + 1]) + Math.abs(y[a + w]) + Math.abs(y[a + w + 1])) / 4;
                    if (!(Math.abs(actual - exact) <= 3 * U * mag)) fail(label + ": output (" + rr + ", " + c + ") " + actual + " vs mean " + exact);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sigmoidBackwardPooled2x2(String name) {
        Loops l = Twins.get(name);
        for (int[] hw : PLANES) for (int slack : SLACK) {
            int h = hw[0], w = hw[1], oh = h / 2, ow = w / 2;
            Random r = new Random(17L * h + w);
            float[] y = new float[OFF + h * w + slack], dPool = new float[P_OFF + oh * ow + slack];
            for (int i = 0; i < y.length; i++) y[i] = ExpF.sigmoid((float) (3 * r.nextGaussian()));
            y[OFF] = 1f;   // a saturated output: g·1·0
            for (int i = 0; i < dPool.length; i++) dPool[i] = (float) r.nextGaussian();
            float[] d = new float[OFF + 2 + h * w + slack];
            java.util.Arrays.fill(d, Float.NaN);   // assigned: the old contents are never read
            l.sigmoidBackwardPooled2x2(d, OFF + 2, dPool, P_OFF, y, OFF, h, w);
            String label = name + " " + h + "x" + w + " (" + slack + " after)";
            for (int i = 0; i < d.length; i++) {
                if (i >= OFF + 2 && i < OFF + 2 + h * w) continue;
                if (!Float.isNaN(d[i])) fail(label + ": wrote outside the plane at " + i);
            }
            float[] spread = new float[h * w];   // the pooling's backward into zeros
            for (int rr = 0; rr < oh; rr++) {
                for (int c = 0; c < ow; c++) {
                    float g = dPool[P_OFF + rr * ow + c] * 0.25f;
                    for (int k = 0; k < 4; k++) spread[(2 * rr + k / 2) * w + 2 * c + k % 2] += g;
                }
            }
            for (int i = 0; i < h * w; i++) {
                float v = y[OFF + i], expected = 0f;
                expected += spread[i] * v * (1f - v);
                float actual = d[OFF + 2 + i];
                if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
                    fail(String.format("%s: element %d %.9g, the pooling's and the sigmoid's backward give %.9g", label, i, actual, expected));
                }
                double exact = (double) spread[i] * v * (1.0 - v);
                if (!(Math.abs(actual - exact) <= 3 * U * Math.abs(exact))) fail(label + ": element " + i + " " + actual + " vs " + exact);
            }
        }
    }
}
