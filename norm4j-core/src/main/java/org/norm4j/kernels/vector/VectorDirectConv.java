package org.norm4j.kernels.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.norm4j.kernels.DirectConv;
import org.norm4j.kernels.Scratch;

/**
 * {@link DirectConv} on Vector API lanes. Per call (a chunk of m images) the work arrays live in
 * {@link Scratch} slots 2 and 3 (slots 0 and 1 belong to the im2col path that calls around it):
 * <ul>
 *   <li>xs: the m images' planes zero-padded to pitch PW = W + 2·pW (plane stride PS = PH·PW), then
 *       a zeroed tail, so every shifted read is in bounds and finite;</li>
 *   <li>the output (forward) or dy (backward) planes on the same pitch, L floats each (L = the
 *       flattened output span rounded up to two vectors), junk columns zero in dy.</li>
 * </ul>
 * The forward takes output channels four or six at a time (zero weight rows pad the count: coutP), dW two
 * at a time (a zero dy plane pads an odd count: coutE) by four taps (extra taps read offset 0 and
 * are dropped). The flat layout ({@link DirectConv}'s second paragraph: {@code Geo.flat}) takes the
 * shifted copies in slot 3 instead of the output or dy planes, output channels six by three
 * vectors ({@code fmaFlat6}, 18 accumulators), dW three channels by five taps straight from dy.
 */
public final class VectorDirectConv implements DirectConv {
    public static final VectorDirectConv INSTANCE = new VectorDirectConv();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int VL = F.length();
    private static final VectorLoops LOOPS = VectorLoops.INSTANCE;

    /** The padded geometry of each shape met, computed once (a network has a few; every chunk of every step asks). */
    private static final java.util.concurrent.ConcurrentHashMap<Shape, Geo> GEOMETRY = new java.util.concurrent.ConcurrentHashMap<>();

    private VectorDirectConv() {}

    /** The padded geometry of one call. */
    private record Geo(int ph, int pw, int ps, int span, int len, int coutB, int coutP, int coutE, int kP, int[] offs,
                       boolean flat, int[] flatOffs) {
        static Geo of(Shape s) {
            int ph = s.h() + 2 * s.pH(), pw = s.w() + 2 * s.pW(), ps = ph * pw;
            int span = (s.outH() - 1) * pw + s.outW();
            int len = (span + 2 * VL - 1) / (2 * VL) * (2 * VL);
            int k = s.k(), kP = (k + 3) / 4 * 4;
            int[] offs = new int[kP];   // taps past k read offset 0: in bounds, dropped
            for (int ci = 0, t = 0; ci < s.cin(); ci++) {
                for (int ki = 0; ki < s.kH(); ki++) {
                    for (int kj = 0; kj < s.kW(); kj++) offs[t++] = ci * ps + ki * pw + kj;
                }
            }
            int coutB = (s.cout() + 5) / 6 * 6 <= (s.cout() + 3) / 4 * 4 ? 6 : 4;   // six at a time where that pads less
            // the flat layout: output planes whole vectors in threes, channels in sixes, taps in fives
            boolean flat = s.outH() * s.outW() % (3 * VL) == 0 && s.cout() % 6 == 0 && k % 5 == 0;
            int[] flatOffs = new int[k];   // tap (ci, ki, kj) reads copy (ci, kj) ki rows down
            for (int ci = 0, t = 0; ci < s.cin(); ci++) {
                for (int ki = 0; ki < s.kH(); ki++) {
                    for (int kj = 0; kj < s.kW(); kj++) flatOffs[t++] = (ci * s.kW() + kj) * ph * s.outW() + ki * s.outW();
                }
            }
            return new Geo(ph, pw, ps, span, len, coutB, (s.cout() + coutB - 1) / coutB * coutB, (s.cout() + 1) / 2 * 2, kP, offs,
                    flat, flatOffs);
        }

        /** Floats of one image's shifted copies in the flat layout: Cin·kW planes of PH rows by outW. */
        int flatImage(Shape s) {
            return s.cin() * s.kW() * ph * s.outW();
        }

        int imageStride(Shape s) {
            return s.cin() * ps;
        }

        /** xs floats for m images: their planes, then room for the farthest shifted read, zeroed. */
        int xsSize(Shape s, int m) {
            return m * imageStride(s) + len + offs[offs.length - 1] + 2 * VL;
        }
    }

