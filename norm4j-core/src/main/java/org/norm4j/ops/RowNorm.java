package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Normalization;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * The differentiable normalization of contiguous rows with a per-element affine: layer norm
 * (centered) and RMS norm (not centered).
 *
 * <pre>
 *   y[r,i] = act( gamma[i]·xhat[r,i] + beta[i] ),  xhat = (x − mean[r])·invStd[r]   (RMS: mean = 0)
 * </pre>
 * Backward, with n = row length, G1 = Σ_i gamma·dy and G2 = Σ_i gamma·dy·xhat per row:
 * <pre>
 *   dGamma[i] = Σ_r dy·xhat      dBeta[i] = Σ_r dy
 *   dx = invStd·(gamma·dy − G1/n − xhat·G2/n)       (RMS: no G1 term)
 * </pre>
 */
public final class RowNorm {
    private RowNorm() {}

    private record Saved(int rows, int len, float[] x, float[] y, double[] mean, double[] invStd, float[] center,
                         float[] invStdF, float[] corr, float[] gamma, Activation activation) {}

    /**
     * @param mean   per-row mean, or null for RMS normalization (no centering)
     * @param invStd per-row 1/sqrt(var + eps) (RMS: 1/sqrt(mean(x²) + eps))
     */
    public static Tensor forward(Tensor x, Tensor gamma, Tensor beta, int rows, int len, double[] mean, double[] invStd,
                                 Activation activation) {
        float[] center = new float[rows], invStdF = new float[rows], corr = new float[rows];
        for (int r = 0; r < rows; r++) {
            invStdF[r] = (float) invStd[r];
            if (mean != null) {
                center[r] = (float) mean[r];
                corr[r] = (float) ((center[r] - mean[r]) * invStd[r]);
            }
        }
        float[] xd = x.data(), yd = Workspace.uninitialized(xd.length);
        float[] g = gamma == null ? null : gamma.data(), b = beta == null ? null : beta.data();
        Normalization.applyRows(yd, 0, xd, 0, rows, len, center, invStdF, corr, g, b);
        activation.forwardInPlace(yd, 0, yd.length);
        Tensor y = Tensor.wrap(yd, x.shape());
        if (Autograd.needsGrad(x, gamma, beta)) {
            Saved s = new Saved(rows, len, xd, activation == Activation.IDENTITY ? null : yd, mean == null ? null : mean.clone(),
                    invStd.clone(), center, invStdF, corr, g == null ? null : g.clone(), activation);
            Autograd.record(y, mean == null ? "RMSNorm" : "LayerNorm", (dOut, dIn) -> backward(s, dOut, dIn[0], dIn[1], dIn[2]),
                    x, gamma, beta);
        }
        return y;
    }

    static void backward(Saved s, float[] dOut, float[] dx, float[] dGamma, float[] dBeta) {
        float[] dy = dOut;
        if (s.activation != Activation.IDENTITY) {
            dy = Workspace.zeroed(dOut.length);
            s.activation.backward(dy, dOut, s.y, dOut.length);
        }
        double[] g1 = new double[s.rows], g2 = new double[s.rows];
        double[] dG = dGamma == null ? null : new double[s.len], dB = dBeta == null ? null : new double[s.len];
        Normalization.backwardSumsRows(g1, g2, dG, dB, dy, 0, s.x, 0, s.rows, s.len, s.center, s.invStdF, s.corr, s.gamma);
        for (int i = 0; i < s.len; i++) {
            if (dG != null) dGamma[i] += (float) dG[i];
            if (dB != null) dBeta[i] += (float) dB[i];
        }
        if (dx == null) return;
        float[] coefX = new float[s.rows], coefK = new float[s.rows];
        double n = s.len;
        for (int r = 0; r < s.rows; r++) {
            double inv = s.invStd[r], cx = -inv * inv * g2[r] / n;
            coefX[r] = (float) cx;
            if (s.mean != null) coefK[r] = (float) (-inv * g1[r] / n + cx * (s.center[r] - s.mean[r]));
        }
        Normalization.backwardRows(dx, 0, dy, 0, s.x, 0, s.rows, s.len, s.invStdF, s.gamma, coefX, s.center, coefK);
    }
}
