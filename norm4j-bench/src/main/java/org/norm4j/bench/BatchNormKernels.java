package org.norm4j.bench;

import org.norm4j.kernels.Normalization;

/**
 * The batch-norm kernels of {@link Normalization} over one shape, every buffer allocated once:
 * what {@link BatchNormKernelBench} times and {@link KernelCopyRatio} holds against a copy. The
 * parameters are computed as {@code ChannelNorm} does (the per-channel arithmetic is negligible);
 * dx is assigned, as BatchNorm's backward writes the gradient of an input computed by another op.
 */
final class BatchNormKernels {
    final int a, c, b;
    final float[] x, y, dy, dx;
    final double[] mean, m2, sumDy, sumDyXc;
    private final float[] center, scale, shift, coefDy, coefX, coefK;

    BatchNormKernels(String shape) {
        int[] d = Inputs.dims(shape);
        int axis = Inputs.featureAxis(shape, d);
        int aa = 1, bb = 1;
        for (int i = 0; i < axis; i++) aa *= d[i];
        for (int i = axis + 1; i < d.length; i++) bb *= d[i];
        a = aa;
        c = d[axis];
        b = bb;
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

    /** Byte model 1·N·4 (read x). */
    double[] stats() {
        Normalization.collectStatsChannels(mean, m2, x, 0, a, c, b);
        return m2;
    }

    /** Byte model 2·N·4 (read x, write y). */
    float[] apply() {
        Normalization.applyChannels(y, 0, x, 0, a, c, b, center, scale, shift, 0);
        return y;
    }

    /** Byte model 2·N·4: the statistics, then the apply. */
    float[] trainForward() {
        Normalization.collectStatsChannels(mean, m2, x, 0, a, c, b);
        params();
        return apply();
    }

    /** Byte model 3·N·4 (read dy and x, write dx) for the dx pass; the sums before it read dy and x once more. */
    float[] backward() {
        java.util.Arrays.fill(sumDy, 0);
        java.util.Arrays.fill(sumDyXc, 0);
        Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, 0, x, 0, a, c, b, center, 0);
        Normalization.backwardChannels(dx, 0, dy, 0, x, 0, a, c, b, coefDy, coefX, center, coefK, 0, true);
        return dx;
    }
}
