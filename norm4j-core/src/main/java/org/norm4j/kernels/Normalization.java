package org.norm4j.kernels;

/**
 * The normalization kernels, over one view of the input: {@code x[a, c, b]} with {@code A} = the
 * product of the axes before the feature axis, {@code C} the feature axis, {@code B} the product
 * of the axes after it; the run {@code (a, c)} is B contiguous floats at {@code (a·C + c)·B}.
 *
 * <p>Three phases, three families of functions:
 * <ul>
 *   <li>collect statistics: per channel over A×B ({@link #collectStatsChannels}, batch norm) or
 *       per contiguous row ({@link #collectStatsRows}: instance, group, layer norm);</li>
 *   <li>apply: {@code y = (x − center)·scale + shift} with per-run parameters
 *       ({@link #applyChannels}) or per-row statistics and per-element affine ({@link #applyRows});</li>
 *   <li>backward: the sums Σdy and Σdy·(x − center) in one pass, then
 *       {@code dx += coefDy·dy + coefX·(x − center) + coefK} in a second.</li>
 * </ul>
 * Per-run parameters live at index {@code a·pStride + c}: {@code pStride = 0} shares them across
 * a (batch norm), {@code pStride = C} gives each (a, c) its own (instance and group norm).
 *
 * <p>Statistics are exact to double rounding for any mean: a first pass estimates the mean, a
 * second accumulates Σd and Σd² of d = x − shift with the shift rounded to float (so d is exact
 * for x near the mean), and mean = shift + Σd/n, m2 = Σd² − (Σd)²/n (the corrected two-pass
 * algorithm). Channels-last input (B = 1) is reduced in fixed chunks of rows merged with Chan's
 * formula, so the result does not depend on how the work is split.
 *
 * <p>Pure functions: no allocation beyond small per-channel scratch, no validation beyond asserts.
 * Large calls run on {@link Parallel}'s threads in tasks fixed by the shape (channels, images or
 * rows of about {@value #TASK_ELEMENTS} elements), each statistic summed by one task in the serial
 * order: the results are the same bits on any number of threads.
 */
public final class Normalization {
    /** Rows per chunk in the channels-last reduction: fixed, so results never depend on threads. */
    static final int ROWS_PER_CHUNK = 256;
    /** Elements per parallel task: enough that a task outweighs handing it to another thread. */
    static final long TASK_ELEMENTS = 1 << 16;

    private Normalization() {}

    private static Loops loops() {
        return Loops.get();
    }

    // ---- collect statistics --------------------------------------------------------------

    /** mean[c], m2[c] over all (a, b) of channel c; count = A·B. */
    public static void collectStatsChannels(double[] mean, double[] m2, float[] x, int xOff, int A, int C, int B) {
        Loops l = loops();
        if (B == 1) {
            collectStatsColumns(l, mean, m2, x, xOff, A, C);
            return;
        }
        double n = (double) A * B;
        // one task per channel group: each channel's sums run in the same order on any thread count
        Parallel.forRange(C, Parallel.grain((long) A * B, TASK_ELEMENTS), (c0, c1) -> {
            double[] acc = new double[2];
            for (int c = c0; c < c1; c++) {
                double s = 0;
                for (int a = 0; a < A; a++) s += l.sum(x, xOff + (a * C + c) * B, B);
                float shift = (float) (s / n);
                acc[0] = 0;
                acc[1] = 0;
                for (int a = 0; a < A; a++) l.sumShifted(acc, x, xOff + (a * C + c) * B, B, shift);
                mean[c] = shift + acc[0] / n;
                m2[c] = Math.max(0, acc[1] - acc[0] * acc[0] / n);
            }
        });
    }

