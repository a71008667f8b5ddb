package org.norm4j.kernels.vector;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.norm4j.kernels.ExpF;
import org.norm4j.kernels.Loops;
import org.norm4j.kernels.ScalarLoops;

/**
 * The Vector API twin of {@link org.norm4j.kernels.ScalarLoops}: the same methods with the same
 * semantics, a vector body to {@code SPECIES.loopBound(n)} and a scalar tail with the same
 * arithmetic. This is the only package that touches {@code jdk.incubator.vector};
 * {@code LoopsHolder} loads this class by name, and only when that module is in the boot layer.
 *
 * <p>Numerics, method by method:
 * <ul>
 *   <li>Float elementwise kernels ({@code affine}, {@code affineBackward}, {@code affineColumns},
 *       {@code affineRows}, {@code affineBackwardColumns}, {@code affineBackwardRows},
 *       {@code normalizeRow}, {@code rowBackward}) do the scalar
 *       twin's float operations in the scalar twin's order, with no FMA, so their results are
 *       bit-identical to it: switching twins never changes a forward output or a gradient. So are
 *       {@code sigmoid} (ExpF's fused polynomial, lane for lane: the one FMA kernel here) and {@code sigmoidBackward}.</li>
 *   <li>Plain reductions ({@code sum}, {@code sumShifted}, {@code sumSquares}, {@code dotShifted})
 *       accumulate per lane in float over chunks of {@link #CHUNK} elements, so each lane adds at
 *       most {@value #VECTORS_PER_CHUNK} terms before its chunk is reduced and added into a double;
 *       the relative error stays near 1e-7 of Σ|terms| for any n, where one float accumulator over
 *       1e6 elements would lose three digits. Results differ from the scalar twin (which adds every
 *       term in double) in the last few float digits, not bit for bit.</li>
 *   <li>The "columns" sums ({@code sumColumns}, {@code sumShiftedColumns}, {@code dotShiftedColumns})
 *       and {@code rowBackwardSums}'s dGamma/dBeta update float sums lane by lane, one float
 *       product and one float addition per element as the scalar twin does (no fma): bit-identical
 *       to the scalar twin. {@code sumShiftedColumns} and {@code dotShiftedColumns} then add each
 *       column's float sum to a double (widened exactly, lane by lane), as the scalar twin's
 *       loop. {@code rowBackwardSums}'s row sums are reductions (float lanes per chunk, as
 *       above).</li>
 * </ul>
 */
public final class VectorLoops implements Loops {
    public static final VectorLoops INSTANCE = new VectorLoops();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Double lanes of F's width in bits: a float vector widens into two of them (parts 0 and 1). */
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    /** Float additions per lane before a chunk is folded into double: bounds the float error. */
    private static final int VECTORS_PER_CHUNK = 32;
    /** Elements per float chunk; a multiple of F.length(), so chunk ends never split a vector. */
    private static final int CHUNK = VECTORS_PER_CHUNK * F.length();

    static {
        // before any kernel: keeps C2 from compiling the API's shared methods for one operator
        // (not when -Dnorm4j.scalar=true keeps this twin unused, nor with -Dnorm4j.vector.warmUp=false)
        if (!Boolean.getBoolean("norm4j.scalar") && !"false".equals(System.getProperty("norm4j.vector.warmUp"))) {
            SharedProfiles.warm(F);
        }
    }

    private VectorLoops() {}

    // Every float vector here is of species F: a second float shape (a half-width species) makes
    // the Vector API's shared methods see two classes, and JDK 17's compiler then boxes the
    // vectors of kernels compiled afterwards (measured: the direct convolution's dW 7x slower
    // inside a LeNet step than alone). The one widening, addWidened's, converts an F vector into
    // two double vectors of F's width (species D) with literal part indices. No private helper
    // takes or returns a vector either: when the compiler declines to inline one (it depends on
    // compilation order) every vector crossing the call is boxed (measured: the sigmoid 2-13x
    // slower in some JVMs than in others). Where a kernel widens with convertShape, its part
    // index must be a literal: a loop variable there boxed every vector of the loop. A kernel that
    // uses an operator SharedProfiles does not run must add it there (see that class).

    // ---- reductions over one run: float lanes per chunk, chunks into double --------------------

    @Override
    public double sum(float[] x, int xOff, int n) {
        int bound = F.loopBound(n);
        double s = 0;
        int i = 0;
        while (i < bound) {
            int end = i + Math.min(CHUNK, bound - i);   // no overflow near Integer.MAX_VALUE
            FloatVector acc = FloatVector.zero(F);
            for (; i < end; i += F.length()) acc = acc.add(FloatVector.fromArray(F, x, xOff + i));
            s += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += x[xOff + i];
        return s;
    }

    @Override
    public void sumShifted(double[] acc, float[] x, int xOff, int n, float shift) {
        // d = x − shift is rounded to float in both twins (exact when x is near shift, the use case).
        int bound = F.loopBound(n);
        FloatVector vShift = FloatVector.broadcast(F, shift);
        double s1 = 0, s2 = 0;
        int i = 0;
        while (i < bound) {
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                FloatVector d = FloatVector.fromArray(F, x, xOff + i).sub(vShift);
                a1 = a1.add(d);
                a2 = d.fma(d, a2);
            }
            s1 += a1.reduceLanes(VectorOperators.ADD);
            s2 += a2.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            double d = x[xOff + i] - shift;
            s1 += d;
            s2 += d * d;
        }
        acc[0] += s1;
        acc[1] += s2;
    }

