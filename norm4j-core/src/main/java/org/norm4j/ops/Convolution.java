package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Conv;
import org.norm4j.kernels.Gemm;
import org.norm4j.tensor.Tensor;

/**
 * 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM, per image and group:
 * <pre>
 *   y[n, g·Cog + co, p] = b[·] + Σ_k W[g·Cog + co, k] · col_{n,g}[k, p]
 * </pre>
 * x [N, Cin, H, W], W [Cout, Cin/groups, kH, kW], b [Cout] or null. Backward, per image and group:
 * dW += dy·colᵀ, dcol = Wᵀ·dy then col2im into dx, db += Σ_p dy. The column buffer is recomputed
 * in backward rather than kept for the whole batch.
 */
public final class Convolution {
    private Convolution() {}

    /** Stride, padding and dilation per axis, and the number of groups. */
    public record Geometry(int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Geometry g) {
        int[] xs = x.shape(), ws = weight.shape();
        int n = xs[0], cin = xs[1], h = xs[2], w = xs[3], cout = ws[0], kH = ws[2], kW = ws[3];
        int outH = Conv.outSize(h, kH, g.strideH(), g.padH(), g.dilH()), outW = Conv.outSize(w, kW, g.strideW(), g.padW(), g.dilW());
        int cig = cin / g.groups(), cog = cout / g.groups(), k = cig * kH * kW, p = outH * outW;
        float[] xd = x.data(), wd = weight.data(), y = new float[n * cout * p], col = new float[k * p];
        float[] b = bias == null ? null : bias.data();
        for (int img = 0; img < n; img++) {
            for (int gr = 0; gr < g.groups(); gr++) {
                int yOff = (img * cout + gr * cog) * p;
                Conv.im2col(col, xd, (img * cin + gr * cig) * h * w, cig, h, w, kH, kW, g.strideH(), g.strideW(),
                        g.padH(), g.padW(), g.dilH(), g.dilW(), outH, outW);
                if (b != null) {
                    for (int co = 0; co < cog; co++) java.util.Arrays.fill(y, yOff + co * p, yOff + (co + 1) * p, b[gr * cog + co]);
                }
                Gemm.gemm(false, false, cog, p, k, 1f, wd, gr * cog * k, k, col, 0, p, b == null ? 0f : 1f, y, yOff, p);
            }
        }
        Tensor yt = Tensor.wrap(y, n, cout, outH, outW);
        Autograd.record(yt, "Conv2d", (dy, d) -> {
            float[] c = new float[k * p];
            for (int img = 0; img < n; img++) {
                for (int gr = 0; gr < g.groups(); gr++) {
                    int yOff = (img * cout + gr * cog) * p, xOff = (img * cin + gr * cig) * h * w;
                    if (d[1] != null) {
                        Conv.im2col(c, xd, xOff, cig, h, w, kH, kW, g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilH(), g.dilW(), outH, outW);
                        Gemm.gemm(false, true, cog, k, p, 1f, dy, yOff, p, c, 0, p, 1f, d[1], gr * cog * k, k);
                    }
                    if (d[0] != null) {
                        Gemm.gemm(true, false, k, p, cog, 1f, wd, gr * cog * k, k, dy, yOff, p, 0f, c, 0, p);
                        Conv.col2im(d[0], xOff, c, cig, h, w, kH, kW, g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilH(), g.dilW(), outH, outW);
                    }
                    if (d[2] != null) {
                        for (int co = 0; co < cog; co++) {
                            double s = 0;
                            for (int q = 0; q < p; q++) s += dy[yOff + co * p + q];
                            d[2][gr * cog + co] += (float) s;
                        }
                    }
                }
            }
        }, x, weight, bias);
        return yt;
    }
}
