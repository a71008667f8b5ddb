package org.norm4j.kernels;

/**
 * The inner loops of every normalization kernel, over one contiguous run of floats. Two twins
 * implement it with the same arithmetic: {@link ScalarLoops} (always available, accumulates in
 * double) and {@code org.norm4j.kernels.vector.VectorLoops} (Vector API lanes, float within a
 * bounded chunk folded into double). {@link #get()} picks the vector twin when the
 * {@code jdk.incubator.vector} module is present and {@code -Dnorm4j.scalar=true} is not set.
 *
 * <p>Conventions: outputs first, then inputs, each array followed by its offset, then sizes. The
 * "columns" variants take one parameter per element of the run (channels-last rows); the plain
 * variants take scalars (one channel's contiguous run).
 */
public interface Loops {

    /** Σ x[i]. */
    double sum(float[] x, int xOff, int n);

    /** acc[0] += Σ (x[i] − shift); acc[1] += Σ (x[i] − shift)². */
    void sumShifted(double[] acc, float[] x, int xOff, int n, float shift);

    /** Σ x[i]². */
    double sumSquares(float[] x, int xOff, int n);

    /** y[i] = (x[i] − center)·scale + shift. {@code y} may be {@code x} (in place). */
    void affine(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift);

    /** acc[0] += Σ dy[i]; acc[1] += Σ dy[i]·(x[i] − center). */
    void dotShifted(double[] acc, float[] dy, int dyOff, float[] x, int xOff, int n, float center);