    /** Copies the m images into xs, zero-padded, and zeroes the tail. */
    private static void pad(float[] xs, float[] x, int i0, int m, Shape s, Geo g) {
        int hw = s.h() * s.w(), planes = m * s.cin();
        if (s.pH() == 0 && s.pW() == 0) {
            System.arraycopy(x, i0 * s.cin() * hw, xs, 0, planes * hw);
        } else {
            java.util.Arrays.fill(xs, 0, planes * g.ps, 0f);
            for (int pl = 0; pl < planes; pl++) {
                int src = (i0 * s.cin() + pl) * hw, dst = pl * g.ps + s.pH() * g.pw + s.pW();
                for (int r = 0; r < s.h(); r++) System.arraycopy(x, src + r * s.w(), xs, dst + r * g.pw, s.w());
            }
        }
        java.util.Arrays.fill(xs, planes * g.ps, g.xsSize(s, m), 0f);
    }

    /**
     * The flat layout's input: for each of the m images and each (ci, kj), the padded plane shifted
     * left by kj and cut to outW columns, {@code xk[img, ci, kj, r, j] = xs[img, ci, r, j + kj]}
     * (PH rows). Output position q = r·outW + j of tap (ci, ki, kj) then reads
     * {@code xk[img, ci, kj][q + ki·outW]}: contiguous in q, so the output planes and dy are plain
     * runs of whole vectors, with no junk columns.
     */
    private static float[] flatCopies(float[] x, int i0, int m, Shape s, Geo g) {
        float[] xs = Scratch.floats(2, g.xsSize(s, m));
        pad(xs, x, i0, m, s, g);
        int outW = s.outW(), fi = g.flatImage(s);
        float[] xk = Scratch.floats(3, m * fi);
        for (int img = 0; img < m; img++) {
            for (int ci = 0; ci < s.cin(); ci++) {
                int src = (img * s.cin() + ci) * g.ps;
                for (int kj = 0; kj < s.kW(); kj++) {
                    int dst = img * fi + (ci * s.kW() + kj) * g.ph * outW;
                    for (int r = 0; r < g.ph; r++) {
                        int from = src + r * g.pw + kj, to = dst + r * outW;
                        if (outW < VL) {
                            System.arraycopy(xs, from, xk, to, outW);
                            continue;
                        }
                        for (int j = 0; ; j += VL) {   // the row's last vector ends at its end (overlapping the one before)
                            if (j > outW - VL) j = outW - VL;
                            FloatVector.fromArray(F, xs, from + j).intoArray(xk, to + j);
                            if (j == outW - VL) break;
                        }
                    }
                }
            }
        }
        return xk;
    }

