package org.norm4j.kernels;

/**
 * Direct 2-D convolution for small layers (stride 1, dilation 1, one group, few input taps and
 * output channels: LeNet's), where im2col + GEMM spends more time building columns than
 * multiplying. Each image's planes are copied, zero-padded, into a row pitch {@code PW = W + 2·pW};
 * then the output, computed on the same pitch (PW − outW junk columns per row), is a sum of
 * shifted copies of the input, {@code out[co, i] = b[co] + Σ_t w[co, t]·xs[i + off(t)]} with
 * {@code off(ci, ki, kj) = ci·PS + ki·PW + kj}: plain vector FMAs over contiguous floats. Where an
 * output row fits two vectors (LeNet's conv1: 24 or 28 outputs) the blocks go row by row, straight
 * into the output, each row's junk lanes overwritten by the next row's block. Backward
 * dots dy (junk columns zeroed) with the shifted input for dW; dx stays with GEMM + col2im, which
 * measured faster than spreading dy back (a load and a store per FMA).
 *
 * <p>Where the output plane is whole vectors in threes and the channels come in sixes (LeNet-BN's
 * conv1: 24 × 24 = 36 vectors of 16, six channels) a flat layout replaces the padded pitch: each
 * image's input is copied Cin·kW times, shifted left by kj and cut to outW columns, so tap
 * (ci, ki, kj) of output position q reads copy (ci, kj) at q + ki·outW. Output and dy planes are
 * then runs of whole vectors: no junk columns (a quarter of conv1's forward FMAs were junk: 24 of
 * 32 lanes a row), no copy of dy. The forward's values are the same bits (the same FMAs per
 * element, in tap order).
 *
 * <p>Only the Vector API twin implements it ({@code org.norm4j.kernels.vector.VectorDirectConv});
 * {@link #get()} is null without the module or with {@code -Dnorm4j.scalar=true}, and callers
 * use im2col + GEMM. Results agree with im2col + GEMM to float rounding (another summation order).
 */
public interface DirectConv {

    /** The shape of one convolution: input [Cin, H, W] per image, weights [Cout, Cin, kH, kW], padding. */
    record Shape(int cin, int h, int w, int cout, int kH, int kW, int pH, int pW) {
        public int outH() {
            return h + 2 * pH - kH + 1;
        }

        public int outW() {
            return w + 2 * pW - kW + 1;
        }

        /** Taps per output channel: Cin·kH·kW. */
        public int k() {
            return cin * kH * kW;
        }
    }

    /** y[img, co, ·] for the m images from i0 (y, x in NCHW; b may be null). */
    void forward(float[] y, float[] x, float[] w, float[] b, int i0, int m, Shape s);

    /** The m images' weight and bias gradients: dW[co·k + t] += and dB[co] += Σ dy, each if not null. */
    void backward(double[] dW, double[] dB, float[] dy, float[] x, int i0, int m, Shape s);

    /** Whether this kernel serves the layer: stride 1, dilation 1, groups 1 and a small layer. */
    static boolean suits(int strideH, int strideW, int dilH, int dilW, int groups, Shape s) {
        return get() != null && strideH == 1 && strideW == 1 && dilH == 1 && dilW == 1 && groups == 1
                && s.k() <= 200 && s.cout() <= 32 && s.outH() > 0 && s.outW() > 0;
    }

    /** The vector implementation, or null when it cannot serve (no Vector API module, or scalar forced). */
    static DirectConv get() {
        return LoopsHolder.DIRECT_CONV;
    }
}