    /** Channels-last reduction: per column over rows, chunk by chunk, chunks merged (Chan). */
    private static void collectStatsColumns(Loops l, double[] mean, double[] m2, float[] x, int xOff, int rows, int C) {
        double[] s1 = new double[C], s2 = new double[C];
        float[] shift = new float[C];
        long total = 0;
        for (int r0 = 0; r0 < rows; r0 += ROWS_PER_CHUNK) {
            int r1 = Math.min(rows, r0 + ROWS_PER_CHUNK);
            int nb = r1 - r0;
            java.util.Arrays.fill(s1, 0);
            for (int r = r0; r < r1; r++) l.sumColumns(s1, 0, x, xOff + r * C, C);
            for (int c = 0; c < C; c++) shift[c] = (float) (s1[c] / nb);
            java.util.Arrays.fill(s1, 0);
            java.util.Arrays.fill(s2, 0);
            for (int r = r0; r < r1; r++) l.sumShiftedColumns(s1, s2, 0, x, xOff + r * C, C, shift);
            for (int c = 0; c < C; c++) {
                double meanB = shift[c] + s1[c] / nb;
                double m2B = Math.max(0, s2[c] - s1[c] * s1[c] / nb);
                if (total == 0) {
                    mean[c] = meanB;
                    m2[c] = m2B;
                } else {
                    double na = total, n = na + nb, delta = meanB - mean[c];
                    mean[c] += delta * (nb / n);
                    m2[c] += m2B + delta * delta * (na * nb / n);
                }
            }
            total += nb;
        }
    }

    /** mean[r], m2[r] of each contiguous row r of {@code len} floats. */
    public static void collectStatsRows(double[] mean, double[] m2, float[] x, int xOff, int rows, int len) {
        Loops l = loops();
        Parallel.forRange(rows, Parallel.grain(len, TASK_ELEMENTS), (r0, r1) -> {
            double[] acc = new double[2];
            for (int r = r0; r < r1; r++) {
                int off = xOff + r * len;
                float shift = (float) (l.sum(x, off, len) / len);
                acc[0] = 0;
                acc[1] = 0;
                l.sumShifted(acc, x, off, len, shift);
                mean[r] = shift + acc[0] / len;
                m2[r] = Math.max(0, acc[1] - acc[0] * acc[0] / len);
            }
        });
    }

    /** meanSquare[r] = Σ x² / len of each contiguous row (RMS norm). */
    public static void collectMeanSquaresRows(double[] meanSquare, float[] x, int xOff, int rows, int len) {
        Loops l = loops();
        for (int r = 0; r < rows; r++) meanSquare[r] = l.sumSquares(x, xOff + r * len, len) / len;
    }

    // ---- apply ---------------------------------------------------------------------------

