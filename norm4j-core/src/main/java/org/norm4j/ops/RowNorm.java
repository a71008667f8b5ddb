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
     * Normalizes each row with its own statistics (computed here, in one pass over the row while it
     * is in cache): layer norm when {@code centered}, RMS norm otherwise, with
     * invStd = 1/sqrt(var + eps) (RMS: 1/sqrt(mean(x²) + eps)).
     */
    public static Tensor forward(Tensor x, Tensor gamma, Tensor beta, int rows, int len, boolean centered, double eps,
                                 Activation activation) {
        double[] mean = centered ? new double[rows] : null, invStd = new double[rows];
        float[] center = new float[rows], invStdF = new float[rows], corr = new float[rows];
        float[] xd = x.data(), yd = Workspace.uninitialized(xd.length);
        float[] g = gamma == null ? null : gamma.data(), b = beta == null ? null : beta.data();
        Normalization.normalizeRows(yd, 0, xd, 0, rows, len, eps, mean, invStd, center, invStdF, corr, g, b);
        activation.forwardInPlace(yd, 0, yd.length);
        Tensor y = Tensor.wrap(yd, x.shape());
        if (Autograd.needsGrad(x, gamma, beta)) {
            Saved s = new Saved(rows, len, xd, activation == Activation.IDENTITY ? null : yd, mean, invStd, center, invStdF, corr,
                    g == null ? null : g.clone(), activation);
            Autograd.recordInPlace(y, mean == null ? "RMSNorm" : "LayerNorm",
                    (dOut, dIn, fresh) -> backward(s, dOut, dIn[0], fresh[0], dIn[1], dIn[2]), x, gamma, beta);
        }
        return y;
    }

    /** Adds into dx, or assigns it where {@code assignDx} (a fresh buffer: no zeroing, no read of it). */
    static void backward(Saved s, float[] dOut, float[] dx, boolean assignDx, float[] dGamma, float[] dBeta) {
        float[] dy = dOut;
        if (s.activation != Activation.IDENTITY) {
            dy = Workspace.uninitialized(dOut.length);
            s.activation.backwardAssign(dy, dOut, s.y, dOut.length);
        }
        double[] dG = dGamma == null ? null : Workspace.zeroedDoubles(s.len), dB = dBeta == null ? null : Workspace.zeroedDoubles(s.len);
        double n = s.len;
        Normalization.backwardRows(dx, 0, assignDx, dG, dB, dy, 0, s.x, 0, s.rows, s.len, s.center, s.invStdF, s.corr, s.gamma,
                (r, g1, g2, out) -> {
                    double inv = s.invStd[r], cx = -inv * inv * g2 / n;
                    out[0] = (float) cx;
                    out[1] = s.mean == null ? 0f : (float) (-inv * g1 / n + cx * (s.center[r] - s.mean[r]));
                });
        for (int i = 0; i < s.len; i++) {
            if (dG != null) dGamma[i] += (float) dG[i];
            if (dB != null) dBeta[i] += (float) dB[i];
        }
    }
}