    /** dx[i] += coefDy·dy[i] + coefX·(x[i] − center) + coefK. */
    default void affineBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                float coefDy, float coefX, float center, float coefK) {
        affineBackward(dx, dxOff, dy, dyOff, x, xOff, n, coefDy, coefX, center, coefK, false);
    }

    /** The same, or with {@code assign} dx[i] = that update (dx's old contents unread: a fresh gradient buffer). */
    void affineBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                        float coefDy, float coefX, float center, float coefK, boolean assign);

    /**
     * acc[p+i] += Σ_r x[r·n + i] over {@code rows} contiguous rows of n, in float. The "columns" sums
     * accumulate in float, one float addition per element in row order in both twins
     * (bit-identical); callers fold them into double every {@link Normalization#FOLD_ROWS} rows, so
     * each float sum has at most that many terms.
     */
    void sumColumns(float[] acc, int pOff, float[] x, int xOff, int rows, int n);

    /**
     * One fold of {@code rows} rows (at most {@code Normalization.FOLD_ROWS}): d = x[r·n + i] −
     * shift[p+i] (float); each column's Σ d and Σ d·d (a product, then a sum: no fma) in float from
     * zero in row order, then added to s1[p+i] and s2[p+i] in double. f1 and f2 are n floats of
     * scratch (index i), zero on entry and left zero. Bit-identical in both twins.
     */
    void sumShiftedColumns(double[] s1, double[] s2, int pOff, float[] x, int xOff, int rows, int n, float[] shift,
                           float[] f1, float[] f2);

    /** s[sOff+i] += f[i] in double, then f[i] = 0, for i in [0, n): a fold of float sums. Bit-identical in both twins. */
    void addWidened(double[] s, int sOff, float[] f, int n);

    /** y[i] = (x[i] − center[p+i])·scale[p+i] + shift[p+i]. */
    void affineColumns(float[] y, int yOff, float[] x, int xOff, int n, float[] center, float[] scale, float[] shift, int pOff);

    /**
     * {@link #affineColumns} of {@code rows} consecutive rows of n, all with the parameters at 0:
     * y[r·n+i] = (x[r·n+i] − center[i])·scale[i] + shift[i]. The vector twin keeps short rows'
     * parameters in registers and makes one call of the whole range instead of one per row.
     */
    default void affineRows(float[] y, int yOff, float[] x, int xOff, int rows, int n, float[] center, float[] scale, float[] shift) {
        for (int r = 0, off = 0; r < rows; r++, off += n) affineColumns(y, yOff + off, x, xOff + off, n, center, scale, shift, 0);
    }

    /**
     * One fold of {@code rows} rows of n (dy and x alike), as {@link #sumShiftedColumns}: each
     * column's Σ dy and Σ dy·(x − center[p+i]) in float (product, then sum) from zero, then added
     * to s1[p+i] and s2[p+i] in double; f1, f2 scratch as there.
     */
    void dotShiftedColumns(double[] s1, double[] s2, int pOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int n,
                           float[] center, float[] f1, float[] f2);

    /** dx[i] += coefDy[p+i]·dy[i] + coefX[p+i]·(x[i] − center[p+i]) + coefK[p+i]. */
    default void affineBackwardColumns(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                       float[] coefDy, float[] coefX, float[] center, float[] coefK, int pOff) {
        affineBackwardColumns(dx, dxOff, dy, dyOff, x, xOff, n, coefDy, coefX, center, coefK, pOff, false);
    }

    /** The same, or with {@code assign} dx[i] = that update. */
    void affineBackwardColumns(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                               float[] coefDy, float[] coefX, float[] center, float[] coefK, int pOff, boolean assign);

    /**
     * {@link #affineBackwardColumns} of {@code rows} consecutive rows of n, all with the
     * coefficients at 0, as {@link #affineRows} is of {@link #affineColumns}: the vector twin keeps
     * the coefficients of rows of exactly four vectors in registers and makes one call of the
     * whole range.
     */
    default void affineBackwardRows(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int n,
                                    float[] coefDy, float[] coefX, float[] center, float[] coefK, boolean assign) {
        for (int r = 0, off = 0; r < rows; r++, off += n) {
            affineBackwardColumns(dx, dxOff + off, dy, dyOff + off, x, xOff + off, n, coefDy, coefX, center, coefK, 0, assign);
        }
    }

    /**
     * One row of LayerNorm/RMSNorm: y[i] = ((x[i] − center)·invStd + corr)·gamma[i] + beta[i];
     * gamma/beta null mean 1/0.
     */
    void normalizeRow(float[] y, int yOff, float[] x, int xOff, int n, float center, float invStd, float corr,
                      float[] gamma, float[] beta);

    /**
     * {@link #normalizeRow} of two rows, row r at xOff → yOff and row r + 1 at xOff + n → yOff + n,
     * with their parameters at r and r + 1 of center, invStd and corr: the same float operations per
     * element (the same bits as two calls), gamma and beta read once for both rows. They are as long
     * as a row, hundreds of KB for a layer norm over [C, H, W], and fall out of L2 between rows.
     */
    void normalizeRowPair(float[] y, int yOff, float[] x, int xOff, int n, float[] center, float[] invStd, float[] corr, int r,
                          float[] gamma, float[] beta);

    /**
     * Backward sums of one row, with xhat[i] = (x[i] − center)·invStd + corr in float (as
     * {@link #normalizeRow} computes it) and g[i] = gamma[i] (1 if null): acc[0] += Σ g·dy;
     * acc[1] += Σ g·dy·xhat (a reduction); dGamma[i] += dy·xhat and dBeta[i] += dy in float, the same
     * bits in both twins (each array may be null; callers fold them into double every
     * {@link Normalization#FOLD_ROWS} rows).
     */
    void rowBackwardSums(double[] acc, float[] dGamma, float[] dBeta, float[] dy, int dyOff, float[] x, int xOff, int n,
                         float center, float invStd, float corr, float[] gamma);

    /**
     * {@link #rowBackwardSums} of two rows, row r at dyOff and xOff and row r + 1 at dyOff + n and
     * xOff + n, with their parameters at r and r + 1 of center, invStd and corr: acc[0], acc[1] as
     * row r's call adds them, acc[2], acc[3] as row r + 1's. dGamma and dBeta get row r's term and
     * then row r + 1's, the float operations of the two calls in their order (the same bits), in one
     * read and write of them instead of two: the arrays are as long as a row, and a layer norm over
     * [C, H, W] makes them hundreds of KB (200 KB each for [64, 28, 28]) that no longer stay in L2
     * beside the rows.
     */
    void rowBackwardSumsPair(double[] acc, float[] dGamma, float[] dBeta, float[] dy, int dyOff, float[] x, int xOff, int n,
                             float[] center, float[] invStd, float[] corr, int r, float[] gamma);

    /**
     * dx[i] += invStd·gamma[i]·dy[i] + coefX·(x[i] − center) + coefK (gamma null means 1); with
     * {@code assign}, dx[i] = the same update (dx's contents are not read: a fresh gradient buffer).
     */
    void rowBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                     float invStd, float[] gamma, float coefX, float center, float coefK, boolean assign);

    /**
     * {@link #rowBackward} of one row, then {@link #rowBackwardSums} of the next row (dy at
     * nextDyOff, x at nextXOff, its center, invStd and corr; the same gamma, acc, dGamma and dBeta):
     * the same bits as the two calls, in one loop in the vector twin (the next row streams in while
     * this one's dx is computed).
     */
    default void rowBackwardThenSums(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n, float invStd,
                                     float[] gamma, float coefX, float center, float coefK, boolean assign, double[] acc,
                                     float[] dGamma, float[] dBeta, int nextDyOff, int nextXOff, float nextCenter,
                                     float nextInvStd, float nextCorr) {
        rowBackward(dx, dxOff, dy, dyOff, x, xOff, n, invStd, gamma, coefX, center, coefK, assign);
        rowBackwardSums(acc, dGamma, dBeta, dy, nextDyOff, x, nextXOff, n, nextCenter, nextInvStd, nextCorr, gamma);
    }

    /**
     * {@link #rowBackward} of two rows, row r at dxOff, dyOff, xOff and row r + 1 n floats further,
     * invStd and center at r and r + 1 of their arrays, coef = {coefX, coefK} of row r then of row
     * r + 1: the same float operations per element as two calls (the same bits), gamma read once.
     */
    void rowBackwardPair(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                         float[] invStd, float[] center, int r, float[] gamma, float[] coef, boolean assign);

    /** y[i] = 1/(1 + e^−x[i]) by {@link ExpF#sigmoid}: bit-identical in both twins. {@code y} may be {@code x}. */
    void sigmoid(float[] y, int yOff, float[] x, int xOff, int n);

    /**
     * y[i] = sigmoid((x[i] − center)·scale + shift): {@link #affine} then {@link #sigmoid} in one
     * pass, the same bits. y must not overlap x (the vector twin's last vector overlaps the one
     * before it and computes some elements again).
     */
    void affineSigmoid(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift);

    /** dx[i] += dy[i]·y[i]·(1 − y[i]): the sigmoid's backward from its output. */
    void sigmoidBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] y, int yOff, int n);

    /**
     * One h × w plane's 2×2, stride-2 average pooling (AvgPool2d(2); an odd last row or column is
     * dropped): p[pOff + r·(w/2) + c] = s·0.25 with s summed from 0 in the window's row order,
     * {@code ((((0 + y[2r, 2c]) + y[2r, 2c+1]) + y[2r+1, 2c]) + y[2r+1, 2c+1])}, as PyTorch's loop.
     * Bit-identical in both twins; p must not overlap y.
     */
    void avgPool2x2(float[] p, int pOff, float[] y, int yOff, int h, int w);

    /**
     * The sigmoid's backward under a 2×2, stride-2 average pooling, over one h × w plane, assigned:
     * dPre[dOff + i] = 0 + ((g·0.25)·y[i])·(1 − y[i]) with g the pooled gradient of the window
     * holding element i (0 for an odd last row or column no window covers). The values of the
     * pooling's backward followed by {@link #sigmoidBackward} into zeros, without the full-size
     * gradient between them. Bit-identical in both twins; dPre must not overlap dPool or y.
     */
    void sigmoidBackwardPooled2x2(float[] dPre, int dOff, float[] dPool, int pOff, float[] y, int yOff, int h, int w);

    /** The implementation in use: the vector twin when available and not disabled, else scalar. */
    static Loops get() {
        return LoopsHolder.INSTANCE;
    }

    /** The scalar twin, always available. */
    static Loops scalar() {
        return ScalarLoops.INSTANCE;
    }

    /** The vector twin, or null when the {@code jdk.incubator.vector} module is not present. */
    static Loops vector() {
        return LoopsHolder.VECTOR;
    }
}
