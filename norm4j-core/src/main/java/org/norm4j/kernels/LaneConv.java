package org.norm4j.kernels;

/**
 * 2-D convolution with the batch in the vector lanes, for small stride-1 layers with many taps
 * (LeNet's second: 6 → 16 channels, 5×5). A group of L images (L = the lane count, 16 with
 * 512-bit vectors) is transposed to {@code xT[ci, r, c, lane]} (zero-padded), so every tap of every
 * output position is one plain vector FMA over L images: no junk columns, no im2col, no col2im.
 * <pre>
 *   forward  yT[co, p]  = Σ_t W[co, t] · xT[p + off(t)]                  t = (ci, ki, kj)
 *   dW       dW[co, t] += Σ_p Σ_lane dyT[co, p] · xT[p + off(t)]
 *   dx       dxT[ci, q] = Σ_(ki, co, kj) W[co, ci, ki, kj] · dyT[q − (ki, kj) + pad]   (rows of dyT that exist only)
 * </pre>
 * Blocks of four channels by four positions along a row (five where that pads the row less: 10
 * outputs), dW's of four channels by six taps; dx's blocks run only the taps whose dy row and
 * column exist for the block (the others would add w·0). The transposes in and out go 16 × 16
 * through registers (vector interleaves), the positions left over and other lane counts by vector
 * gathers. Measured against the shifted-rows
 * {@link DirectConv} and im2col + GEMM on LeNet's conv2 (docs/benchmarks.md): forward + backward
 * 7.3 → about 3 ms on one thread. It does not pay on LeNet's conv1 (one input channel, 25 taps):
 * the transpose of its 3.5 MB output costs what the junk columns do, so {@link #suits} asks for at
 * least {@value #MIN_TAPS} taps.
 *
 * <p>Only the Vector API twin implements it; {@link #get()} is null without the module or with
 * {@code -Dnorm4j.scalar=true}, and callers use the other paths. Results agree with them to float
 * rounding (another summation order), and do not depend on the thread count: a call's images are
 * fixed by the caller's chunking.
 */
public interface LaneConv {
    /** Fewest taps (Cin·kH·kW) for which the lane layout pays (measured: 25 does not, 150 does). */
    int MIN_TAPS = 64;
    /** Most floats in one lane group's transposed input, output or gradient. */
    int MAX_GROUP_FLOATS = 1 << 20;

    /** Images per lane group. */
    int lanes();

    /** y[img, co, ·] = conv + b for the m images from i0 (NCHW; b may be null). */
    void forward(float[] y, float[] x, float[] w, float[] b, int i0, int m, DirectConv.Shape s);

    /**
     * The m images' gradients, each if not null: dW[co·k + t] += and dB[co] += (double partials of
     * this call), dx[img, ·] (NCHW: assigned when {@code assignDx}, its old contents unread; else added to).
     */
    void backward(double[] dW, double[] dB, float[] dx, boolean assignDx, float[] dy, float[] x, float[] w, int i0, int m, DirectConv.Shape s);

    /**
     * Whether this kernel serves the layer: stride 1, dilation 1, one group, many taps, padding
     * below the kernel, at most 32 output channels (a small layer: larger ones are GEMM's), and
     * per-group arrays (transposed input, output, gradients, weights, dW lanes) that fit.
     */
    static boolean suits(int strideH, int strideW, int dilH, int dilW, int groups, DirectConv.Shape s) {
        LaneConv lc = get();
        if (lc == null || strideH != 1 || strideW != 1 || dilH != 1 || dilW != 1 || groups != 1) return false;
        if (s.k() < MIN_TAPS || s.pH() >= s.kH() || s.pW() >= s.kW() || s.outH() <= 0 || s.outW() <= 0) return false;
        long l = lc.lanes(), oh = s.outH(), owP = (s.outW() + 3) / 4 * 4, wP = (s.w() + 3) / 4 * 4;
        long ph = s.h() + 2L * s.pH(), pw = s.w() + 2L * s.pW(), pwd = wP + s.pW() + s.kW() - 1;
        long most = Math.max(Math.max((long) s.cin() * ph * pw, (s.cout() + 3) / 4 * 4 * oh * owP),
                Math.max((s.cout() + 3) / 4 * 4 * oh * pwd, (s.cin() + 3) / 4 * 4 * (long) s.h() * wP));
        long weights = Math.max((long) (s.cout() + 3) / 4 * 4 * ((s.k() + 5) / 6 * 6) * l,   // dW lanes (taps in sixes); dx weights
                (long) s.kH() * s.cout() * s.kW() * ((s.cin() + 5) / 6 * 6));
        return most * l <= MAX_GROUP_FLOATS && weights <= MAX_GROUP_FLOATS && s.cout() <= 32 && oh * s.outW() <= 4096;
    }

    /** The vector implementation, or null when it cannot serve (no Vector API module, or scalar forced). */
    static LaneConv get() {
        return LoopsHolder.LANE_CONV;
    }
}
