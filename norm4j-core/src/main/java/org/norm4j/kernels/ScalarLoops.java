package org.norm4j.kernels;

/**
 * The scalar twin of {@link Loops}: plain loops, every sum accumulated in double. It is the
 * reference the vector twin is tested against, and the path every JVM without the Vector API runs.
 */
public final class ScalarLoops implements Loops {
    public static final ScalarLoops INSTANCE = new ScalarLoops();

    private ScalarLoops() {}

    @Override
    public double sum(float[] x, int xOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[xOff + i];
        return s;
    }

    @Override
    public void sumShifted(double[] acc, float[] x, int xOff, int n, float shift) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xOff + i] - shift;
            s1 += d;
            s2 += d * d;
        }
        acc[0] += s1;
        acc[1] += s2;
    }

    @Override
    public double sumSquares(float[] x, int xOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i];
            s += v * v;
        }
        return s;
    }

    @Override
    public void affine(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift) {
        for (int i = 0; i < n; i++) y[yOff + i] = (x[xOff + i] - center) * scale + shift;
    }

    @Override
    public void dotShifted(double[] acc, float[] dy, int dyOff, float[] x, int xOff, int n, float center) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double g = dy[dyOff + i];
            s1 += g;
            s2 += g * (x[xOff + i] - center);
        }
        acc[0] += s1;
        acc[1] += s2;
    }

    @Override
    public void affineBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                               float coefDy, float coefX, float center, float coefK, boolean assign) {
        for (int i = 0; i < n; i++) {
            float update = coefDy * dy[dyOff + i] + coefX * (x[xOff + i] - center) + coefK;
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    @Override
    public void sumColumns(float[] acc, int pOff, float[] x, int xOff, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0, off = xOff + r * n; i < n; i++) acc[pOff + i] += x[off + i];
        }
    }

    @Override
    public void sumShiftedColumns(double[] s1, double[] s2, int pOff, float[] x, int xOff, int rows, int n, float[] shift,
                                  float[] f1, float[] f2) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0, off = xOff + r * n; i < n; i++) {
                float d = x[off + i] - shift[pOff + i];
                f1[i] += d;
                f2[i] += d * d;
            }
        }
        addWidened(s1, pOff, f1, n);
        addWidened(s2, pOff, f2, n);
    }

    @Override
    public void affineColumns(float[] y, int yOff, float[] x, int xOff, int n, float[] center, float[] scale, float[] shift, int pOff) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = (x[xOff + i] - center[pOff + i]) * scale[pOff + i] + shift[pOff + i];
        }
    }

    @Override
    public void dotShiftedColumns(double[] s1, double[] s2, int pOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int n,
                                  float[] center, float[] f1, float[] f2) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0, off = r * n; i < n; i++) {
                float g = dy[dyOff + off + i];
                f1[i] += g;
                f2[i] += g * (x[xOff + off + i] - center[pOff + i]);
            }
        }
        addWidened(s1, pOff, f1, n);
        addWidened(s2, pOff, f2, n);
    }

    @Override
    public void addWidened(double[] s, int sOff, float[] f, int n) {
        for (int i = 0; i < n; i++) {
            s[sOff + i] += f[i];
            f[i] = 0;
        }
    }

    @Override
    public void affineBackwardColumns(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                      float[] coefDy, float[] coefX, float[] center, float[] coefK, int pOff, boolean assign) {
        for (int i = 0; i < n; i++) {
            int p = pOff + i;
            float update = coefDy[p] * dy[dyOff + i] + coefX[p] * (x[xOff + i] - center[p]) + coefK[p];
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    @Override
    public void normalizeRow(float[] y, int yOff, float[] x, int xOff, int n, float center, float invStd, float corr,
                             float[] gamma, float[] beta) {
        for (int i = 0; i < n; i++) {
            float xhat = (x[xOff + i] - center) * invStd + corr;
            float g = gamma == null ? 1f : gamma[i];
            float b = beta == null ? 0f : beta[i];
            y[yOff + i] = xhat * g + b;
        }
    }

    @Override
    public void normalizeRowPair(float[] y, int yOff, float[] x, int xOff, int n, float[] center, float[] invStd, float[] corr, int r,
                                 float[] gamma, float[] beta) {
        float c0 = center[r], s0 = invStd[r], k0 = corr[r], c1 = center[r + 1], s1 = invStd[r + 1], k1 = corr[r + 1];
        for (int i = 0; i < n; i++) {
            float g = gamma == null ? 1f : gamma[i];
            float b = beta == null ? 0f : beta[i];
            y[yOff + i] = ((x[xOff + i] - c0) * s0 + k0) * g + b;
            y[yOff + n + i] = ((x[xOff + n + i] - c1) * s1 + k1) * g + b;
        }
    }

    @Override
    public void rowBackwardSums(double[] acc, float[] dGamma, float[] dBeta, float[] dy, int dyOff, float[] x, int xOff, int n,
                                float center, float invStd, float corr, float[] gamma) {
        double g1 = 0, g2 = 0;
        for (int i = 0; i < n; i++) {
            float d = dy[dyOff + i];
            float xhat = (x[xOff + i] - center) * invStd + corr;
            double gd = gamma == null ? d : (double) gamma[i] * d;
            g1 += gd;
            g2 += gd * xhat;
            if (dGamma != null) dGamma[i] += d * xhat;
            if (dBeta != null) dBeta[i] += d;
        }
        acc[0] += g1;
        acc[1] += g2;
    }

    @Override
    public void rowBackwardSumsPair(double[] acc, float[] dGamma, float[] dBeta, float[] dy, int dyOff, float[] x, int xOff, int n,
                                    float[] center, float[] invStd, float[] corr, int r, float[] gamma) {
        double g10 = 0, g20 = 0, g11 = 0, g21 = 0;
        float c0 = center[r], s0 = invStd[r], k0 = corr[r], c1 = center[r + 1], s1 = invStd[r + 1], k1 = corr[r + 1];
        for (int i = 0; i < n; i++) {
            float d0 = dy[dyOff + i], d1 = dy[dyOff + n + i];
            float xhat0 = (x[xOff + i] - c0) * s0 + k0, xhat1 = (x[xOff + n + i] - c1) * s1 + k1;
            double gd0 = gamma == null ? d0 : (double) gamma[i] * d0, gd1 = gamma == null ? d1 : (double) gamma[i] * d1;
            g10 += gd0;
            g20 += gd0 * xhat0;
            g11 += gd1;
            g21 += gd1 * xhat1;
            if (dGamma != null) dGamma[i] = dGamma[i] + d0 * xhat0 + d1 * xhat1;
            if (dBeta != null) dBeta[i] = dBeta[i] + d0 + d1;
        }
        acc[0] += g10;
        acc[1] += g20;
        acc[2] += g11;
        acc[3] += g21;
    }

    @Override
    public void rowBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                            float invStd, float[] gamma, float coefX, float center, float coefK, boolean assign) {
        for (int i = 0; i < n; i++) {
            float a = gamma == null ? invStd : invStd * gamma[i];
            float update = a * dy[dyOff + i] + coefX * (x[xOff + i] - center) + coefK;
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    @Override
    public void rowBackwardPair(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                float[] invStd, float[] center, int r, float[] gamma, float[] coef, boolean assign) {
        float s0 = invStd[r], c0 = center[r], s1 = invStd[r + 1], c1 = center[r + 1];
        float cx0 = coef[0], ck0 = coef[1], cx1 = coef[2], ck1 = coef[3];
        for (int i = 0; i < n; i++) {
            float a0 = gamma == null ? s0 : s0 * gamma[i], a1 = gamma == null ? s1 : s1 * gamma[i];
            float u0 = a0 * dy[dyOff + i] + cx0 * (x[xOff + i] - c0) + ck0;
            float u1 = a1 * dy[dyOff + n + i] + cx1 * (x[xOff + n + i] - c1) + ck1;
            dx[dxOff + i] = assign ? u0 : dx[dxOff + i] + u0;
            dx[dxOff + n + i] = assign ? u1 : dx[dxOff + n + i] + u1;
        }
    }

    @Override
    public void sigmoid(float[] y, int yOff, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = ExpF.sigmoid(x[xOff + i]);   // the vector twin's (x − 0)·1 + 0: the same sigmoid
    }

    @Override
    public void affineSigmoid(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift) {
        for (int i = 0; i < n; i++) y[yOff + i] = ExpF.sigmoid((x[xOff + i] - center) * scale + shift);
    }

    @Override
    public void sigmoidBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = y[yOff + i];
            dx[dxOff + i] += dy[dyOff + i] * v * (1f - v);
        }
    }

    @Override
    public void avgPool2x2(float[] p, int pOff, float[] y, int yOff, int h, int w) {
        int oh = h / 2, ow = w / 2;
        for (int r = 0; r < oh; r++) avgPool2x2Row(p, pOff + r * ow, y, yOff + 2 * r * w, w, ow);
    }

    /** One output row of {@link #avgPool2x2}: {@code ow} windows of the rows at {@code top} and {@code top + w}, PyTorch's order. */
    public static void avgPool2x2Row(float[] p, int out, float[] y, int top, int w, int ow) {
        int bot = top + w;
        for (int c = 0; c < ow; c++) {
            float s = 0;
            s += y[top + 2 * c];
            s += y[top + 2 * c + 1];
            s += y[bot + 2 * c];
            s += y[bot + 2 * c + 1];
            p[out + c] = s * 0.25f;
        }
    }

    @Override
    public void sigmoidBackwardPooled2x2(float[] dPre, int dOff, float[] dPool, int pOff, float[] y, int yOff, int h, int w) {
        int oh = h / 2, ow = w / 2;
        for (int r = 0; r < h; r++) {
            sigmoidBackwardPooled2x2Row(dPre, dOff + r * w, dPool, pOff + (r / 2) * ow, y, yOff + r * w, w, r < 2 * oh ? 2 * ow : 0);
        }
    }

    /**
     * One row of {@link #sigmoidBackwardPooled2x2}: w elements at {@code row} (in dPre and y); the
     * first {@code pooled} of them in windows whose gradients start at {@code pRow}, the rest
     * (an odd last column, a row past the last window) with a zero gradient.
     */
    public static void sigmoidBackwardPooled2x2Row(float[] dPre, int dRow, float[] dPool, int pRow, float[] y, int yRow, int w, int pooled) {
        for (int c = 0; c < w; c++) {
            float g = c < pooled ? dPool[pRow + c / 2] * 0.25f : 0f;
            float v = y[yRow + c];
            dPre[dRow + c] = 0f + g * v * (1f - v);
        }
    }
}