    /** y[a,c,b] = (x[a,c,b] − center[p])·scale[p] + shift[p], p = a·pStride + c. y may be x. */
    public static void applyChannels(float[] y, int yOff, float[] x, int xOff, int A, int C, int B,
                                     float[] center, float[] scale, float[] shift, int pStride) {
        Loops l = loops();
        if (B == 1) {
            for (int a = 0; a < A; a++) l.affineColumns(y, yOff + a * C, x, xOff + a * C, C, center, scale, shift, a * pStride);
            return;
        }
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    l.affine(y, yOff + off, x, xOff + off, B, center[p], scale[p], shift[p]);
                }
            }
        });
    }

    /** y[r,i] = ((x[r,i] − center[r])·invStd[r] + corr[r])·gamma[i] + beta[i]; gamma/beta may be null. */
    public static void applyRows(float[] y, int yOff, float[] x, int xOff, int rows, int len,
                                 float[] center, float[] invStd, float[] corr, float[] gamma, float[] beta) {
        Loops l = loops();
        Parallel.forRange(rows, Parallel.grain(len, TASK_ELEMENTS), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                l.normalizeRow(y, yOff + r * len, x, xOff + r * len, len, center[r], invStd[r], corr[r], gamma, beta);
            }
        });
    }

    // ---- backward ------------------------------------------------------------------------

    /** sumDy[p] += Σ dy; sumDyXc[p] += Σ dy·(x − center[p]), over the runs (a, c) with p = a·pStride + c. */
    public static void backwardSumsChannels(double[] sumDy, double[] sumDyXc, float[] dy, int dyOff, float[] x, int xOff,
                                            int A, int C, int B, float[] center, int pStride) {
        Loops l = loops();
        if (B == 1) {
            for (int a = 0; a < A; a++) {
                l.dotShiftedColumns(sumDy, sumDyXc, a * pStride, dy, dyOff + a * C, x, xOff + a * C, C, center);
            }
            return;
        }
        // tasks own disjoint p: channel groups when the parameters are shared across a (batch norm),
        // groups of a otherwise; each p's terms are added in a's order either way
        boolean shared = pStride == 0;
        int n = shared ? C : A;
        long perIndex = shared ? (long) A * B : (long) C * B;
        Parallel.forRange(n, Parallel.grain(perIndex, TASK_ELEMENTS), (i0, i1) -> {
            double[] acc = new double[2];
            int aLo = shared ? 0 : i0, aHi = shared ? A : i1, cLo = shared ? i0 : 0, cHi = shared ? i1 : C;
            for (int a = aLo; a < aHi; a++) {
                for (int c = cLo; c < cHi; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    acc[0] = 0;
                    acc[1] = 0;
                    l.dotShifted(acc, dy, dyOff + off, x, xOff + off, B, center[p]);
                    sumDy[p] += acc[0];
                    sumDyXc[p] += acc[1];
                }
            }
        });
    }

    /** dx[a,c,b] += coefDy[p]·dy + coefX[p]·(x − center[p]) + coefK[p], p = a·pStride + c. */
    public static void backwardChannels(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int A, int C, int B,
                                        float[] coefDy, float[] coefX, float[] center, float[] coefK, int pStride) {
        Loops l = loops();
        if (B == 1) {
            for (int a = 0; a < A; a++) {
                int off = a * C;
                l.affineBackwardColumns(dx, dxOff + off, dy, dyOff + off, x, xOff + off, C, coefDy, coefX, center, coefK, a * pStride);
            }
            return;
        }
        Parallel.forRange(A, Parallel.grain((long) C * B, TASK_ELEMENTS), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    int p = a * pStride + c, off = (a * C + c) * B;
                    l.affineBackward(dx, dxOff + off, dy, dyOff + off, x, xOff + off, B, coefDy[p], coefX[p], center[p], coefK[p]);
                }
            }
        });
    }

    /**
     * Row backward sums: g1[r] = Σ gamma·dy, g2[r] = Σ gamma·dy·xhat per row; dGamma[i] += Σ_r dy·xhat,
     * dBeta[i] += Σ_r dy (either may be null).
     */
    public static void backwardSumsRows(double[] g1, double[] g2, double[] dGamma, double[] dBeta, float[] dy, int dyOff,
                                        float[] x, int xOff, int rows, int len,
                                        float[] center, float[] invStd, float[] corr, float[] gamma) {
        Loops l = loops();
        double[] acc = new double[2];
        for (int r = 0; r < rows; r++) {   // serial: dGamma and dBeta sum over rows
            acc[0] = 0;
            acc[1] = 0;
            l.rowBackwardSums(acc, dGamma, dBeta, dy, dyOff + r * len, x, xOff + r * len, len, center[r], invStd[r], corr[r], gamma);
            g1[r] = acc[0];
            g2[r] = acc[1];
        }
    }

    /** dx[r,i] += invStd[r]·gamma[i]·dy + coefX[r]·(x − center[r]) + coefK[r]. */
    public static void backwardRows(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int len,
                                    float[] invStd, float[] gamma, float[] coefX, float[] center, float[] coefK) {
        Loops l = loops();
        Parallel.forRange(rows, Parallel.grain(len, TASK_ELEMENTS), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * len;
                l.rowBackward(dx, dxOff + off, dy, dyOff + off, x, xOff + off, len, invStd[r], gamma, coefX[r], center[r], coefK[r]);
            }
        });
    }
}
