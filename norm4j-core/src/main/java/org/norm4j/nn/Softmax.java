package org.norm4j.nn;

import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Tensor;

/**
 * Softmax over the last axis, as torch.nn.Softmax(dim=-1) and ONNX Softmax-13 with axis = -1:
 * <pre>
 *   y[r, k] = exp(x[r, k] − max_j x[r, j]) / Σ_j exp(x[r, j] − max_j x[r, j])
 *   dx[r, k] = y[r, k]·(dy[r, k] − Σ_j dy[r, j]·y[r, j])
 * </pre>
 * Subtracting the row maximum keeps exp from overflowing; the sums are in double. A row holding
 * +Inf or NaN gives NaN, as PyTorch.
 */
public final class Softmax extends Module {
    @Override
    public Tensor forward(Tensor x) {
        int[] s = x.shape();
        if (s.length < 1 || s[s.length - 1] < 1) {
            throw new IllegalArgumentException(describe() + ": expected an input with a non-empty last axis, got " + org.norm4j.tensor.Shape.str(s));
        }
        int k = s[s.length - 1], rows = x.size() / k;
        float[] xd = x.data(), y = new float[xd.length];
        for (int r = 0; r < rows; r++) {
            int off = r * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, xd[off + j]);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp((double) xd[off + j] - max);
            for (int j = 0; j < k; j++) y[off + j] = (float) (Math.exp((double) xd[off + j] - max) / sum);
        }
        Tensor yt = Tensor.wrap(y, s);
        Autograd.record(yt, "Softmax", (dy, d) -> {
            for (int r = 0; r < rows; r++) {
                int off = r * k;
                double dot = 0;   // Σ_j dy·y
                for (int j = 0; j < k; j++) dot += (double) dy[off + j] * y[off + j];
                for (int j = 0; j < k; j++) d[0][off + j] += (float) (y[off + j] * (dy[off + j] - dot));
            }
        }, x);
        return yt;
    }

    @Override
    public String describe() {
        return "Softmax(dim=-1)";
    }
}
