package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Ops handed the same storage twice: the results are those of distinct copies, on any number of threads. */
class AliasingTest {

    /**
     * y = x·Wᵀ with x the weight itself: dW = dy·W (as x) + dyᵀ·W (as the weight), both added into
     * one gradient buffer. Checked against a double-precision reference on two threads, where the
     * backward's two products would otherwise run at once.
     */
    @Test
    void denseWithTheWeightAsInputAddsBothGradients() {
        int n = 96;   // square, and above Dense.SPLIT_ROWS: the forward splits the batch too
        Random r = new Random(7);
        float[] w = new float[n * n], dy = new float[n * n];
        for (int i = 0; i < w.length; i++) { w[i] = (float) r.nextGaussian(); dy[i] = (float) r.nextGaussian(); }
        double[] want = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += (double) dy[i * n + k] * w[k * n + j] + (double) dy[k * n + i] * w[k * n + j];
                want[i * n + j] = s;
            }
        }
        int before = Parallel.threads();
        Parallel.setThreads(2);
        try {
            for (int rep = 0; rep < 20; rep++) {   // a race shows as a lost update on some repetition
                Tensor wt = Tensor.of(w.clone(), n, n).requiresGrad(true);
                Tensor y = Dense.forward(wt, wt, null);
                y.backward(Tensor.of(dy.clone(), n, n));
                float[] got = wt.grad().data();
                for (int i = 0; i < got.length; i++) {
                    assertTrue(Math.abs(got[i] - want[i]) <= 1e-3 * (1 + Math.abs(want[i])),
                            "dW[" + i + "] = " + got[i] + ", want " + want[i] + " (repetition " + rep + ")");
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** In-place output and fused pooling are refused together, before anything is written. */
    @Test
    void inPlacePooledNormIsRefusedAndLeavesTheInputAlone() {
        float[] xd = new float[2 * 3 * 4 * 4];
        for (int i = 0; i < xd.length; i++) xd[i] = i * 0.25f - 3;
        float[] copy = xd.clone();
        Tensor x = Tensor.of(xd, 2, 3, 4, 4);
        double[] mean = {0.5, -1, 2}, invStd = {1, 0.5, 2};
        ChannelNorm.Layout layout = new ChannelNorm.Layout(2, 3, 16, 0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                ChannelNorm.forward(x, null, null, layout, mean, invStd, false, Activation.SIGMOID, true, true));
        assertTrue(e.getMessage().contains("[2, 3, 4, 4]"), e.getMessage());
        assertArrayEquals(copy, x.data(), "x untouched");
    }
}