    @Override
    public void forward(float[] y, float[] x, float[] w, float[] b, int i0, int m, Shape s) {
        Geo g = GEOMETRY.computeIfAbsent(s, Geo::of);
        int k = s.k(), outH = s.outH(), outW = s.outW(), cout = s.cout();
        if (g.flat) {
            float[] xk = flatCopies(x, i0, m, s, g);
            int plane = outH * outW, fi = g.flatImage(s);
            for (int img = 0; img < m; img++) {
                int yb = (i0 + img) * cout * plane;
                for (int co = 0; co < cout; co += 6) {
                    for (int q = 0; q < plane; q += 3 * VL) {
                        fmaFlat6(y, yb + co * plane + q, plane, w, b, co, xk, img * fi + q, g.flatOffs, k);
                    }
                }
            }
            return;
        }
        float[] xs = Scratch.floats(2, g.xsSize(s, m));
        pad(xs, x, i0, m, s, g);
        // the planes (a row block's lanes may run 2·VL past the last plane's span), then weights and bias, zero rows past cout
        float[] out = Scratch.floats(3, g.coutP * g.len + 2 * VL + g.coutP * k + g.coutP);
        int wOff = g.coutP * g.len + 2 * VL, bOff = wOff + g.coutP * k;
        System.arraycopy(w, 0, out, wOff, cout * k);
        java.util.Arrays.fill(out, wOff + cout * k, bOff + g.coutP, 0f);
        if (b != null) System.arraycopy(b, 0, out, bOff, cout);
        int[] offs = g.offs;
        int plane = outH * outW;
        // where an output row fits in a block of two vectors (LeNet's conv1: 24 or 28 outputs, 16
        // lanes) the blocks go row by row and their accumulators straight into y, the second
        // vector's lanes past the row into the next row's first columns, which that row's block
        // then writes; the last row (whose extra lanes would reach the next plane) goes through
        // out. Otherwise blocks of two vectors along the padded span, through out
        boolean rows = g.coutP == cout && outW > VL && outW <= 2 * VL;
        int step = rows ? g.pw : 2 * VL, end = rows ? outH * g.pw : g.len;
        for (int img = 0; img < m; img++) {
            int xb = img * g.imageStride(s), yb = (i0 + img) * cout * plane;
            for (int co = 0; co < g.coutP; co += g.coutB) {
                for (int i = 0; i < end; i += step) {
                    int r = i / g.pw;
                    boolean intoY = rows && r < outH - 1;
                    float[] dst = intoY ? y : out;
                    int o = intoY ? yb + co * plane + r * outW : co * g.len + i, cs = intoY ? plane : g.len;
                    if (g.coutB == 6) fmaBlock6(dst, o, cs, out, xs, xb + i, offs, k, wOff + co * k, bOff + co);
                    else fmaBlock(dst, o, cs, out, xs, xb + i, offs, k, wOff + co * k, bOff + co);
                }
            }
            for (int co = 0; co < cout; co++) {
                int dst = yb + co * plane;
                for (int r = rows ? outH - 1 : 0; r < outH; r++) System.arraycopy(out, co * g.len + r * g.pw, y, dst + r * outW, outW);
            }
        }
    }

    /**
     * Four output channels by two vectors of positions: out[o + c·len + ·] = b[c] + Σ_t w[c·k + t]·xs[x0 + off(t) + ·]
     * for c &lt; 4, with the weights at wOff (rows k apart) and biases at bOff in {@code wb}.
     * The accumulators live in this one loop: a vector carried through nested loops, or across a
     * call, is boxed by JDK 17's compiler in some compilations (an OSR-compiled kernel was).
     */
    private static void fmaBlock(float[] out, int o, int len, float[] wb, float[] xs, int x0, int[] offs, int k, int wOff, int bOff) {
        int w0 = wOff, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        FloatVector a00 = FloatVector.broadcast(F, wb[bOff]), a01 = a00;
        FloatVector a10 = FloatVector.broadcast(F, wb[bOff + 1]), a11 = a10;
        FloatVector a20 = FloatVector.broadcast(F, wb[bOff + 2]), a21 = a20;
        FloatVector a30 = FloatVector.broadcast(F, wb[bOff + 3]), a31 = a30;
        for (int t = 0; t < k; t++) {
            int at = x0 + offs[t];
            FloatVector x1 = FloatVector.fromArray(F, xs, at), x2 = FloatVector.fromArray(F, xs, at + VL);
            FloatVector u = FloatVector.broadcast(F, wb[w0 + t]);
            a00 = x1.fma(u, a00);
            a01 = x2.fma(u, a01);
            u = FloatVector.broadcast(F, wb[w1 + t]);
            a10 = x1.fma(u, a10);
            a11 = x2.fma(u, a11);
            u = FloatVector.broadcast(F, wb[w2 + t]);
            a20 = x1.fma(u, a20);
            a21 = x2.fma(u, a21);
            u = FloatVector.broadcast(F, wb[w3 + t]);
            a30 = x1.fma(u, a30);
            a31 = x2.fma(u, a31);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + VL);
        a10.intoArray(out, o + len);
        a11.intoArray(out, o + len + VL);
        a20.intoArray(out, o + 2 * len);
        a21.intoArray(out, o + 2 * len + VL);
        a30.intoArray(out, o + 3 * len);
        a31.intoArray(out, o + 3 * len + VL);
    }

