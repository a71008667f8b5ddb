package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * Mean cross-entropy of logits [N, K] against class labels, with the log-softmax fused in
 * (torch.nn.functional.cross_entropy, reduction "mean"): loss = (1/N)·Σ_n (logsumexp(z_n) − z_n[y_n]).
 * Each row is computed in double after subtracting its maximum, so no logit overflows.
 * Backward: dz[n, k] = (softmax(z_n)[k] − [k = y_n])·dLoss/N.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    public static Tensor forward(Tensor logits, int[] labels) {
        int[] s = logits.shape();
        if (s.length != 2 || labels.length != s[0]) {
            throw new IllegalArgumentException("cross-entropy: expected logits [N, K] and N labels, got logits "
                    + Shape.str(s) + " and " + labels.length + " labels");
        }
        int n = s[0], k = s[1];
        float[] z = logits.data();
        float[] softmax = new float[n * k];
        double loss = 0;
        for (int r = 0; r < n; r++) {
            int y = labels[r];
            if (y < 0 || y >= k) throw new IllegalArgumentException("cross-entropy: label " + y + " at row " + r + " is outside 0.." + (k - 1));
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) max = Math.max(max, z[r * k + c]);
            double sum = 0;
            for (int c = 0; c < k; c++) sum += Math.exp(z[r * k + c] - max);
            for (int c = 0; c < k; c++) softmax[r * k + c] = (float) (Math.exp(z[r * k + c] - max) / sum);
            loss += Math.log(sum) + max - z[r * k + y];
        }
        Tensor out = Tensor.of(new float[] {(float) (loss / n)}, 1);
        int[] ys = labels.clone();
        Autograd.record(out, "CrossEntropy", (dLoss, d) -> {
            float g = dLoss[0] / n;
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < k; c++) d[0][r * k + c] += (softmax[r * k + c] - (c == ys[r] ? 1f : 0f)) * g;
            }
        }, logits);
        return out;
    }
}
