package org.norm4j.kernels.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.norm4j.kernels.DirectConv.Shape;
import org.norm4j.kernels.LaneConv;
import org.norm4j.kernels.Scratch;

/**
 * {@link LaneConv} on Vector API lanes: L = {@code SPECIES_PREFERRED.length()} images per group.
 * Layouts, per group, every position a vector of L floats (lane = image):
 * <ul>
 *   <li>xT [Cin, PH, PW]: the input zero-padded (PH = H + 2·pH, PW = W + 2·pW), then a zeroed tail
 *       for the reads of the last row's extra positions;</li>
 *   <li>yT [Cout↑4, OH, OW↑4]: the output, rows rounded up to four positions (extra ones dropped);</li>
 *   <li>dyT [Cout↑4, OH, PWd]: dy with kW − 1 zero columns on the left and zeros to PWd = W↑4 + pW + kW − 1
 *       on the right, so that dx's taps read zeros where no output was;</li>
 *   <li>dxT [Cin↑4, H, W↑4].</li>
 * </ul>
 * Weights are laid out tap-major with the output channels of the block side by side (zero
 * channels pad to four): forward taps t = (ci, ki, kj), dx taps (ki, co, kj) so that the taps of
 * one dx row (the ki whose dy row exists) are a contiguous range. dW accumulates in float lanes over
 * the call's groups, then each (co, t) folds its lanes into double. Scratch slots 2–6.
 */
public final class VectorLaneConv implements LaneConv {
    public static final VectorLaneConv INSTANCE = new VectorLaneConv();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int VL = F.length();
    private static final VectorLoops LOOPS = VectorLoops.INSTANCE;

    private static final java.util.concurrent.ConcurrentHashMap<Shape, Geo> GEOMETRY = new java.util.concurrent.ConcurrentHashMap<>();

    private VectorLaneConv() {}

    @Override
    public int lanes() {
        return VL;
    }