    /** {@link #fmaBlock} for six output channels (LeNet's conv1: no zero channels), twelve accumulators. */
    private static void fmaBlock6(float[] out, int o, int len, float[] wb, float[] xs, int x0, int[] offs, int k, int wOff, int bOff) {
        int w0 = wOff, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k, w4 = w3 + k, w5 = w4 + k;
        FloatVector a00 = FloatVector.broadcast(F, wb[bOff]), a01 = a00;
        FloatVector a10 = FloatVector.broadcast(F, wb[bOff + 1]), a11 = a10;
        FloatVector a20 = FloatVector.broadcast(F, wb[bOff + 2]), a21 = a20;
        FloatVector a30 = FloatVector.broadcast(F, wb[bOff + 3]), a31 = a30;
        FloatVector a40 = FloatVector.broadcast(F, wb[bOff + 4]), a41 = a40;
        FloatVector a50 = FloatVector.broadcast(F, wb[bOff + 5]), a51 = a50;
        for (int t = 0; t < k; t++) {
            int at = x0 + offs[t];
            FloatVector x1 = FloatVector.fromArray(F, xs, at), x2 = FloatVector.fromArray(F, xs, at + VL);
            FloatVector u = FloatVector.broadcast(F, wb[w0 + t]);
            a00 = x1.fma(u, a00);
            a01 = x2.fma(u, a01);
            u = FloatVector.broadcast(F, wb[w1 + t]);
            a10 = x1.fma(u, a10);
            a11 = x2.fma(u, a11);
            u = FloatVector.broadcast(F, wb[w2 + t]);
            a20 = x1.fma(u, a20);
            a21 = x2.fma(u, a21);
            u = FloatVector.broadcast(F, wb[w3 + t]);
            a30 = x1.fma(u, a30);
            a31 = x2.fma(u, a31);
            u = FloatVector.broadcast(F, wb[w4 + t]);
            a40 = x1.fma(u, a40);
            a41 = x2.fma(u, a41);
            u = FloatVector.broadcast(F, wb[w5 + t]);
            a50 = x1.fma(u, a50);
            a51 = x2.fma(u, a51);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + VL);
        a10.intoArray(out, o + len);
        a11.intoArray(out, o + len + VL);
        a20.intoArray(out, o + 2 * len);
        a21.intoArray(out, o + 2 * len + VL);
        a30.intoArray(out, o + 3 * len);
        a31.intoArray(out, o + 3 * len + VL);
        a40.intoArray(out, o + 4 * len);
        a41.intoArray(out, o + 4 * len + VL);
        a50.intoArray(out, o + 5 * len);
        a51.intoArray(out, o + 5 * len + VL);
    }

