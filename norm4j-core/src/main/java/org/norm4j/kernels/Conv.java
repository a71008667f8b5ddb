package org.norm4j.kernels;

/**
 * im2col and col2im for 2-D convolution of one image, one group: the column matrix
 * {@code col[(ci·kH + ki)·kW + kj, oh·outW + ow] = x[ci, oh·sH − pH + ki·dH, ow·sW − pW + kj·dW]}
 * (zero outside the image), so that the convolution is the GEMM {@code W[co, ·] · col}.
 */
public final class Conv {
    private Conv() {}

    /** Output size of one spatial axis: floor((in + 2·pad − dil·(k − 1) − 1)/stride) + 1. */
    public static int outSize(int in, int k, int stride, int pad, int dil) {
        return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    }

    /** col[K, outH·outW] from channels [c0, c0 + cn) of the image at xOff ([C, H, W] layout). */
    public static void im2col(float[] col, float[] x, int xOff, int cn, int h, int w, int kH, int kW,
                              int sH, int sW, int pH, int pW, int dH, int dW, int outH, int outW) {
        im2col(col, 0, outH * outW, x, xOff, cn, h, w, kH, kW, sH, sW, pH, pW, dH, dW, outH, outW);
    }

    /**
     * The same into columns [colOff, colOff + outH·outW) of a wider matrix whose rows are
     * {@code ldCol} floats apart: several images side by side make one GEMM.
     */
    public static void im2col(float[] col, int colOff, int ldCol, float[] x, int xOff, int cn, int h, int w, int kH, int kW,
                              int sH, int sW, int pH, int pW, int dH, int dW, int outH, int outW) {
        int row = 0;
        for (int ci = 0; ci < cn; ci++) {
            int plane = xOff + ci * h * w;
            for (int ki = 0; ki < kH; ki++) {
                for (int kj = 0; kj < kW; kj++, row++) {
                    int r0 = colOff + row * ldCol;
                    for (int oh = 0; oh < outH; oh++) {
                        int ih = oh * sH - pH + ki * dH, o = r0 + oh * outW;
                        if (ih < 0 || ih >= h) {
                            java.util.Arrays.fill(col, o, o + outW, 0f);
                            continue;
                        }
                        int base = plane + ih * w + kj * dW - pW;
                        if (sW == 1 && kj * dW - pW >= 0 && (outW - 1) + kj * dW - pW < w) {
                            System.arraycopy(x, base, col, o, outW);   // the common interior case
                            continue;
                        }
                        for (int ow = 0; ow < outW; ow++) {
                            int iw = ow * sW - pW + kj * dW;
                            col[o + ow] = iw >= 0 && iw < w ? x[plane + ih * w + iw] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** The adjoint of im2col: dx[ci, ih, iw] += every col entry that was read from it. */
    public static void col2im(float[] dx, int dxOff, float[] col, int cn, int h, int w, int kH, int kW,
                              int sH, int sW, int pH, int pW, int dH, int dW, int outH, int outW) {
        col2im(dx, dxOff, col, 0, outH * outW, cn, h, w, kH, kW, sH, sW, pH, pW, dH, dW, outH, outW);
    }

    /** The adjoint of the wide {@link #im2col(float[], int, int, float[], int, int, int, int, int, int, int, int, int, int, int, int, int, int)}. */
    public static void col2im(float[] dx, int dxOff, float[] col, int colOff, int ldCol, int cn, int h, int w, int kH, int kW,
                              int sH, int sW, int pH, int pW, int dH, int dW, int outH, int outW) {
        int row = 0;
        for (int ci = 0; ci < cn; ci++) {
            int plane = dxOff + ci * h * w;
            for (int ki = 0; ki < kH; ki++) {
                for (int kj = 0; kj < kW; kj++, row++) {
                    int r0 = colOff + row * ldCol;
                    for (int oh = 0; oh < outH; oh++) {
                        int ih = oh * sH - pH + ki * dH;
                        if (ih < 0 || ih >= h) continue;
                        int o = r0 + oh * outW;
                        if (sW == 1 && kj * dW - pW >= 0 && (outW - 1) + kj * dW - pW < w) {   // the interior case
                            int base = plane + ih * w + kj * dW - pW;
                            for (int ow = 0; ow < outW; ow++) dx[base + ow] += col[o + ow];
                            continue;
                        }
                        for (int ow = 0; ow < outW; ow++) {
                            int iw = ow * sW - pW + kj * dW;
                            if (iw >= 0 && iw < w) dx[plane + ih * w + iw] += col[o + ow];
                        }
                    }
                }
            }
        }
    }
}