    @Override
    public double sumSquares(float[] x, int xOff, int n) {
        int bound = F.loopBound(n);
        double s = 0;
        int i = 0;
        while (i < bound) {
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector acc = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                acc = v.fma(v, acc);
            }
            s += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            double v = x[xOff + i];
            s += v * v;
        }
        return s;
    }

    @Override
    public void dotShifted(double[] acc, float[] dy, int dyOff, float[] x, int xOff, int n, float center) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        double s1 = 0, s2 = 0;
        int i = 0;
        while (i < bound) {
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                FloatVector g = FloatVector.fromArray(F, dy, dyOff + i);
                FloatVector xc = FloatVector.fromArray(F, x, xOff + i).sub(vCenter);
                a1 = a1.add(g);
                a2 = g.fma(xc, a2);
            }
            s1 += a1.reduceLanes(VectorOperators.ADD);
            s2 += a2.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            double g = dy[dyOff + i];
            s1 += g;
            s2 += g * (x[xOff + i] - center);
        }
        acc[0] += s1;
        acc[1] += s2;
    }

    // ---- elementwise over one run: the scalar twin's float operations, in its order -----------

    @Override
    public void affine(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        FloatVector vScale = FloatVector.broadcast(F, scale);
        FloatVector vShift = FloatVector.broadcast(F, shift);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vScale).add(vShift).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = (x[xOff + i] - center) * scale + shift;
    }

    @Override
    public void affineBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                               float coefDy, float coefX, float center, float coefK, boolean assign) {
        int bound = F.loopBound(n);
        FloatVector vCoefDy = FloatVector.broadcast(F, coefDy);
        FloatVector vCoefX = FloatVector.broadcast(F, coefX);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        FloatVector vCoefK = FloatVector.broadcast(F, coefK);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector termDy = FloatVector.fromArray(F, dy, dyOff + i).mul(vCoefDy);
            FloatVector termX = FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vCoefX);
            FloatVector update = termDy.add(termX).add(vCoefK);
            (assign ? update : FloatVector.fromArray(F, dx, dxOff + i).add(update)).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            float update = coefDy * dy[dyOff + i] + coefX * (x[xOff + i] - center) + coefK;
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    // ---- channels-last rows: one parameter per element ----------------------------------------

    /** Rows per pass of the column sums past the register blocks (see sumShiftedColumns). */
    private static final int PASS = 16;

    @Override
    public void sumColumns(float[] acc, int pOff, float[] x, int xOff, int rows, int n) {
        int bound = F.loopBound(n), r = 0;
        // sixteen, then four rows per pass over the columns: each vector of sums loaded and stored
        // once a pass, its additions in the rows' order (the same bits as row by row); sixteen
        // streams read faster from memory (as sumShiftedColumns)
        for (; r + PASS - 1 < rows; r += PASS) {
            for (int i = 0; i < bound; i += F.length()) {
                int p = pOff + i;
                FloatVector a = FloatVector.fromArray(F, acc, p);
                for (int k = 0, off = xOff + r * n + i; k < PASS; k++, off += n) a = a.add(FloatVector.fromArray(F, x, off));
                a.intoArray(acc, p);
            }
        }
        for (; r + 3 < rows; r += 4) {
            int off0 = xOff + r * n, off1 = off0 + n, off2 = off1 + n, off3 = off2 + n;
            for (int i = 0; i < bound; i += F.length()) {
                int p = pOff + i;
                FloatVector.fromArray(F, acc, p).add(FloatVector.fromArray(F, x, off0 + i)).add(FloatVector.fromArray(F, x, off1 + i))
                        .add(FloatVector.fromArray(F, x, off2 + i)).add(FloatVector.fromArray(F, x, off3 + i)).intoArray(acc, p);
            }
        }
        for (; r < rows; r++) {
            int off = xOff + r * n;
            for (int i = 0; i < bound; i += F.length()) {
                int p = pOff + i;
                FloatVector.fromArray(F, acc, p).add(FloatVector.fromArray(F, x, off + i)).intoArray(acc, p);
            }
        }
        for (r = 0; r < rows; r++) {
            for (int i = bound, off = xOff + r * n; i < n; i++) acc[pOff + i] += x[off + i];
        }
    }

    @Override
    public void sumShiftedColumns(double[] s1, double[] s2, int pOff, float[] x, int xOff, int rows, int n, float[] shift,
                                  float[] f1, float[] f2) {
        int bound = F.loopBound(n), vl = F.length(), blocks = n <= 8 * vl ? n / (4 * vl) * (4 * vl) : 0;
        // short rows (up to eight vectors: channels-last batch norm's 64 channels): four vectors of
        // columns at a time, their sums kept in registers down the rows (the loop below stores and
        // reloads them every four rows); each column's additions in the same order, so the same
        // bits. Longer rows go across the columns: walking a block down rows a few KB apart read
        // slower than the loads and stores it saves (measured on AMD's Zen 4, rows of 768)
        for (int i = 0; i < blocks; i += 4 * vl) {
            int p = pOff + i;
            FloatVector h0 = FloatVector.fromArray(F, shift, p), h1 = FloatVector.fromArray(F, shift, p + vl);
            FloatVector h2 = FloatVector.fromArray(F, shift, p + 2 * vl), h3 = FloatVector.fromArray(F, shift, p + 3 * vl);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int r = 0, off = xOff + i; r < rows; r++, off += n) {
                FloatVector d0 = FloatVector.fromArray(F, x, off).sub(h0), d1 = FloatVector.fromArray(F, x, off + vl).sub(h1);
                FloatVector d2 = FloatVector.fromArray(F, x, off + 2 * vl).sub(h2), d3 = FloatVector.fromArray(F, x, off + 3 * vl).sub(h3);
                a0 = a0.add(d0);
                b0 = b0.add(d0.mul(d0));
                a1 = a1.add(d1);
                b1 = b1.add(d1.mul(d1));
                a2 = a2.add(d2);
                b2 = b2.add(d2.mul(d2));
                a3 = a3.add(d3);
                b3 = b3.add(d3.mul(d3));
            }
            a0.intoArray(f1, i);
            a1.intoArray(f1, i + vl);
            a2.intoArray(f1, i + 2 * vl);
            a3.intoArray(f1, i + 3 * vl);
            b0.intoArray(f2, i);
            b1.intoArray(f2, i + vl);
            b2.intoArray(f2, i + 2 * vl);
            b3.intoArray(f2, i + 3 * vl);
        }
        // the rest sixteen rows per pass, then four, then single rows, then the tail columns; the
        // same bits. Each vector of sums is loaded and stored once a pass: four rows per pass ran
        // 2.9x faster in cache, 1.6x from L3 than row by row on Zen 4 (rows of 768), and sixteen
        // rows (sixteen streams) read 1.3x faster than four from memory, as fast in cache
        int r = 0;
        for (; r + PASS - 1 < rows; r += PASS) {
            int off0 = xOff + r * n;
            for (int i = blocks; i < bound; i += F.length()) {
                FloatVector h = FloatVector.fromArray(F, shift, pOff + i);
                FloatVector a = FloatVector.fromArray(F, f1, i), b = FloatVector.fromArray(F, f2, i);
                for (int k = 0, off = off0 + i; k < PASS; k++, off += n) {
                    FloatVector d = FloatVector.fromArray(F, x, off).sub(h);
                    a = a.add(d);
                    b = b.add(d.mul(d));
                }
                a.intoArray(f1, i);
                b.intoArray(f2, i);
            }
        }
        for (; r + 3 < rows; r += 4) {
            int off0 = xOff + r * n, off1 = off0 + n, off2 = off1 + n, off3 = off2 + n;
            for (int i = blocks; i < bound; i += F.length()) {
                FloatVector h = FloatVector.fromArray(F, shift, pOff + i);
                FloatVector d0 = FloatVector.fromArray(F, x, off0 + i).sub(h), d1 = FloatVector.fromArray(F, x, off1 + i).sub(h);
                FloatVector d2 = FloatVector.fromArray(F, x, off2 + i).sub(h), d3 = FloatVector.fromArray(F, x, off3 + i).sub(h);
                FloatVector.fromArray(F, f1, i).add(d0).add(d1).add(d2).add(d3).intoArray(f1, i);
                FloatVector.fromArray(F, f2, i).add(d0.mul(d0)).add(d1.mul(d1)).add(d2.mul(d2)).add(d3.mul(d3)).intoArray(f2, i);
            }
        }
        for (; r < rows; r++) {
            int off = xOff + r * n;
            for (int i = blocks; i < bound; i += F.length()) {
                FloatVector d = FloatVector.fromArray(F, x, off + i).sub(FloatVector.fromArray(F, shift, pOff + i));
                FloatVector.fromArray(F, f1, i).add(d).intoArray(f1, i);
                FloatVector.fromArray(F, f2, i).add(d.mul(d)).intoArray(f2, i);   // as the scalar twin: no fma
            }
        }
        for (r = 0; r < rows; r++) {
            for (int i = bound, off = xOff + r * n; i < n; i++) {
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
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            int p = pOff + i;
            FloatVector.fromArray(F, x, xOff + i)
                    .sub(FloatVector.fromArray(F, center, p))
                    .mul(FloatVector.fromArray(F, scale, p))
                    .add(FloatVector.fromArray(F, shift, p))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = (x[xOff + i] - center[pOff + i]) * scale[pOff + i] + shift[pOff + i];
        }
    }

    @Override
    public void affineRows(float[] y, int yOff, float[] x, int xOff, int rows, int n, float[] center, float[] scale, float[] shift) {
        int vl = F.length();
        if (n != 4 * vl) {   // longer rows: the row's own loop amortizes the call
            Loops.super.affineRows(y, yOff, x, xOff, rows, n, center, scale, shift);
            return;
        }
        // four vectors a row: the parameters stay in registers down the rows, affineColumns' float operations
        FloatVector c0 = FloatVector.fromArray(F, center, 0), c1 = FloatVector.fromArray(F, center, vl);
        FloatVector c2 = FloatVector.fromArray(F, center, 2 * vl), c3 = FloatVector.fromArray(F, center, 3 * vl);
        FloatVector s0 = FloatVector.fromArray(F, scale, 0), s1 = FloatVector.fromArray(F, scale, vl);
        FloatVector s2 = FloatVector.fromArray(F, scale, 2 * vl), s3 = FloatVector.fromArray(F, scale, 3 * vl);
        FloatVector h0 = FloatVector.fromArray(F, shift, 0), h1 = FloatVector.fromArray(F, shift, vl);
        FloatVector h2 = FloatVector.fromArray(F, shift, 2 * vl), h3 = FloatVector.fromArray(F, shift, 3 * vl);
        for (int off = 0, end = rows * n; off < end; off += 4 * vl) {   // a constant stride: C2 hoists the range checks
            int xo = xOff + off, yo = yOff + off;
            FloatVector.fromArray(F, x, xo).sub(c0).mul(s0).add(h0).intoArray(y, yo);
            FloatVector.fromArray(F, x, xo + vl).sub(c1).mul(s1).add(h1).intoArray(y, yo + vl);
            FloatVector.fromArray(F, x, xo + 2 * vl).sub(c2).mul(s2).add(h2).intoArray(y, yo + 2 * vl);
            FloatVector.fromArray(F, x, xo + 3 * vl).sub(c3).mul(s3).add(h3).intoArray(y, yo + 3 * vl);
        }
    }

    @Override
    public void dotShiftedColumns(double[] s1, double[] s2, int pOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int n,
                                  float[] center, float[] f1, float[] f2) {
        int bound = F.loopBound(n), vl = F.length(), blocks = n <= 8 * vl ? n / (4 * vl) * (4 * vl) : 0;
        // four vectors of columns at a time in registers down the rows, as sumShiftedColumns
        for (int i = 0; i < blocks; i += 4 * vl) {
            int p = pOff + i;
            FloatVector h0 = FloatVector.fromArray(F, center, p), h1 = FloatVector.fromArray(F, center, p + vl);
            FloatVector h2 = FloatVector.fromArray(F, center, p + 2 * vl), h3 = FloatVector.fromArray(F, center, p + 3 * vl);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int r = 0, off = i; r < rows; r++, off += n) {
                FloatVector g0 = FloatVector.fromArray(F, dy, dyOff + off), g1 = FloatVector.fromArray(F, dy, dyOff + off + vl);
                FloatVector g2 = FloatVector.fromArray(F, dy, dyOff + off + 2 * vl), g3 = FloatVector.fromArray(F, dy, dyOff + off + 3 * vl);
                a0 = a0.add(g0);
                b0 = b0.add(g0.mul(FloatVector.fromArray(F, x, xOff + off).sub(h0)));
                a1 = a1.add(g1);
                b1 = b1.add(g1.mul(FloatVector.fromArray(F, x, xOff + off + vl).sub(h1)));
                a2 = a2.add(g2);
                b2 = b2.add(g2.mul(FloatVector.fromArray(F, x, xOff + off + 2 * vl).sub(h2)));
                a3 = a3.add(g3);
                b3 = b3.add(g3.mul(FloatVector.fromArray(F, x, xOff + off + 3 * vl).sub(h3)));
            }
            a0.intoArray(f1, i);
            a1.intoArray(f1, i + vl);
            a2.intoArray(f1, i + 2 * vl);
            a3.intoArray(f1, i + 3 * vl);
            b0.intoArray(f2, i);
            b1.intoArray(f2, i + vl);
            b2.intoArray(f2, i + 2 * vl);
            b3.intoArray(f2, i + 3 * vl);
        }
        // the rest row by row, vector columns then the tail columns (four rows per pass, as
        // sumShiftedColumns, read eight streams and measured 1.3-1.9x slower on rows of 768 in L3
        // or memory on Zen 4); each column's additions in row order: the same bits
        for (int r = 0; r < rows; r++) {
            int off = r * n, i = blocks;
            for (; i < bound; i += F.length()) {
                FloatVector g = FloatVector.fromArray(F, dy, dyOff + off + i);
                FloatVector diff = FloatVector.fromArray(F, x, xOff + off + i).sub(FloatVector.fromArray(F, center, pOff + i));
                FloatVector.fromArray(F, f1, i).add(g).intoArray(f1, i);
                FloatVector.fromArray(F, f2, i).add(g.mul(diff)).intoArray(f2, i);
            }
            for (; i < n; i++) {
                float g = dy[dyOff + off + i];
                f1[i] += g;
                f2[i] += g * (x[xOff + off + i] - center[pOff + i]);
            }
        }
        addWidened(s1, pOff, f1, n);
        addWidened(s2, pOff, f2, n);
    }

    /**
     * Each float sum widened (exactly) and added in double, as the scalar twin's loop. The widening
     * takes literal part indices, and no vector crosses a call (see the class notes).
     */
    @Override
    public void addWidened(double[] s, int sOff, float[] f, int n) {
        int bound = F.loopBound(n), dl = D.length();
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, f, i);
            int p = sOff + i;
            DoubleVector.fromArray(D, s, p).add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).intoArray(s, p);
            DoubleVector.fromArray(D, s, p + dl).add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1)).intoArray(s, p + dl);
            zero.intoArray(f, i);
        }
        for (; i < n; i++) {
            s[sOff + i] += f[i];
            f[i] = 0;
        }
    }

    @Override
    public void affineBackwardColumns(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                      float[] coefDy, float[] coefX, float[] center, float[] coefK, int pOff, boolean assign) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            int p = pOff + i;
            FloatVector termDy = FloatVector.fromArray(F, coefDy, p).mul(FloatVector.fromArray(F, dy, dyOff + i));
            FloatVector termX = FloatVector.fromArray(F, coefX, p)
                    .mul(FloatVector.fromArray(F, x, xOff + i).sub(FloatVector.fromArray(F, center, p)));
            FloatVector update = termDy.add(termX).add(FloatVector.fromArray(F, coefK, p));
            (assign ? update : FloatVector.fromArray(F, dx, dxOff + i).add(update)).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            int p = pOff + i;
            float update = coefDy[p] * dy[dyOff + i] + coefX[p] * (x[xOff + i] - center[p]) + coefK[p];
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    @Override
    public void affineBackwardRows(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int rows, int n,
                                   float[] coefDy, float[] coefX, float[] center, float[] coefK, boolean assign) {
        int vl = F.length();
        if (n != 4 * vl) {   // longer rows: the row's own loop amortizes the call
            Loops.super.affineBackwardRows(dx, dxOff, dy, dyOff, x, xOff, rows, n, coefDy, coefX, center, coefK, assign);
            return;
        }
        // four vectors a row: the sixteen coefficient vectors stay in registers down the rows,
        // affineBackwardColumns' float operations in its order
        FloatVector g0 = FloatVector.fromArray(F, coefDy, 0), g1 = FloatVector.fromArray(F, coefDy, vl);
        FloatVector g2 = FloatVector.fromArray(F, coefDy, 2 * vl), g3 = FloatVector.fromArray(F, coefDy, 3 * vl);
        FloatVector q0 = FloatVector.fromArray(F, coefX, 0), q1 = FloatVector.fromArray(F, coefX, vl);
        FloatVector q2 = FloatVector.fromArray(F, coefX, 2 * vl), q3 = FloatVector.fromArray(F, coefX, 3 * vl);
        FloatVector c0 = FloatVector.fromArray(F, center, 0), c1 = FloatVector.fromArray(F, center, vl);
        FloatVector c2 = FloatVector.fromArray(F, center, 2 * vl), c3 = FloatVector.fromArray(F, center, 3 * vl);
        FloatVector k0 = FloatVector.fromArray(F, coefK, 0), k1 = FloatVector.fromArray(F, coefK, vl);
        FloatVector k2 = FloatVector.fromArray(F, coefK, 2 * vl), k3 = FloatVector.fromArray(F, coefK, 3 * vl);
        for (int off = 0, end = rows * n; off < end; off += 4 * vl) {   // a constant stride: C2 hoists the range checks
            int go = dyOff + off, xo = xOff + off, o = dxOff + off;
            FloatVector u0 = g0.mul(FloatVector.fromArray(F, dy, go)).add(q0.mul(FloatVector.fromArray(F, x, xo).sub(c0))).add(k0);
            FloatVector u1 = g1.mul(FloatVector.fromArray(F, dy, go + vl)).add(q1.mul(FloatVector.fromArray(F, x, xo + vl).sub(c1))).add(k1);
            FloatVector u2 = g2.mul(FloatVector.fromArray(F, dy, go + 2 * vl)).add(q2.mul(FloatVector.fromArray(F, x, xo + 2 * vl).sub(c2))).add(k2);
            FloatVector u3 = g3.mul(FloatVector.fromArray(F, dy, go + 3 * vl)).add(q3.mul(FloatVector.fromArray(F, x, xo + 3 * vl).sub(c3))).add(k3);
            if (!assign) {
                u0 = FloatVector.fromArray(F, dx, o).add(u0);
                u1 = FloatVector.fromArray(F, dx, o + vl).add(u1);
                u2 = FloatVector.fromArray(F, dx, o + 2 * vl).add(u2);
                u3 = FloatVector.fromArray(F, dx, o + 3 * vl).add(u3);
            }
            u0.intoArray(dx, o);
            u1.intoArray(dx, o + vl);
            u2.intoArray(dx, o + 2 * vl);
            u3.intoArray(dx, o + 3 * vl);
        }
    }

    // ---- rows (layer norm, RMS norm): per-row statistics, per-element gamma and beta ----------

    @Override
    public void normalizeRow(float[] y, int yOff, float[] x, int xOff, int n, float center, float invStd, float corr,
                             float[] gamma, float[] beta) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        FloatVector vInvStd = FloatVector.broadcast(F, invStd);
        FloatVector vCorr = FloatVector.broadcast(F, corr);
        // Null gamma/beta act as lanes of 1 and 0, the scalar twin's values, so even −0 comes out the same.
        FloatVector one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector xhat = FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vInvStd).add(vCorr);
            FloatVector g = gamma == null ? one : FloatVector.fromArray(F, gamma, i);
            FloatVector b = beta == null ? zero : FloatVector.fromArray(F, beta, i);
            xhat.mul(g).add(b).intoArray(y, yOff + i);
        }
        normalizeRowTail(y, yOff, x, xOff, i, n, center, invStd, corr, gamma, beta);
    }

    /** The scalar tail [i, n) of {@link #normalizeRow} (the scalar twin's operations). */
    private static void normalizeRowTail(float[] y, int yOff, float[] x, int xOff, int i, int n, float center, float invStd, float corr,
                                         float[] gamma, float[] beta) {
        for (; i < n; i++) {
            float xhat = (x[xOff + i] - center) * invStd + corr;
            float g = gamma == null ? 1f : gamma[i];
            float b = beta == null ? 0f : beta[i];
            y[yOff + i] = xhat * g + b;
        }
    }

    @Override
    public void normalizeRowPair(float[] y, int yOff, float[] x, int xOff, int n, float[] center, float[] invStd, float[] corr, int r,
                                 float[] gamma, float[] beta) {
        int bound = F.loopBound(n), xOff1 = xOff + n, yOff1 = yOff + n;
        FloatVector vCenter0 = FloatVector.broadcast(F, center[r]), vCenter1 = FloatVector.broadcast(F, center[r + 1]);
        FloatVector vInvStd0 = FloatVector.broadcast(F, invStd[r]), vInvStd1 = FloatVector.broadcast(F, invStd[r + 1]);
        FloatVector vCorr0 = FloatVector.broadcast(F, corr[r]), vCorr1 = FloatVector.broadcast(F, corr[r + 1]);
        FloatVector one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F);   // normalizeRow's lanes for null gamma/beta
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector g = gamma == null ? one : FloatVector.fromArray(F, gamma, i);
            FloatVector b = beta == null ? zero : FloatVector.fromArray(F, beta, i);
            FloatVector.fromArray(F, x, xOff + i).sub(vCenter0).mul(vInvStd0).add(vCorr0).mul(g).add(b).intoArray(y, yOff + i);
            FloatVector.fromArray(F, x, xOff1 + i).sub(vCenter1).mul(vInvStd1).add(vCorr1).mul(g).add(b).intoArray(y, yOff1 + i);
        }
        float c0 = center[r], s0 = invStd[r], k0 = corr[r], c1 = center[r + 1], s1 = invStd[r + 1], k1 = corr[r + 1];
        for (; i < n; i++) {   // the tail as normalizeRow's
            float g = gamma == null ? 1f : gamma[i];
            float b = beta == null ? 0f : beta[i];
            y[yOff + i] = ((x[xOff + i] - c0) * s0 + k0) * g + b;
            y[yOff1 + i] = ((x[xOff1 + i] - c1) * s1 + k1) * g + b;
        }
    }

    @Override
    public void rowBackwardSums(double[] acc, float[] dGamma, float[] dBeta, float[] dy, int dyOff, float[] x, int xOff, int n,
                                float center, float invStd, float corr, float[] gamma) {
        int bound = F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        FloatVector vInvStd = FloatVector.broadcast(F, invStd);
        FloatVector vCorr = FloatVector.broadcast(F, corr);
        double g1 = 0, g2 = 0;
        int i = 0;
        while (i < bound) {
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                FloatVector d = FloatVector.fromArray(F, dy, dyOff + i);
                FloatVector xhat = FloatVector.fromArray(F, x, xOff + i).sub(vCenter).mul(vInvStd).add(vCorr);
                FloatVector gd = gamma == null ? d : FloatVector.fromArray(F, gamma, i).mul(d);
                a1 = a1.add(gd);
                a2 = gd.fma(xhat, a2);
                // dGamma and dBeta: the scalar twin's float product and sum, lane for lane
                if (dGamma != null) FloatVector.fromArray(F, dGamma, i).add(d.mul(xhat)).intoArray(dGamma, i);
                if (dBeta != null) FloatVector.fromArray(F, dBeta, i).add(d).intoArray(dBeta, i);
            }
            g1 += a1.reduceLanes(VectorOperators.ADD);
            g2 += a2.reduceLanes(VectorOperators.ADD);
        }
        backwardSumsTail(acc, g1, g2, dGamma, dBeta, dy, dyOff, x, xOff, i, n, center, invStd, corr, gamma);
    }

    /**
     * The scalar tail [i, n) of {@link #rowBackwardSums} (the scalar twin's operations) after the
     * vector part's sums g1, g2, then acc[0] += g1, acc[1] += g2.
     */
    private static void backwardSumsTail(double[] acc, double g1, double g2, float[] dGamma, float[] dBeta, float[] dy, int dyOff,
                                         float[] x, int xOff, int i, int n, float center, float invStd, float corr, float[] gamma) {
        for (; i < n; i++) {
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
        int bound = F.loopBound(n), dyOff1 = dyOff + n, xOff1 = xOff + n;
        FloatVector vCenter0 = FloatVector.broadcast(F, center[r]), vCenter1 = FloatVector.broadcast(F, center[r + 1]);
        FloatVector vInvStd0 = FloatVector.broadcast(F, invStd[r]), vInvStd1 = FloatVector.broadcast(F, invStd[r + 1]);
        FloatVector vCorr0 = FloatVector.broadcast(F, corr[r]), vCorr1 = FloatVector.broadcast(F, corr[r + 1]);
        double g10 = 0, g20 = 0, g11 = 0, g21 = 0;
        int i = 0;
        while (i < bound) {   // each row's sums as rowBackwardSums makes them: the same chunks, the same lanes
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector a10 = FloatVector.zero(F), a20 = a10, a11 = a10, a21 = a10;
            for (; i < end; i += F.length()) {
                FloatVector d0 = FloatVector.fromArray(F, dy, dyOff + i), d1 = FloatVector.fromArray(F, dy, dyOff1 + i);
                FloatVector xhat0 = FloatVector.fromArray(F, x, xOff + i).sub(vCenter0).mul(vInvStd0).add(vCorr0);
                FloatVector xhat1 = FloatVector.fromArray(F, x, xOff1 + i).sub(vCenter1).mul(vInvStd1).add(vCorr1);
                FloatVector gd0 = d0, gd1 = d1;
                if (gamma != null) {
                    FloatVector g = FloatVector.fromArray(F, gamma, i);
                    gd0 = g.mul(d0);
                    gd1 = g.mul(d1);
                }
                a10 = a10.add(gd0);
                a20 = gd0.fma(xhat0, a20);
                a11 = a11.add(gd1);
                a21 = gd1.fma(xhat1, a21);
                if (dGamma != null) FloatVector.fromArray(F, dGamma, i).add(d0.mul(xhat0)).add(d1.mul(xhat1)).intoArray(dGamma, i);
                if (dBeta != null) FloatVector.fromArray(F, dBeta, i).add(d0).add(d1).intoArray(dBeta, i);
            }
            g10 += a10.reduceLanes(VectorOperators.ADD);
            g20 += a20.reduceLanes(VectorOperators.ADD);
            g11 += a11.reduceLanes(VectorOperators.ADD);
            g21 += a21.reduceLanes(VectorOperators.ADD);
        }
        float c0 = center[r], s0 = invStd[r], k0 = corr[r], c1 = center[r + 1], s1 = invStd[r + 1], k1 = corr[r + 1];
        for (; i < n; i++) {
            float d0 = dy[dyOff + i], d1 = dy[dyOff1 + i];
            float xhat0 = (x[xOff + i] - c0) * s0 + k0, xhat1 = (x[xOff1 + i] - c1) * s1 + k1;
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
        int bound = F.loopBound(n);
        FloatVector vInvStd = FloatVector.broadcast(F, invStd);
        FloatVector vCoefX = FloatVector.broadcast(F, coefX);
        FloatVector vCenter = FloatVector.broadcast(F, center);
        FloatVector vCoefK = FloatVector.broadcast(F, coefK);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector a = gamma == null ? vInvStd : vInvStd.mul(FloatVector.fromArray(F, gamma, i));
            FloatVector termDy = a.mul(FloatVector.fromArray(F, dy, dyOff + i));
            FloatVector termX = vCoefX.mul(FloatVector.fromArray(F, x, xOff + i).sub(vCenter));
            FloatVector update = termDy.add(termX).add(vCoefK);
            (assign ? update : FloatVector.fromArray(F, dx, dxOff + i).add(update)).intoArray(dx, dxOff + i);
        }
        rowBackwardTail(dx, dxOff, dy, dyOff, x, xOff, i, n, invStd, gamma, coefX, center, coefK, assign);
    }

    /** The scalar tail [i, n) of {@link #rowBackward} (the scalar twin's operations). */
    private static void rowBackwardTail(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int i, int n, float invStd,
                                        float[] gamma, float coefX, float center, float coefK, boolean assign) {
        for (; i < n; i++) {
            float a = gamma == null ? invStd : invStd * gamma[i];
            float update = a * dy[dyOff + i] + coefX * (x[xOff + i] - center) + coefK;
            dx[dxOff + i] = assign ? update : dx[dxOff + i] + update;
        }
    }

    @Override
    public void rowBackwardThenSums(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n, float invStd,
                                    float[] gamma, float coefX, float center, float coefK, boolean assign, double[] acc,
                                    float[] dGamma, float[] dBeta, int nextDyOff, int nextXOff, float nextCenter,
                                    float nextInvStd, float nextCorr) {
        int bound = F.loopBound(n);
        FloatVector vInvStd = FloatVector.broadcast(F, invStd), vCoefX = FloatVector.broadcast(F, coefX);
        FloatVector vCenter = FloatVector.broadcast(F, center), vCoefK = FloatVector.broadcast(F, coefK);
        FloatVector nCenter = FloatVector.broadcast(F, nextCenter), nInvStd = FloatVector.broadcast(F, nextInvStd);
        FloatVector nCorr = FloatVector.broadcast(F, nextCorr);
        double g1 = 0, g2 = 0;
        int i = 0;
        while (i < bound) {   // rowBackwardSums' chunks; each row's float operations as its own call makes them
            int end = i + Math.min(CHUNK, bound - i);
            FloatVector a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
            for (; i < end; i += F.length()) {
                FloatVector a = gamma == null ? vInvStd : vInvStd.mul(FloatVector.fromArray(F, gamma, i));
                FloatVector update = a.mul(FloatVector.fromArray(F, dy, dyOff + i))
                        .add(vCoefX.mul(FloatVector.fromArray(F, x, xOff + i).sub(vCenter))).add(vCoefK);
                (assign ? update : FloatVector.fromArray(F, dx, dxOff + i).add(update)).intoArray(dx, dxOff + i);
                FloatVector d = FloatVector.fromArray(F, dy, nextDyOff + i);
                FloatVector xhat = FloatVector.fromArray(F, x, nextXOff + i).sub(nCenter).mul(nInvStd).add(nCorr);
                FloatVector gd = gamma == null ? d : FloatVector.fromArray(F, gamma, i).mul(d);
                a1 = a1.add(gd);
                a2 = gd.fma(xhat, a2);
                if (dGamma != null) FloatVector.fromArray(F, dGamma, i).add(d.mul(xhat)).intoArray(dGamma, i);
                if (dBeta != null) FloatVector.fromArray(F, dBeta, i).add(d).intoArray(dBeta, i);
            }
            g1 += a1.reduceLanes(VectorOperators.ADD);
            g2 += a2.reduceLanes(VectorOperators.ADD);
        }
        rowBackwardTail(dx, dxOff, dy, dyOff, x, xOff, i, n, invStd, gamma, coefX, center, coefK, assign);
        backwardSumsTail(acc, g1, g2, dGamma, dBeta, dy, nextDyOff, x, nextXOff, i, n, nextCenter, nextInvStd, nextCorr, gamma);
    }

    @Override
    public void rowBackwardPair(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff, int n,
                                float[] invStd, float[] center, int r, float[] gamma, float[] coef, boolean assign) {
        int bound = F.loopBound(n), dxOff1 = dxOff + n, dyOff1 = dyOff + n, xOff1 = xOff + n;
        FloatVector vInvStd0 = FloatVector.broadcast(F, invStd[r]), vInvStd1 = FloatVector.broadcast(F, invStd[r + 1]);
        FloatVector vCenter0 = FloatVector.broadcast(F, center[r]), vCenter1 = FloatVector.broadcast(F, center[r + 1]);
        FloatVector vCoefX0 = FloatVector.broadcast(F, coef[0]), vCoefK0 = FloatVector.broadcast(F, coef[1]);
        FloatVector vCoefX1 = FloatVector.broadcast(F, coef[2]), vCoefK1 = FloatVector.broadcast(F, coef[3]);
        int i = 0;
        for (; i < bound; i += F.length()) {   // each row as rowBackward computes it
            FloatVector a0 = vInvStd0, a1 = vInvStd1;
            if (gamma != null) {
                FloatVector g = FloatVector.fromArray(F, gamma, i);
                a0 = vInvStd0.mul(g);
                a1 = vInvStd1.mul(g);
            }
            FloatVector u0 = a0.mul(FloatVector.fromArray(F, dy, dyOff + i)).add(vCoefX0.mul(FloatVector.fromArray(F, x, xOff + i).sub(vCenter0))).add(vCoefK0);
            FloatVector u1 = a1.mul(FloatVector.fromArray(F, dy, dyOff1 + i)).add(vCoefX1.mul(FloatVector.fromArray(F, x, xOff1 + i).sub(vCenter1))).add(vCoefK1);
            (assign ? u0 : FloatVector.fromArray(F, dx, dxOff + i).add(u0)).intoArray(dx, dxOff + i);
            (assign ? u1 : FloatVector.fromArray(F, dx, dxOff1 + i).add(u1)).intoArray(dx, dxOff1 + i);
        }
        float s0 = invStd[r], c0 = center[r], s1 = invStd[r + 1], c1 = center[r + 1];
        for (; i < n; i++) {   // the tail as rowBackward's
            float a0 = gamma == null ? s0 : s0 * gamma[i], a1 = gamma == null ? s1 : s1 * gamma[i];
            float u0 = a0 * dy[dyOff + i] + coef[0] * (x[xOff + i] - c0) + coef[1];
            float u1 = a1 * dy[dyOff1 + i] + coef[2] * (x[xOff1 + i] - c1) + coef[3];
            dx[dxOff + i] = assign ? u0 : dx[dxOff + i] + u0;
            dx[dxOff1 + i] = assign ? u1 : dx[dxOff1 + i] + u1;
        }
    }

    // ---- the sigmoid: ExpF lane for lane --------------------------------------------------

    @Override
    public void sigmoid(float[] y, int yOff, float[] x, int xOff, int n) {
        affineSigmoid(y, yOff, x, xOff, n, 0f, 1f, 0f, false);   // (x − 0)·1 + 0 = x (−0 becomes +0: the same sigmoid)
    }

    @Override
    public void affineSigmoid(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift) {
        affineSigmoid(y, yOff, x, xOff, n, center, scale, shift, true);
    }

    /**
     * y = sigmoid((x − center)·scale + shift); with {@code overlap} (y does not overlap x) a run of
     * at least one vector ends with a vector overlapping the one before it, computing some elements
     * again, instead of a scalar tail (LeNet's second batch norm has runs of 100: four scalar
     * sigmoids per run otherwise).
     */
    private static void affineSigmoid(float[] y, int yOff, float[] x, int xOff, int n, float center, float scale, float shift,
                                      boolean overlap) {
        int vl = F.length(), bound = overlap && n >= vl ? n : F.loopBound(n);
        FloatVector vCenter = FloatVector.broadcast(F, center), vScale = FloatVector.broadcast(F, scale), vShift = FloatVector.broadcast(F, shift);
        FloatVector mLn2Hi = FloatVector.broadcast(F, -ExpF.LN2_HI), mLn2Lo = FloatVector.broadcast(F, -ExpF.LN2_LO);
        FloatVector p2 = FloatVector.broadcast(F, ExpF.P2), p3 = FloatVector.broadcast(F, ExpF.P3);
        FloatVector p4 = FloatVector.broadcast(F, ExpF.P4), p5 = FloatVector.broadcast(F, ExpF.P5);
        FloatVector log2e = FloatVector.broadcast(F, ExpF.LOG2E), round = FloatVector.broadcast(F, ExpF.ROUND);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = 0; i < bound; i += vl) {
            int at = Math.min(i, bound - vl);
            FloatVector v = FloatVector.fromArray(F, x, xOff + at).sub(vCenter).mul(vScale).add(vShift);
            // e = ExpF.expNonPositive(−|v|), the same fused operations in the same order, written out
            // here (a helper taking and returning vectors is not always inlined; see the top). The
            // scalar clamp of t below LO is left out: such lanes are flushed to 0 all the same.
            FloatVector t = v.abs().neg();
            VectorMask<Float> under = t.lt(ExpF.LO);
            FloatVector shifted = t.fma(log2e, round);   // n + 1.5·2²³
            FloatVector nf = shifted.sub(round);
            FloatVector r = nf.fma(mLn2Hi, t);
            r = nf.fma(mLn2Lo, r);
            FloatVector p = r.fma(ExpF.P0, ExpF.P1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            FloatVector poly = p.fma(r.mul(r), r).add(one);
            IntVector bits = shifted.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = poly.mul(bits.reinterpretAsFloats()).blend(0f, under);
            FloatVector d = e.add(one);
            one.blend(e, v.lt(0f)).div(d).intoArray(y, yOff + at);
        }
        for (int i = bound; i < n; i++) y[yOff + i] = ExpF.sigmoid((x[xOff + i] - center) * scale + shift);
    }

    // ---- the sigmoid's backward ------------------------------------------------------------

    @Override
    public void sigmoidBackward(float[] dx, int dxOff, float[] dy, int dyOff, float[] y, int yOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, y, yOff + i);
            FloatVector g = FloatVector.fromArray(F, dy, dyOff + i).mul(v).mul(FloatVector.broadcast(F, 1f).sub(v));
            FloatVector.fromArray(F, dx, dxOff + i).add(g).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            float v = y[yOff + i];
            dx[dxOff + i] += dy[dyOff + i] * v * (1f - v);
        }
    }

    // ---- 2×2 average pooling and its sigmoid backward: contiguous loads and in-register shuffles ----
    // (gathers were twice the scalar loop's speed on Intel's AVX-512 cores, but slower than the
    // scalar loop on AMD's Zen 4, measured)

    /** Lanes 0..L/2-1 take lanes 0, 2, …, L-2 of a vector (the even lanes, packed low); the rest lane 0. */
    private static final VectorShuffle<Float> EVEN_LO = VectorShuffle.fromOp(F, i -> i < F.length() / 2 ? 2 * i : 0);
    /** Lanes L/2..L-1 take lanes 0, 2, …, L-2 (the even lanes, packed high); the rest lane 0. */
    private static final VectorShuffle<Float> EVEN_HI = VectorShuffle.fromOp(F, i -> i < F.length() / 2 ? 0 : 2 * i - F.length());
    /** The upper half of the lanes. */
    private static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(F, ((1L << F.length()) - 1) & -(1L << (F.length() / 2)));
    /** Lane i takes lane i/2: each of the first L/2 lanes twice. */
    private static final VectorShuffle<Float> TWICE = VectorShuffle.fromOp(F, i -> i / 2);
    /** Lane i takes lane (i mod L/2)/2: each of the first L/4 lanes twice, in both halves (a window row pair of rows of L/2). */
    private static final VectorShuffle<Float> TWICE_EACH_HALF = VectorShuffle.fromOp(F, i -> (i % (F.length() / 2)) / 2);

    /** Lane i·L/4 + j (j < L/4) takes lane 2j: the even lanes of the first half, packed into quarter i. */
    private static final VectorShuffle<Float> Q0 = quarterEven(0), Q1 = quarterEven(1), Q2 = quarterEven(2), Q3 = quarterEven(3);
    /** Quarter i of the lanes. */
    private static final VectorMask<Float> M1 = quarter(1), M2 = quarter(2), M3 = quarter(3);

    private static VectorShuffle<Float> quarterEven(int k) {
        int q = F.length() / 4;
        return VectorShuffle.fromOp(F, lane -> lane / q == k ? 2 * (lane % q) : 0);
    }

    private static VectorMask<Float> quarter(int k) {
        int q = F.length() / 4;
        return VectorMask.fromLong(F, ((1L << q) - 1) << (k * q));
    }

    /**
     * {@link #avgPool2x2} of rows of w = L/2 floats, where one vector holds a row pair: for the pair
     * at t, the lanes k of 0 + y[t + k] + y[t + k + 1] + y[t + w + k] + y[t + w + k + 1] hold the
     * windows at the even k (PyTorch's order, as the row-by-row path), and the windows of four
     * pairs are packed into one vector of L outputs. The shifted loads reach w + 1 floats past the
     * fourth pair (into the next plane); where that would leave the array, and for the pairs left
     * over, the scalar rows. [256, 16, 8, 8] plane by plane: 0.138 → 0.081 ms (best of 300, one
     * thread, AMD Zen 4; the scalar rows before). Shuffles held in an array instead of constants
     * were slower than the scalar loop (0.228 ms).
     */
    private static void avgPool2x2HalfRows(float[] p, int pOff, float[] y, int yOff, int oh, int w) {
        int ow = w / 2, r = 0;
        FloatVector zero = FloatVector.zero(F);
        for (; r + 3 < oh && yOff + 2 * (r + 3) * w + 3 * w < y.length; r += 4) {
            int t = yOff + 2 * r * w;
            // lanes k of each pair: 0 + y[t + k] + y[t + k + 1] + y[t + w + k] + y[t + w + k + 1], written out:
            // a helper returning the vector is not always inlined, and then boxes it (LeNet's pooling
            // allocated 3.7 MB a step that way)
            int t1 = t + 2 * w, t2 = t + 4 * w, t3 = t + 6 * w;
            FloatVector s0 = zero.add(FloatVector.fromArray(F, y, t)).add(FloatVector.fromArray(F, y, t + 1))
                    .add(FloatVector.fromArray(F, y, t + w)).add(FloatVector.fromArray(F, y, t + w + 1)).rearrange(Q0);
            FloatVector s1 = zero.add(FloatVector.fromArray(F, y, t1)).add(FloatVector.fromArray(F, y, t1 + 1))
                    .add(FloatVector.fromArray(F, y, t1 + w)).add(FloatVector.fromArray(F, y, t1 + w + 1)).rearrange(Q1);
            FloatVector s2 = zero.add(FloatVector.fromArray(F, y, t2)).add(FloatVector.fromArray(F, y, t2 + 1))
                    .add(FloatVector.fromArray(F, y, t2 + w)).add(FloatVector.fromArray(F, y, t2 + w + 1)).rearrange(Q2);
            FloatVector s3 = zero.add(FloatVector.fromArray(F, y, t3)).add(FloatVector.fromArray(F, y, t3 + 1))
                    .add(FloatVector.fromArray(F, y, t3 + w)).add(FloatVector.fromArray(F, y, t3 + w + 1)).rearrange(Q3);
            s0.blend(s1, M1).blend(s2, M2).blend(s3, M3).mul(0.25f).intoArray(p, pOff + r * ow);
        }
        for (; r < oh; r++) ScalarLoops.avgPool2x2Row(p, pOff + r * ow, y, yOff + 2 * r * w, w, ow);
    }

    /**
     * One output row at a time (rows but the last, which is scalar): for L outputs starting at
     * column j, each window's top pair (a + b) lands in the even lanes of the top row's elements
     * added to themselves shifted by one, then c and d likewise from the bottom row, in PyTorch's
     * order (0 + a + b + c + d); two such vectors' even lanes are packed into one. Rows of at least
     * L outputs take vectors at j = 0, L, … and one ending at the row's end (overlapping the one
     * before: the same values again); shorter rows take one vector whose lanes past the row are
     * written with meaningless values, then overwritten by the next row's. Reads stay inside the
     * plane's rows (the shifted loads reach one element into the next row at most); planes with
     * fewer than L/2 outputs per row take the scalar twin.
     */
    @Override
    public void avgPool2x2(float[] p, int pOff, float[] y, int yOff, int h, int w) {
        int oh = h / 2, ow = w / 2, vl = F.length(), outs = oh * ow;
        if (w == vl / 2) {   // rows of half a vector (LeNet's 8 x 8 planes): four row pairs a vector of outputs
            avgPool2x2HalfRows(p, pOff, y, yOff, oh, w);
            return;
        }
        if (ow < vl / 2 || oh < 2) {
            ScalarLoops.INSTANCE.avgPool2x2(p, pOff, y, yOff, h, w);
            return;
        }
        FloatVector zero = FloatVector.zero(F);
        for (int r = 0; r < oh; r++) {
            int top = yOff + 2 * r * w, out = pOff + r * ow;
            // the last row (and, in planes of short rows, the rows whose vector would write past the plane)
            if (r == oh - 1 || (ow < vl && r * ow + vl > outs)) {
                ScalarLoops.avgPool2x2Row(p, out, y, top, w, ow);
                continue;
            }
            for (int j = 0; ; j += vl) {
                if (ow >= vl && j > ow - vl) j = ow - vl;
                int t = top + 2 * j, u = t + vl;   // the window sums written out, as in avgPool2x2HalfRows
                FloatVector lo = zero.add(FloatVector.fromArray(F, y, t)).add(FloatVector.fromArray(F, y, t + 1))
                        .add(FloatVector.fromArray(F, y, t + w)).add(FloatVector.fromArray(F, y, t + w + 1));
                FloatVector hi = zero.add(FloatVector.fromArray(F, y, u)).add(FloatVector.fromArray(F, y, u + 1))
                        .add(FloatVector.fromArray(F, y, u + w)).add(FloatVector.fromArray(F, y, u + w + 1));
                lo.rearrange(EVEN_LO).blend(hi.rearrange(EVEN_HI), HIGH_HALF).mul(0.25f).intoArray(p, out + j);
                if (ow < vl || j == ow - vl) break;
            }
        }
    }

    /**
     * One row at a time: the pooled gradients of a row's L columns starting at c (even) are
     * L/2 consecutive values, loaded at once and each put in two lanes by a shuffle. Rows of at
     * least L columns take vectors at c = 0, L, … and one ending at the row's end; shorter rows one
     * vector whose lanes past the row are overwritten by the next row's, the rows where that vector
     * would leave the plane (or a load the array) in scalar. Odd h or w, or rows shorter than L/2,
     * take the scalar twin.
     */
    @Override
    public void sigmoidBackwardPooled2x2(float[] dPre, int dOff, float[] dPool, int pOff, float[] y, int yOff, int h, int w) {
        int n = h * w, vl = F.length(), ow = w / 2;
        if (h % 2 != 0 || w % 2 != 0 || w < vl / 2) {
            ScalarLoops.INSTANCE.sigmoidBackwardPooled2x2(dPre, dOff, dPool, pOff, y, yOff, h, w);
            return;
        }
        FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
        // rows of half a vector (LeNet's 8 x 8 planes): a window row pair a vector, each pooled
        // gradient in two lanes of both rows ([256, 16, 8, 8] plane by plane: 0.171 -> 0.073-0.081 ms,
        // best of 300 on one thread, AMD Zen 4; row by row before, half of each vector thrown away
        // and the last row scalar)
        if (w == vl / 2) {
            for (int r = 0; r < h; r += 2) {
                int rowP = pOff + (r / 2) * ow, row = r * w;
                if (rowP + vl > dPool.length) {
                    ScalarLoops.sigmoidBackwardPooled2x2Row(dPre, dOff + row, dPool, rowP, y, yOff + row, w, w);
                    ScalarLoops.sigmoidBackwardPooled2x2Row(dPre, dOff + row + w, dPool, rowP, y, yOff + row + w, w, w);
                    continue;
                }
                FloatVector g = FloatVector.fromArray(F, dPool, rowP).rearrange(TWICE_EACH_HALF).mul(0.25f);
                FloatVector v = FloatVector.fromArray(F, y, yOff + row);
                zero.add(g.mul(v).mul(one.sub(v))).intoArray(dPre, dOff + row);
            }
            return;
        }
        for (int r = 0; r < h; r++) {
            int rowP = pOff + (r / 2) * ow, row = r * w;
            if ((w < vl && row + vl > n) || rowP + (w < vl ? 0 : ow - vl / 2) + vl > dPool.length) {
                ScalarLoops.sigmoidBackwardPooled2x2Row(dPre, dOff + row, dPool, rowP, y, yOff + row, w, w);
                continue;
            }
            for (int c = 0; ; c += vl) {
                if (w >= vl && c > w - vl) c = w - vl;
                FloatVector g = FloatVector.fromArray(F, dPool, rowP + c / 2).rearrange(TWICE).mul(0.25f);
                FloatVector v = FloatVector.fromArray(F, y, yOff + row + c);
                zero.add(g.mul(v).mul(one.sub(v))).intoArray(dPre, dOff + row + c);
                if (w < vl || c == w - vl) break;
            }
        }
    }
}