    /**
     * Six output channels by three vectors of a flat output plane: y[o + c·plane + ·] = b[c] +
     * Σ_t w[c·k + t]·xk[x0 + off(t) + ·] for output channels co + c (b null: no bias), in tap order
     * as {@link #fmaBlock6} (the same bits); 18 accumulators.
     */
    private static void fmaFlat6(float[] y, int o, int plane, float[] w, float[] b, int co, float[] xk, int x0, int[] offs, int k) {
        int w0 = co * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k, w4 = w3 + k, w5 = w4 + k;
        FloatVector a00 = FloatVector.broadcast(F, b == null ? 0f : b[co]), a01 = a00, a02 = a00;
        FloatVector a10 = FloatVector.broadcast(F, b == null ? 0f : b[co + 1]), a11 = a10, a12 = a10;
        FloatVector a20 = FloatVector.broadcast(F, b == null ? 0f : b[co + 2]), a21 = a20, a22 = a20;
        FloatVector a30 = FloatVector.broadcast(F, b == null ? 0f : b[co + 3]), a31 = a30, a32 = a30;
        FloatVector a40 = FloatVector.broadcast(F, b == null ? 0f : b[co + 4]), a41 = a40, a42 = a40;
        FloatVector a50 = FloatVector.broadcast(F, b == null ? 0f : b[co + 5]), a51 = a50, a52 = a50;
        for (int t = 0; t < k; t++) {
            int at = x0 + offs[t];
            FloatVector x1 = FloatVector.fromArray(F, xk, at), x2 = FloatVector.fromArray(F, xk, at + VL);
            FloatVector x3 = FloatVector.fromArray(F, xk, at + 2 * VL);
            FloatVector u = FloatVector.broadcast(F, w[w0 + t]);
            a00 = x1.fma(u, a00);
            a01 = x2.fma(u, a01);
            a02 = x3.fma(u, a02);
            u = FloatVector.broadcast(F, w[w1 + t]);
            a10 = x1.fma(u, a10);
            a11 = x2.fma(u, a11);
            a12 = x3.fma(u, a12);
            u = FloatVector.broadcast(F, w[w2 + t]);
            a20 = x1.fma(u, a20);
            a21 = x2.fma(u, a21);
            a22 = x3.fma(u, a22);
            u = FloatVector.broadcast(F, w[w3 + t]);
            a30 = x1.fma(u, a30);
            a31 = x2.fma(u, a31);
            a32 = x3.fma(u, a32);
            u = FloatVector.broadcast(F, w[w4 + t]);
            a40 = x1.fma(u, a40);
            a41 = x2.fma(u, a41);
            a42 = x3.fma(u, a42);
            u = FloatVector.broadcast(F, w[w5 + t]);
            a50 = x1.fma(u, a50);
            a51 = x2.fma(u, a51);
            a52 = x3.fma(u, a52);
        }
        a00.intoArray(y, o);
        a01.intoArray(y, o + VL);
        a02.intoArray(y, o + 2 * VL);
        a10.intoArray(y, o + plane);
        a11.intoArray(y, o + plane + VL);
        a12.intoArray(y, o + plane + 2 * VL);
        a20.intoArray(y, o + 2 * plane);
        a21.intoArray(y, o + 2 * plane + VL);
        a22.intoArray(y, o + 2 * plane + 2 * VL);
        a30.intoArray(y, o + 3 * plane);
        a31.intoArray(y, o + 3 * plane + VL);
        a32.intoArray(y, o + 3 * plane + 2 * VL);
        a40.intoArray(y, o + 4 * plane);
        a41.intoArray(y, o + 4 * plane + VL);
        a42.intoArray(y, o + 4 * plane + 2 * VL);
        a50.intoArray(y, o + 5 * plane);
        a51.intoArray(y, o + 5 * plane + VL);
        a52.intoArray(y, o + 5 * plane + 2 * VL);
    }