    /** The layouts of one shape, computed once. */
    private record Geo(int ph, int pw, int oh, int ow, int owP, int wP, int pwd, int coutP, int cinB, int cinP, int k, int kP,
                       int[] offs, int[] offsDx, int[] xb, int[] yb, int[] inPos, int[] outPos, int[] dxPos, int[] inIdx, int[] outIdx,
                       int[] taps, int[] dxTaps, int[] dxTapStart, int bw) {
        static Geo of(Shape s) {
            int ph = s.h() + 2 * s.pH(), pw = s.w() + 2 * s.pW(), oh = s.outH(), ow = s.outW();
            // forward blocks of four or five positions along a row, whichever pads the row less (LeNet's conv2: 10 = 2·5)
            int bw = (ow + 4) / 5 * 5 < (ow + 3) / 4 * 4 ? 5 : 4;
            int owP = (ow + bw - 1) / bw * bw, wP = (s.w() + 3) / 4 * 4, pwd = wP + s.pW() + s.kW() - 1;
            int k = s.k(), kP = (k + 5) / 6 * 6;   // dW in blocks of six taps
            int[] offs = new int[k], offsDx = new int[s.kH() * s.cout() * s.kW()];
            for (int ci = 0, t = 0; ci < s.cin(); ci++) {
                for (int ki = 0; ki < s.kH(); ki++) {
                    for (int kj = 0; kj < s.kW(); kj++) offs[t++] = ((ci * ph + ki) * pw + kj) * VL;
                }
            }
            for (int ki = 0, t = 0; ki < s.kH(); ki++) {
                for (int co = 0; co < s.cout(); co++) {
                    for (int kj = 0; kj < s.kW(); kj++) offsDx[t++] = ((co * oh + s.pH() - ki) * pwd + s.pW() + s.kW() - 1 - kj) * VL;
                }
            }
            int[] xb = new int[oh * ow], yb = new int[oh * ow];
            for (int r = 0, p = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++, p++) {
                    xb[p] = (r * pw + c) * VL;
                    yb[p] = (r * pwd + c + s.kW() - 1) * VL;
                }
            }
            int[] inPos = new int[s.h() * s.w()], outPos = new int[oh * ow], dxPos = new int[s.h() * s.w()];
            for (int r = 0, p = 0; r < s.h(); r++) {
                for (int c = 0; c < s.w(); c++, p++) {
                    inPos[p] = ((r + s.pH()) * pw + c + s.pW()) * VL;
                    dxPos[p] = (r * wP + c) * VL;
                }
            }
            for (int r = 0, p = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++, p++) outPos[p] = (r * owP + c) * VL;
            }
            int[] inIdx = new int[VL], outIdx = new int[VL];   // image j's plane, a lane group's images side by side
            for (int j = 0; j < VL; j++) {
                inIdx[j] = j * s.cin() * s.h() * s.w();
                outIdx[j] = j * s.cout() * oh * ow;
            }
            int cinB = (s.cin() + 5) / 6 * 6 <= (s.cin() + 3) / 4 * 4 ? 6 : 4;   // dx channels in blocks of 6 where that pads less
            int[] taps = new int[k];
            for (int t = 0; t < k; t++) taps[t] = t;
            int blocks = wP / 4;
            int[] dxTapStart = new int[s.h() * blocks + 1];
            int[] dxTaps = new int[s.h() * blocks * offsDx.length];
            int u = 0;
            for (int r = 0; r < s.h(); r++) {
                // dy rows r + pH − ki that exist; for the block's real columns q, dy columns q + pW − kj that exist
                int kiLo = Math.max(0, r + s.pH() - oh + 1), kiHi = Math.min(s.kH() - 1, r + s.pH());
                for (int cb = 0; cb < blocks; cb++) {
                    int qLo = cb * 4, qHi = Math.min(qLo + 3, s.w() - 1);
                    int kjLo = Math.max(0, qLo + s.pW() - ow + 1), kjHi = Math.min(s.kW() - 1, qHi + s.pW());
                    dxTapStart[r * blocks + cb] = u;
                    for (int ki = kiLo; ki <= kiHi; ki++) {
                        for (int co = 0; co < s.cout(); co++) {
                            for (int kj = kjLo; kj <= kjHi; kj++) dxTaps[u++] = (ki * s.cout() + co) * s.kW() + kj;
                        }
                    }
                }
            }
            dxTapStart[s.h() * blocks] = u;
            return new Geo(ph, pw, oh, ow, owP, wP, pwd, (s.cout() + 3) / 4 * 4, cinB, (s.cin() + cinB - 1) / cinB * cinB, k, kP,
                    offs, offsDx, xb, yb, inPos, outPos, dxPos, inIdx, outIdx, taps, java.util.Arrays.copyOf(dxTaps, u), dxTapStart, bw);
        }

        int xtSize(Shape s) {
            return (s.cin() * ph * pw + owP - ow) * VL;
        }

        int dytSize() {
            return coutP * oh * pwd * VL;
        }
    }

    /** xT of the n images from i0 (n ≤ VL; missing lanes zero). */
    private static void inputToLanes(float[] xT, float[] x, int i0, int n, Shape s, Geo g, float[] tmp) {
        int hw = s.h() * s.w(), size = g.xtSize(s), plane = g.ph * g.pw * VL;
        if (s.pH() != 0 || s.pW() != 0 || n < VL) java.util.Arrays.fill(xT, 0, size, 0f);
        else java.util.Arrays.fill(xT, s.cin() * plane, size, 0f);
        for (int ci = 0; ci < s.cin(); ci++) toLanes(xT, ci * plane, g.inPos, x, (i0 * s.cin() + ci) * hw, hw, n, g.inIdx, tmp);
    }

    /**
     * One plane of n images (n ≤ VL, planes idx[j] apart from src + sOff) into the lanes:
     * lanes[lOff + pos[p] + j] = src[sOff + idx[j] + p]. A full group of 16 lanes goes 16 positions
     * at a time through {@link #transpose16}; the positions left over (and other lane counts) read
     * each position's lanes with one gather across the images. Both store whole vectors; scattering
     * into the lanes one image at a time measured slower (LeNet's conv2 dW with dy's transpose:
     * 1.27 → 1.71 ms).
     */
    private static void toLanes(float[] lanes, int lOff, int[] pos, float[] src, int sOff, int n, int count, int[] idx, float[] tmp) {
        int p = 0;
        if (count == VL && TRANSPOSE16) {
            for (; p + VL <= n; p += VL) transpose16(src, sOff + p, idx, 0, lanes, lOff, pos, p, tmp);
        }
        for (; p < n; p++) {
            int d = lOff + pos[p];
            if (count == VL) {
                FloatVector.fromArray(F, src, sOff + p, idx, 0).intoArray(lanes, d);
            } else {
                for (int j = 0; j < count; j++) lanes[d + j] = src[sOff + p + idx[j]];
            }
        }
    }

    /**
     * Positions p0 ≤ p &lt; n of image j's plane out of its lane: dst[dOff + p] = lanes[lOff + pos[p]] + add,
     * or += that when {@code accumulate}. Reads a vector of positions with one gather (a vector
     * apart: no aliasing) and writes it contiguously.
     */
    private static void fromLanes(float[] dst, int dOff, float[] lanes, int lOff, int[] pos, int p0, int n, float add, boolean accumulate) {
        int p = p0;
        for (; p <= n - VL; p += VL) {
            FloatVector v = FloatVector.fromArray(F, lanes, lOff, pos, p).add(add);
            if (accumulate) v = v.add(FloatVector.fromArray(F, dst, dOff + p));
            v.intoArray(dst, dOff + p);
        }
        for (; p < n; p++) dst[dOff + p] = accumulate ? dst[dOff + p] + (lanes[lOff + pos[p]] + add) : lanes[lOff + pos[p]] + add;
    }

    /**
     * The planes of the count images of a group out of the lanes, as {@link #fromLanes} for each
     * image j (its plane at dOff + idx[j]): a full group of 16 lanes 16 positions at a time through
     * {@link #transpose16} (the same values), the positions left over and other counts by gathers.
     */
    private static void groupFromLanes(float[] dst, int dOff, int[] idx, float[] lanes, int lOff, int[] pos, int n, int count, float add,
                                       boolean accumulate, float[] tmp) {
        int p = 0;
        if (count == VL && TRANSPOSE16) {
            for (; p + VL <= n; p += VL) {
                transpose16(lanes, lOff, pos, p, tmp, 0, TMP_ROWS, 0, tmp);   // in place: each twoRounds reads all 16 before it writes
                for (int j = 0; j < VL; j++) {
                    FloatVector v = FloatVector.fromArray(F, tmp, j * VL).add(add);
                    int at = dOff + idx[j] + p;
                    if (accumulate) v = v.add(FloatVector.fromArray(F, dst, at));
                    v.intoArray(dst, at);
                }
            }
        }
        if (p == n) return;
        for (int j = 0; j < count; j++) fromLanes(dst, dOff + idx[j], lanes, lOff + j, pos, p, n, add, accumulate);
    }

    // ---- a 16 × 16 transpose in registers ------------------------------------------------------
    // Zen 4 gathers 16 floats in 23 cycles from L1 and about 50 from L2; four rounds of interleaves
    // take 16-19 cycles a vector (measured, one thread, planes of 144 and 64 positions). Each
    // interleave is two one-source rearranges and a blend: the two-source rearrange(shuffle, v)
    // is not compiled to one instruction on JDK 17 (measured 441 cycles a vector). LeNet's conv2
    // ([256, 6, 12, 12] -> [256, 16, 8, 8], best of 300 on one thread): forward 1.03 -> 0.94 ms,
    // backward 2.48 -> 2.26 ms, the same bits.

    private static final boolean TRANSPOSE16 = VL == 16;
    /** Vector k of the transpose's scratch at k·16. */
    private static final int[] TMP_ROWS = java.util.stream.IntStream.range(0, 16).map(k -> k * 16).toArray();
    /** Lane i takes lane i/2 (low half spread over the even and odd lanes), or VL/2 + i/2 (the high half). */
    private static final VectorShuffle<Float> SPREAD_LO = VectorShuffle.fromOp(F, i -> i / 2), SPREAD_HI = VectorShuffle.fromOp(F, i -> VL / 2 + i / 2);
    private static final VectorMask<Float> ODD = VectorMask.fromLong(F, 0xAAAAAAAAAAAAAAAAL);

    /**
     * Output vector q (at dBase + dIdx[dAt + q]) takes lane q of the 16 input vectors (input j at
     * sBase + sIdx[sAt + j]) in its lanes j: transpose 16 × 16, as four rounds of pairing vector i
     * with i + 8, the low halves interleaved into 2i and the high halves into 2i + 1; two rounds
     * at a time ({@link #twoRounds}), through {@code tmp} (256 floats) between them.
     */
    private static void transpose16(float[] src, int sBase, int[] sIdx, int sAt, float[] dst, int dBase, int[] dIdx, int dAt, float[] tmp) {
        twoRounds(src, sBase, sIdx, sAt, tmp, 0, TMP_ROWS, 0);
        twoRounds(tmp, 0, TMP_ROWS, 0, dst, dBase, dIdx, dAt);
    }

    /**
     * Two of {@link #transpose16}'s rounds. Written out with the Vector API's own (force-inlined)
     * calls only: helper methods for the interleave exceed C2's inlining budget
     * (NodeCountInliningCutoff) within one round, and the vectors crossing the calls left out are
     * boxed (measured 3× slower than the gathers).
     */
    private static void twoRounds(float[] src, int sBase, int[] sIdx, int sAt, float[] dst, int dBase, int[] dIdx, int dAt) {
        FloatVector r0 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 0]);
        FloatVector r1 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 1]);
        FloatVector r2 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 2]);
        FloatVector r3 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 3]);
        FloatVector r4 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 4]);
        FloatVector r5 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 5]);
        FloatVector r6 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 6]);
        FloatVector r7 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 7]);
        FloatVector r8 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 8]);
        FloatVector r9 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 9]);
        FloatVector r10 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 10]);
        FloatVector r11 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 11]);
        FloatVector r12 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 12]);
        FloatVector r13 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 13]);
        FloatVector r14 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 14]);
        FloatVector r15 = FloatVector.fromArray(F, src, sBase + sIdx[sAt + 15]);
        FloatVector a0 = r0.rearrange(SPREAD_LO).blend(r8.rearrange(SPREAD_LO), ODD);
        FloatVector a1 = r0.rearrange(SPREAD_HI).blend(r8.rearrange(SPREAD_HI), ODD);
        FloatVector a2 = r1.rearrange(SPREAD_LO).blend(r9.rearrange(SPREAD_LO), ODD);
        FloatVector a3 = r1.rearrange(SPREAD_HI).blend(r9.rearrange(SPREAD_HI), ODD);
        FloatVector a4 = r2.rearrange(SPREAD_LO).blend(r10.rearrange(SPREAD_LO), ODD);
        FloatVector a5 = r2.rearrange(SPREAD_HI).blend(r10.rearrange(SPREAD_HI), ODD);
        FloatVector a6 = r3.rearrange(SPREAD_LO).blend(r11.rearrange(SPREAD_LO), ODD);
        FloatVector a7 = r3.rearrange(SPREAD_HI).blend(r11.rearrange(SPREAD_HI), ODD);
        FloatVector a8 = r4.rearrange(SPREAD_LO).blend(r12.rearrange(SPREAD_LO), ODD);
        FloatVector a9 = r4.rearrange(SPREAD_HI).blend(r12.rearrange(SPREAD_HI), ODD);
        FloatVector a10 = r5.rearrange(SPREAD_LO).blend(r13.rearrange(SPREAD_LO), ODD);
        FloatVector a11 = r5.rearrange(SPREAD_HI).blend(r13.rearrange(SPREAD_HI), ODD);
        FloatVector a12 = r6.rearrange(SPREAD_LO).blend(r14.rearrange(SPREAD_LO), ODD);
        FloatVector a13 = r6.rearrange(SPREAD_HI).blend(r14.rearrange(SPREAD_HI), ODD);
        FloatVector a14 = r7.rearrange(SPREAD_LO).blend(r15.rearrange(SPREAD_LO), ODD);
        FloatVector a15 = r7.rearrange(SPREAD_HI).blend(r15.rearrange(SPREAD_HI), ODD);
        FloatVector b0 = a0.rearrange(SPREAD_LO).blend(a8.rearrange(SPREAD_LO), ODD);
        FloatVector b1 = a0.rearrange(SPREAD_HI).blend(a8.rearrange(SPREAD_HI), ODD);
        FloatVector b2 = a1.rearrange(SPREAD_LO).blend(a9.rearrange(SPREAD_LO), ODD);
        FloatVector b3 = a1.rearrange(SPREAD_HI).blend(a9.rearrange(SPREAD_HI), ODD);
        FloatVector b4 = a2.rearrange(SPREAD_LO).blend(a10.rearrange(SPREAD_LO), ODD);
        FloatVector b5 = a2.rearrange(SPREAD_HI).blend(a10.rearrange(SPREAD_HI), ODD);
        FloatVector b6 = a3.rearrange(SPREAD_LO).blend(a11.rearrange(SPREAD_LO), ODD);
        FloatVector b7 = a3.rearrange(SPREAD_HI).blend(a11.rearrange(SPREAD_HI), ODD);
        FloatVector b8 = a4.rearrange(SPREAD_LO).blend(a12.rearrange(SPREAD_LO), ODD);
        FloatVector b9 = a4.rearrange(SPREAD_HI).blend(a12.rearrange(SPREAD_HI), ODD);
        FloatVector b10 = a5.rearrange(SPREAD_LO).blend(a13.rearrange(SPREAD_LO), ODD);
        FloatVector b11 = a5.rearrange(SPREAD_HI).blend(a13.rearrange(SPREAD_HI), ODD);
        FloatVector b12 = a6.rearrange(SPREAD_LO).blend(a14.rearrange(SPREAD_LO), ODD);
        FloatVector b13 = a6.rearrange(SPREAD_HI).blend(a14.rearrange(SPREAD_HI), ODD);
        FloatVector b14 = a7.rearrange(SPREAD_LO).blend(a15.rearrange(SPREAD_LO), ODD);
        FloatVector b15 = a7.rearrange(SPREAD_HI).blend(a15.rearrange(SPREAD_HI), ODD);
        b0.intoArray(dst, dBase + dIdx[dAt + 0]);
        b1.intoArray(dst, dBase + dIdx[dAt + 1]);
        b2.intoArray(dst, dBase + dIdx[dAt + 2]);
        b3.intoArray(dst, dBase + dIdx[dAt + 3]);
        b4.intoArray(dst, dBase + dIdx[dAt + 4]);
        b5.intoArray(dst, dBase + dIdx[dAt + 5]);
        b6.intoArray(dst, dBase + dIdx[dAt + 6]);
        b7.intoArray(dst, dBase + dIdx[dAt + 7]);
        b8.intoArray(dst, dBase + dIdx[dAt + 8]);
        b9.intoArray(dst, dBase + dIdx[dAt + 9]);
        b10.intoArray(dst, dBase + dIdx[dAt + 10]);
        b11.intoArray(dst, dBase + dIdx[dAt + 11]);
        b12.intoArray(dst, dBase + dIdx[dAt + 12]);
        b13.intoArray(dst, dBase + dIdx[dAt + 13]);
        b14.intoArray(dst, dBase + dIdx[dAt + 14]);
        b15.intoArray(dst, dBase + dIdx[dAt + 15]);
    }

    @Override
    public void forward(float[] y, float[] x, float[] w, float[] b, int i0, int m, Shape s) {
        Geo g = GEOMETRY.computeIfAbsent(s, Geo::of);
        int k = g.k, cout = s.cout(), plane = g.oh * g.owP * VL, outImg = cout * g.oh * g.ow;
        float[] xT = Scratch.floats(2, g.xtSize(s)), yT = Scratch.floats(3, g.coutP * plane);
        float[] wT = Scratch.floats(5, k * g.coutP);
        float[] tmp = Scratch.floats(6, VL * VL);   // transpose16's middle and groupFromLanes's block
        java.util.Arrays.fill(wT, 0, k * g.coutP, 0f);
        for (int co = 0; co < cout; co++) {
            for (int t = 0; t < k; t++) wT[t * g.coutP + co] = w[co * k + t];
        }
        for (int g0 = 0; g0 < m; g0 += VL) {
            int n = Math.min(VL, m - g0);
            inputToLanes(xT, x, i0 + g0, n, s, g, tmp);
            for (int co = 0; co < g.coutP; co += 4) {
                for (int r = 0; r < g.oh; r++) {
                    for (int c = 0; c < g.owP; c += g.bw) {
                        int o = co * plane + (r * g.owP + c) * VL, base = (r * g.pw + c) * VL;
                        if (g.bw == 5) block5(yT, o, plane, xT, base, g.offs, k, wT, co, g.coutP);
                        else block(yT, o, plane, xT, base, g.offs, g.taps, 0, k, wT, co, g.coutP);
                    }
                }
            }
            for (int co = 0; co < cout; co++) {
                groupFromLanes(y, ((i0 + g0) * cout + co) * g.oh * g.ow, g.outIdx, yT, co * plane, g.outPos, g.oh * g.ow, n, b == null ? 0f : b[co], false, tmp);
            }
        }
    }

    /**
     * Four channels by four positions, over the taps t = taps[i] for i0 ≤ i &lt; i1:
     * out[o + c·ostride + q·VL + ·] = Σ_t wT[wOff + t·cp + c]·in[base + offs[t] + q·VL + ·].
     * The accumulators live in this one loop (JDK 17 boxes vectors carried through nested loops).
     */
    private static void block(float[] out, int o, int ostride, float[] in, int base, int[] offs, int[] taps, int i0, int i1, float[] wT, int wOff,
                               int cp) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = i0; i < i1; i++) {
            int t = taps[i], at = base + offs[t], wt = wOff + t * cp;
            FloatVector x0 = FloatVector.fromArray(F, in, at), x1 = FloatVector.fromArray(F, in, at + VL);
            FloatVector x2 = FloatVector.fromArray(F, in, at + 2 * VL), x3 = FloatVector.fromArray(F, in, at + 3 * VL);
            FloatVector u = FloatVector.broadcast(F, wT[wt]);
            a00 = x0.fma(u, a00);
            a01 = x1.fma(u, a01);
            a02 = x2.fma(u, a02);
            a03 = x3.fma(u, a03);
            u = FloatVector.broadcast(F, wT[wt + 1]);
            a10 = x0.fma(u, a10);
            a11 = x1.fma(u, a11);
            a12 = x2.fma(u, a12);
            a13 = x3.fma(u, a13);
            u = FloatVector.broadcast(F, wT[wt + 2]);
            a20 = x0.fma(u, a20);
            a21 = x1.fma(u, a21);
            a22 = x2.fma(u, a22);
            a23 = x3.fma(u, a23);
            u = FloatVector.broadcast(F, wT[wt + 3]);
            a30 = x0.fma(u, a30);
            a31 = x1.fma(u, a31);
            a32 = x2.fma(u, a32);
            a33 = x3.fma(u, a33);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + VL);
        a02.intoArray(out, o + 2 * VL);
        a03.intoArray(out, o + 3 * VL);
        o += ostride;
        a10.intoArray(out, o);
        a11.intoArray(out, o + VL);
        a12.intoArray(out, o + 2 * VL);
        a13.intoArray(out, o + 3 * VL);
        o += ostride;
        a20.intoArray(out, o);
        a21.intoArray(out, o + VL);
        a22.intoArray(out, o + 2 * VL);
        a23.intoArray(out, o + 3 * VL);
        o += ostride;
        a30.intoArray(out, o);
        a31.intoArray(out, o + VL);
        a32.intoArray(out, o + 2 * VL);
        a33.intoArray(out, o + 3 * VL);
    }

    /**
     * {@link #block}'s four channels by five positions (20 accumulators) over taps 0..k-1: rows of
     * 5·j outputs without padded positions (the padded LeNet's conv2: 10).
     */
    private static void block5(float[] out, int o, int ostride, float[] in, int base, int[] offs, int k, float[] wT, int wOff, int cp) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a04 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00;
        for (int t = 0; t < k; t++) {
            int at = base + offs[t], wt = wOff + t * cp;
            FloatVector x0 = FloatVector.fromArray(F, in, at), x1 = FloatVector.fromArray(F, in, at + VL);
            FloatVector x2 = FloatVector.fromArray(F, in, at + 2 * VL), x3 = FloatVector.fromArray(F, in, at + 3 * VL);
            FloatVector x4 = FloatVector.fromArray(F, in, at + 4 * VL);
            FloatVector u = FloatVector.broadcast(F, wT[wt]);
            a00 = x0.fma(u, a00);
            a01 = x1.fma(u, a01);
            a02 = x2.fma(u, a02);
            a03 = x3.fma(u, a03);
            a04 = x4.fma(u, a04);
            u = FloatVector.broadcast(F, wT[wt + 1]);
            a10 = x0.fma(u, a10);
            a11 = x1.fma(u, a11);
            a12 = x2.fma(u, a12);
            a13 = x3.fma(u, a13);
            a14 = x4.fma(u, a14);
            u = FloatVector.broadcast(F, wT[wt + 2]);
            a20 = x0.fma(u, a20);
            a21 = x1.fma(u, a21);
            a22 = x2.fma(u, a22);
            a23 = x3.fma(u, a23);
            a24 = x4.fma(u, a24);
            u = FloatVector.broadcast(F, wT[wt + 3]);
            a30 = x0.fma(u, a30);
            a31 = x1.fma(u, a31);
            a32 = x2.fma(u, a32);
            a33 = x3.fma(u, a33);
            a34 = x4.fma(u, a34);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + VL);
        a02.intoArray(out, o + 2 * VL);
        a03.intoArray(out, o + 3 * VL);
        a04.intoArray(out, o + 4 * VL);
        o += ostride;
        a10.intoArray(out, o);
        a11.intoArray(out, o + VL);
        a12.intoArray(out, o + 2 * VL);
        a13.intoArray(out, o + 3 * VL);
        a14.intoArray(out, o + 4 * VL);
        o += ostride;
        a20.intoArray(out, o);
        a21.intoArray(out, o + VL);
        a22.intoArray(out, o + 2 * VL);
        a23.intoArray(out, o + 3 * VL);
        a24.intoArray(out, o + 4 * VL);
        o += ostride;
        a30.intoArray(out, o);
        a31.intoArray(out, o + VL);
        a32.intoArray(out, o + 2 * VL);
        a33.intoArray(out, o + 3 * VL);
        a34.intoArray(out, o + 4 * VL);
    }

    /** {@link #block} for six channels: 24 accumulators, for counts that are multiples of 6 (LeNet's conv2 dx: 6 input channels). */
    private static void block6(float[] out, int o, int ostride, float[] in, int base, int[] offs, int[] taps, int i0, int i1, float[] wT, int wOff,
                               int cp) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
        for (int i = i0; i < i1; i++) {
            int t = taps[i], at = base + offs[t], wt = wOff + t * cp;
            FloatVector x0 = FloatVector.fromArray(F, in, at), x1 = FloatVector.fromArray(F, in, at + VL);
            FloatVector x2 = FloatVector.fromArray(F, in, at + 2 * VL), x3 = FloatVector.fromArray(F, in, at + 3 * VL);
            FloatVector u = FloatVector.broadcast(F, wT[wt]);
            a00 = x0.fma(u, a00);
            a01 = x1.fma(u, a01);
            a02 = x2.fma(u, a02);
            a03 = x3.fma(u, a03);
            u = FloatVector.broadcast(F, wT[wt + 1]);
            a10 = x0.fma(u, a10);
            a11 = x1.fma(u, a11);
            a12 = x2.fma(u, a12);
            a13 = x3.fma(u, a13);
            u = FloatVector.broadcast(F, wT[wt + 2]);
            a20 = x0.fma(u, a20);
            a21 = x1.fma(u, a21);
            a22 = x2.fma(u, a22);
            a23 = x3.fma(u, a23);
            u = FloatVector.broadcast(F, wT[wt + 3]);
            a30 = x0.fma(u, a30);
            a31 = x1.fma(u, a31);
            a32 = x2.fma(u, a32);
            a33 = x3.fma(u, a33);
            u = FloatVector.broadcast(F, wT[wt + 4]);
            a40 = x0.fma(u, a40);
            a41 = x1.fma(u, a41);
            a42 = x2.fma(u, a42);
            a43 = x3.fma(u, a43);
            u = FloatVector.broadcast(F, wT[wt + 5]);
            a50 = x0.fma(u, a50);
            a51 = x1.fma(u, a51);
            a52 = x2.fma(u, a52);
            a53 = x3.fma(u, a53);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + VL);
        a02.intoArray(out, o + 2 * VL);
        a03.intoArray(out, o + 3 * VL);
        o += ostride;
        a10.intoArray(out, o);
        a11.intoArray(out, o + VL);
        a12.intoArray(out, o + 2 * VL);
        a13.intoArray(out, o + 3 * VL);
        o += ostride;
        a20.intoArray(out, o);
        a21.intoArray(out, o + VL);
        a22.intoArray(out, o + 2 * VL);
        a23.intoArray(out, o + 3 * VL);
        o += ostride;
        a30.intoArray(out, o);
        a31.intoArray(out, o + VL);
        a32.intoArray(out, o + 2 * VL);
        a33.intoArray(out, o + 3 * VL);
        o += ostride;
        a40.intoArray(out, o);
        a41.intoArray(out, o + VL);
        a42.intoArray(out, o + 2 * VL);
        a43.intoArray(out, o + 3 * VL);
        o += ostride;
        a50.intoArray(out, o);
        a51.intoArray(out, o + VL);
        a52.intoArray(out, o + 2 * VL);
        a53.intoArray(out, o + 3 * VL);
    }

    @Override
    public void backward(double[] dW, double[] dB, float[] dx, boolean assignDx, float[] dy, float[] x, float[] w, int i0, int m, Shape s) {
        Geo g = GEOMETRY.computeIfAbsent(s, Geo::of);
        int k = g.k, cout = s.cout(), cin = s.cin(), outImg = cout * g.oh * g.ow, dyPlane = g.oh * g.pwd * VL;
        if (dB != null) {
            for (int img = 0; img < m; img++) {
                for (int co = 0; co < cout; co++) dB[co] += LOOPS.sum(dy, ((i0 + img) * cout + co) * g.oh * g.ow, g.oh * g.ow);
            }
        }
        if (dW == null && dx == null) return;
        float[] dyT = Scratch.floats(3, g.dytSize());
        float[] tmp = Scratch.floats(6, VL * VL);   // transpose16's middle and groupFromLanes's block
        int accSize = g.coutP * g.kP * VL, wdSize = g.offsDx.length * g.cinP;
        float[] work = Scratch.floats(5, accSize + wdSize);   // dW lanes, then the dx weights
        java.util.Arrays.fill(work, 0, accSize + wdSize, 0f);
        if (dx != null) {
            for (int ki = 0, t = 0; ki < s.kH(); ki++) {
                for (int co = 0; co < cout; co++) {
                    for (int kj = 0; kj < s.kW(); kj++, t++) {
                        for (int ci = 0; ci < cin; ci++) work[accSize + t * g.cinP + ci] = w[((co * cin + ci) * s.kH() + ki) * s.kW() + kj];
                    }
                }
            }
        }
        float[] xT = dW == null ? null : Scratch.floats(2, g.xtSize(s));
        int dxPlane = s.h() * g.wP * VL;
        float[] dxT = dx == null ? null : Scratch.floats(4, g.cinP * dxPlane);
        for (int g0 = 0; g0 < m; g0 += VL) {
            int n = Math.min(VL, m - g0);
            java.util.Arrays.fill(dyT, 0, g.coutP * dyPlane, 0f);   // the padded channels too: dW's blocks read them
            for (int co = 0; co < cout; co++) toLanes(dyT, co * dyPlane, g.yb, dy, ((i0 + g0) * cout + co) * g.oh * g.ow, g.oh * g.ow, n, g.outIdx, tmp);
            if (dW != null) {
                inputToLanes(xT, x, i0 + g0, n, s, g, tmp);
                for (int co = 0; co < g.coutP; co += 4) {
                    for (int t = 0; t < g.kP; t += 6) {   // taps past k read the last tap's offset; their lanes are dropped
                        weightBlock(work, (co * g.kP + t) * VL, g.kP * VL, dyT, co * dyPlane, dyPlane, xT, g.xb, g.yb, g.oh * g.ow,
                                g.offs[Math.min(t, k - 1)], g.offs[Math.min(t + 1, k - 1)], g.offs[Math.min(t + 2, k - 1)],
                                g.offs[Math.min(t + 3, k - 1)], g.offs[Math.min(t + 4, k - 1)], g.offs[Math.min(t + 5, k - 1)]);
                    }
                }
            }
            if (dx != null) {
                int blocks = g.wP / 4;
                for (int ci = 0; ci < g.cinP; ci += g.cinB) {
                    for (int r = 0; r < s.h(); r++) {
                        for (int c = 0; c < g.wP; c += 4) {
                            // only the taps that reach dy (Geo.dxTaps): the others add w·0, and in the same order
                            int o = ci * dxPlane + (r * g.wP + c) * VL, base = (r * g.pwd + c) * VL, rb = r * blocks + c / 4;
                            int u0 = g.dxTapStart[rb], u1 = g.dxTapStart[rb + 1];
                            if (g.cinB == 6) block6(dxT, o, dxPlane, dyT, base, g.offsDx, g.dxTaps, u0, u1, work, accSize + ci, g.cinP);
                            else block(dxT, o, dxPlane, dyT, base, g.offsDx, g.dxTaps, u0, u1, work, accSize + ci, g.cinP);
                        }
                    }
                }
                int hw = s.h() * s.w();
                for (int ci = 0; ci < cin; ci++) groupFromLanes(dx, ((i0 + g0) * cin + ci) * hw, g.inIdx, dxT, ci * dxPlane, g.dxPos, hw, n, 0f, !assignDx, tmp);
            }
        }
        if (dW != null) {
            for (int co = 0; co < cout; co++) {
                for (int t = 0; t < k; t++) {
                    int a = (co * g.kP + t) * VL;
                    double sum = 0;
                    for (int l = 0; l < VL; l++) sum += work[a + l];
                    dW[co * k + t] += sum;
                }
            }
        }
    }

    /**
     * acc[a0 + c·cs + j·VL + ·] += Σ_p dyT[d0 + c·ds + yb[p] + ·]·xT[xb[p] + o_j + ·] for four channels c
     * and six taps j (lane by lane): 24 accumulators, 10 loads per 24 FMAs (four taps: 8 per 16,
     * measured 5% slower on LeNet's conv2, whose 150 taps make 25 blocks of six).
     */
    private static void weightBlock(float[] acc, int a0, int cs, float[] dyT, int d0, int ds, float[] xT, int[] xb, int[] yb, int n,
                                    int o0, int o1, int o2, int o3, int o4, int o5) {
        int a1 = a0 + cs, a2 = a1 + cs, a3 = a2 + cs;
        FloatVector s00 = FloatVector.fromArray(F, acc, a0), s01 = FloatVector.fromArray(F, acc, a0 + VL);
        FloatVector s02 = FloatVector.fromArray(F, acc, a0 + 2 * VL), s03 = FloatVector.fromArray(F, acc, a0 + 3 * VL);
        FloatVector s04 = FloatVector.fromArray(F, acc, a0 + 4 * VL), s05 = FloatVector.fromArray(F, acc, a0 + 5 * VL);
        FloatVector s10 = FloatVector.fromArray(F, acc, a1), s11 = FloatVector.fromArray(F, acc, a1 + VL);
        FloatVector s12 = FloatVector.fromArray(F, acc, a1 + 2 * VL), s13 = FloatVector.fromArray(F, acc, a1 + 3 * VL);
        FloatVector s14 = FloatVector.fromArray(F, acc, a1 + 4 * VL), s15 = FloatVector.fromArray(F, acc, a1 + 5 * VL);
        FloatVector s20 = FloatVector.fromArray(F, acc, a2), s21 = FloatVector.fromArray(F, acc, a2 + VL);
        FloatVector s22 = FloatVector.fromArray(F, acc, a2 + 2 * VL), s23 = FloatVector.fromArray(F, acc, a2 + 3 * VL);
        FloatVector s24 = FloatVector.fromArray(F, acc, a2 + 4 * VL), s25 = FloatVector.fromArray(F, acc, a2 + 5 * VL);
        FloatVector s30 = FloatVector.fromArray(F, acc, a3), s31 = FloatVector.fromArray(F, acc, a3 + VL);
        FloatVector s32 = FloatVector.fromArray(F, acc, a3 + 2 * VL), s33 = FloatVector.fromArray(F, acc, a3 + 3 * VL);
        FloatVector s34 = FloatVector.fromArray(F, acc, a3 + 4 * VL), s35 = FloatVector.fromArray(F, acc, a3 + 5 * VL);
        for (int p = 0; p < n; p++) {
            int xp = xb[p], dp = d0 + yb[p];
            FloatVector x0 = FloatVector.fromArray(F, xT, xp + o0), x1 = FloatVector.fromArray(F, xT, xp + o1);
            FloatVector x2 = FloatVector.fromArray(F, xT, xp + o2), x3 = FloatVector.fromArray(F, xT, xp + o3);
            FloatVector x4 = FloatVector.fromArray(F, xT, xp + o4), x5 = FloatVector.fromArray(F, xT, xp + o5);
            FloatVector u = FloatVector.fromArray(F, dyT, dp);
            s00 = x0.fma(u, s00);
            s01 = x1.fma(u, s01);
            s02 = x2.fma(u, s02);
            s03 = x3.fma(u, s03);
            s04 = x4.fma(u, s04);
            s05 = x5.fma(u, s05);
            u = FloatVector.fromArray(F, dyT, dp + ds);
            s10 = x0.fma(u, s10);
            s11 = x1.fma(u, s11);
            s12 = x2.fma(u, s12);
            s13 = x3.fma(u, s13);
            s14 = x4.fma(u, s14);
            s15 = x5.fma(u, s15);
            u = FloatVector.fromArray(F, dyT, dp + 2 * ds);
            s20 = x0.fma(u, s20);
            s21 = x1.fma(u, s21);
            s22 = x2.fma(u, s22);
            s23 = x3.fma(u, s23);
            s24 = x4.fma(u, s24);
            s25 = x5.fma(u, s25);
            u = FloatVector.fromArray(F, dyT, dp + 3 * ds);
            s30 = x0.fma(u, s30);
            s31 = x1.fma(u, s31);
            s32 = x2.fma(u, s32);
            s33 = x3.fma(u, s33);
            s34 = x4.fma(u, s34);
            s35 = x5.fma(u, s35);
        }
        s00.intoArray(acc, a0);
        s01.intoArray(acc, a0 + VL);
        s02.intoArray(acc, a0 + 2 * VL);
        s03.intoArray(acc, a0 + 3 * VL);
        s04.intoArray(acc, a0 + 4 * VL);
        s05.intoArray(acc, a0 + 5 * VL);
        s10.intoArray(acc, a1);
        s11.intoArray(acc, a1 + VL);
        s12.intoArray(acc, a1 + 2 * VL);
        s13.intoArray(acc, a1 + 3 * VL);
        s14.intoArray(acc, a1 + 4 * VL);
        s15.intoArray(acc, a1 + 5 * VL);
        s20.intoArray(acc, a2);
        s21.intoArray(acc, a2 + VL);
        s22.intoArray(acc, a2 + 2 * VL);
        s23.intoArray(acc, a2 + 3 * VL);
        s24.intoArray(acc, a2 + 4 * VL);
        s25.intoArray(acc, a2 + 5 * VL);
        s30.intoArray(acc, a3);
        s31.intoArray(acc, a3 + VL);
        s32.intoArray(acc, a3 + 2 * VL);
        s33.intoArray(acc, a3 + 3 * VL);
        s34.intoArray(acc, a3 + 4 * VL);
        s35.intoArray(acc, a3 + 5 * VL);
    }
}