    @Override
    public void backward(double[] dW, double[] dB, float[] dy, float[] x, int i0, int m, Shape s) {
        Geo g = GEOMETRY.computeIfAbsent(s, Geo::of);
        if (g.flat) {
            backwardFlat(dW, dB, dy, x, i0, m, s, g);
            return;
        }
        int k = s.k(), outH = s.outH(), outW = s.outW(), cout = s.cout(), hw = outH * outW;
        // dy on the padded pitch, junk columns and the odd channel's plane zero
        float[] dys = Scratch.floats(3, m * g.coutE * g.len + 2 * VL);
        // rows of VL < outW ≤ 2·VL (LeNet's conv1) as two vectors each, the second's lanes past the
        // row zero: they write the junk columns and the next row's first columns (that row's
        // copy then overwrites them; past a plane's span the next plane's, or the array's slack)
        boolean rows = outW > VL && outW <= 2 * VL;
        if (!rows) java.util.Arrays.fill(dys, 0, m * g.coutE * g.len, 0f);
        else if (g.coutE > cout) for (int img = 0; img < m; img++) java.util.Arrays.fill(dys, (img * g.coutE + cout) * g.len, (img + 1) * g.coutE * g.len, 0f);
        VectorMask<Float> past = F.indexInRange(0, outW - VL).not();   // lanes of the second vector past the row
        FloatVector zero = FloatVector.zero(F);
        for (int img = 0; img < m; img++) {
            for (int co = 0; co < cout; co++) {
                int src = ((i0 + img) * cout + co) * hw, dst = (img * g.coutE + co) * g.len;
                for (int r = 0; r < outH; r++) {
                    int from = src + r * outW, to = dst + r * g.pw;
                    if (rows && from + 2 * VL <= dy.length) {
                        FloatVector.fromArray(F, dy, from).intoArray(dys, to);
                        FloatVector.fromArray(F, dy, from + VL).blend(zero, past).intoArray(dys, to + VL);
                    } else {
                        System.arraycopy(dy, from, dys, to, outW);
                        if (rows) java.util.Arrays.fill(dys, to + outW, Math.min(to + 2 * VL, dys.length), 0f);
                    }
                }
                int written = dst + (outH - 1) * g.pw + 2 * VL;   // the plane's junk past its last row's vectors
                if (rows && written < dst + g.len) java.util.Arrays.fill(dys, written, dst + g.len, 0f);
                if (dB != null) dB[co] += LOOPS.sum(dy, src, hw);
            }
        }
        if (dW != null) {
            float[] xs = Scratch.floats(2, g.xsSize(s, m));
            pad(xs, x, i0, m, s, g);
            weightGradient(dW, dys, xs, m, s, g);
        }
    }

    /**
     * Backward in the flat layout: dy's planes are read where they are (whole vectors, no junk
     * columns to zero, no copy), dotted with the shifted copies three channels by five taps as in
     * {@link #weightGradient35}.
     */
    private static void backwardFlat(double[] dW, double[] dB, float[] dy, float[] x, int i0, int m, Shape s, Geo g) {
        int k = s.k(), cout = s.cout(), plane = s.outH() * s.outW();
        if (dB != null) {
            for (int img = 0; img < m; img++) {
                for (int co = 0; co < cout; co++) dB[co] += LOOPS.sum(dy, ((i0 + img) * cout + co) * plane, plane);
            }
        }
        if (dW == null) return;
        float[] xk = flatCopies(x, i0, m, s, g);
        int fi = g.flatImage(s);
        int[] offs = g.flatOffs;
        float[] acc = new float[15 * VL];
        for (int co = 0; co < cout; co += 3) {
            for (int t = 0; t < k; t += 5) {
                java.util.Arrays.fill(acc, 0f);
                for (int img = 0; img < m; img++) {
                    dotBlock35(acc, dy, ((i0 + img) * cout + co) * plane, plane, xk, img * fi + offs[t], offs[t + 1] - offs[t],
                            offs[t + 2] - offs[t], offs[t + 3] - offs[t], offs[t + 4] - offs[t]);
                }
                addLanes(dW, acc, co, 3, t, 5, 5, k);
            }
        }
    }

    /**
     * dW[co, t] += Σ_img Σ_i dys[img, co, i]·xs[img, i + off(t)]: two channels by four taps per pass,
     * eight lane accumulators kept in a small array between images (a vector carried through two
     * nested loops is boxed by JDK 17's compiler; through one it stays in registers).
     */
    private static void weightGradient(double[] dW, float[] dys, float[] xs, int m, Shape s, Geo g) {
        int k = s.k(), cout = s.cout(), is = g.imageStride(s);
        int[] offs = g.offs;
        if (cout % 3 == 0 && k % 5 == 0) {   // LeNet's conv1 (6 channels, 25 taps): three channels by five taps, no padded taps
            weightGradient35(dW, dys, xs, m, s, g);
            return;
        }
        float[] acc = new float[8 * VL];
        for (int co = 0; co < g.coutE; co += 2) {
            for (int t = 0; t < g.kP; t += 4) {
                java.util.Arrays.fill(acc, 0f);
                for (int img = 0; img < m; img++) {
                    int d0 = (img * g.coutE + co) * g.len, xb = img * is;
                    dotBlock(acc, dys, d0, d0 + g.len, xs, xb + offs[t], xb + offs[t + 1], xb + offs[t + 2], xb + offs[t + 3], g.len);
                }
                addLanes(dW, acc, co, Math.min(2, cout - co), t, Math.min(4, k - t), 4, k);
            }
        }
    }

    /**
     * dW[(co + c)·k + t + j] += the lanes of block accumulator (c·taps + j), added in double in lane
     * order, for c &lt; channels and j &lt; used (the block's taps past k are dropped).
     */
    private static void addLanes(double[] dW, float[] acc, int co, int channels, int t, int used, int taps, int k) {
        for (int c = 0; c < channels; c++) {
            for (int j = 0; j < used; j++) {
                double sum = 0;
                for (int l = 0; l < VL; l++) sum += acc[(c * taps + j) * VL + l];
                dW[(co + c) * k + t + j] += sum;
            }
        }
    }

    /**
     * {@link #weightGradient} three channels by five taps per pass (cout a multiple of 3, k of 5):
     * 15 FMAs per 8 loads instead of 8 per 6, and no padded taps (25 of 25 instead of 28). Each
     * dW entry is the same sum as there: per lane over the images and positions in the same order,
     * then the lanes in double.
     */
    private static void weightGradient35(double[] dW, float[] dys, float[] xs, int m, Shape s, Geo g) {
        int k = s.k(), is = g.imageStride(s);
        int[] offs = g.offs;
        float[] acc = new float[15 * VL];
        for (int co = 0; co < s.cout(); co += 3) {
            for (int t = 0; t < k; t += 5) {
                java.util.Arrays.fill(acc, 0f);
                for (int img = 0; img < m; img++) {
                    int d0 = (img * g.coutE + co) * g.len, xb = img * is + offs[t];
                    dotBlock35(acc, dys, d0, g.len, xs, xb, offs[t + 1] - offs[t], offs[t + 2] - offs[t], offs[t + 3] - offs[t],
                            offs[t + 4] - offs[t]);
                }
                addLanes(dW, acc, co, 3, t, 5, 5, k);
            }
        }
    }

    /** acc[(c·5 + j)·VL + lane] += Σ_i dys[d0 + c·len + i]·xs[o + e_j + i] (e_0 = 0), lane by lane, c &lt; 3, j &lt; 5. */
    private static void dotBlock35(float[] acc, float[] dys, int d0, int len, float[] xs, int o, int e1, int e2, int e3, int e4) {
        FloatVector a00 = FloatVector.fromArray(F, acc, 0), a01 = FloatVector.fromArray(F, acc, VL), a02 = FloatVector.fromArray(F, acc, 2 * VL);
        FloatVector a03 = FloatVector.fromArray(F, acc, 3 * VL), a04 = FloatVector.fromArray(F, acc, 4 * VL);
        FloatVector a10 = FloatVector.fromArray(F, acc, 5 * VL), a11 = FloatVector.fromArray(F, acc, 6 * VL), a12 = FloatVector.fromArray(F, acc, 7 * VL);
        FloatVector a13 = FloatVector.fromArray(F, acc, 8 * VL), a14 = FloatVector.fromArray(F, acc, 9 * VL);
        FloatVector a20 = FloatVector.fromArray(F, acc, 10 * VL), a21 = FloatVector.fromArray(F, acc, 11 * VL), a22 = FloatVector.fromArray(F, acc, 12 * VL);
        FloatVector a23 = FloatVector.fromArray(F, acc, 13 * VL), a24 = FloatVector.fromArray(F, acc, 14 * VL);
        int d1 = d0 + len, d2 = d1 + len;
        for (int i = 0; i < len; i += VL) {
            FloatVector u = FloatVector.fromArray(F, dys, d0 + i), v = FloatVector.fromArray(F, dys, d1 + i), w = FloatVector.fromArray(F, dys, d2 + i);
            FloatVector x = FloatVector.fromArray(F, xs, o + i);
            a00 = u.fma(x, a00);
            a10 = v.fma(x, a10);
            a20 = w.fma(x, a20);
            x = FloatVector.fromArray(F, xs, o + e1 + i);
            a01 = u.fma(x, a01);
            a11 = v.fma(x, a11);
            a21 = w.fma(x, a21);
            x = FloatVector.fromArray(F, xs, o + e2 + i);
            a02 = u.fma(x, a02);
            a12 = v.fma(x, a12);
            a22 = w.fma(x, a22);
            x = FloatVector.fromArray(F, xs, o + e3 + i);
            a03 = u.fma(x, a03);
            a13 = v.fma(x, a13);
            a23 = w.fma(x, a23);
            x = FloatVector.fromArray(F, xs, o + e4 + i);
            a04 = u.fma(x, a04);
            a14 = v.fma(x, a14);
            a24 = w.fma(x, a24);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a02.intoArray(acc, 2 * VL);
        a03.intoArray(acc, 3 * VL);
        a04.intoArray(acc, 4 * VL);
        a10.intoArray(acc, 5 * VL);
        a11.intoArray(acc, 6 * VL);
        a12.intoArray(acc, 7 * VL);
        a13.intoArray(acc, 8 * VL);
        a14.intoArray(acc, 9 * VL);
        a20.intoArray(acc, 10 * VL);
        a21.intoArray(acc, 11 * VL);
        a22.intoArray(acc, 12 * VL);
        a23.intoArray(acc, 13 * VL);
        a24.intoArray(acc, 14 * VL);
    }

    /** acc[(c·4 + j)·VL + lane] += Σ_i dys[d_c + i]·xs[o_j + i], lane by lane. */
    private static void dotBlock(float[] acc, float[] dys, int d0, int d1, float[] xs, int o0, int o1, int o2, int o3, int len) {
        FloatVector a00 = FloatVector.fromArray(F, acc, 0), a01 = FloatVector.fromArray(F, acc, VL);
        FloatVector a02 = FloatVector.fromArray(F, acc, 2 * VL), a03 = FloatVector.fromArray(F, acc, 3 * VL);
        FloatVector a10 = FloatVector.fromArray(F, acc, 4 * VL), a11 = FloatVector.fromArray(F, acc, 5 * VL);
        FloatVector a12 = FloatVector.fromArray(F, acc, 6 * VL), a13 = FloatVector.fromArray(F, acc, 7 * VL);
        for (int i = 0; i < len; i += VL) {
            FloatVector u = FloatVector.fromArray(F, dys, d0 + i), v = FloatVector.fromArray(F, dys, d1 + i);
            FloatVector x0 = FloatVector.fromArray(F, xs, o0 + i), x1 = FloatVector.fromArray(F, xs, o1 + i);
            FloatVector x2 = FloatVector.fromArray(F, xs, o2 + i), x3 = FloatVector.fromArray(F, xs, o3 + i);
            a00 = u.fma(x0, a00);
            a01 = u.fma(x1, a01);
            a02 = u.fma(x2, a02);
            a03 = u.fma(x3, a03);
            a10 = v.fma(x0, a10);
            a11 = v.fma(x1, a11);
            a12 = v.fma(x2, a12);
            a13 = v.fma(x3, a13);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a02.intoArray(acc, 2 * VL);
        a03.intoArray(acc, 3 * VL);
        a10.intoArray(acc, 4 * VL);
        a11.intoArray(acc, 5 * VL);
        a12.intoArray(acc, 6 * VL);
        a13.intoArray(acc, 7 * VL);
    }
}
