package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Parallel;
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

    /** Logits per task (a few microseconds of exp and log): a batch of 256 rows of 10 classes is four tasks. */
    static final int ROW_TASK_ELEMENTS = 640;

    public static Tensor forward(Tensor logits, int[] labels) {
        int[] s = logits.shape();
        if (s.length != 2 || labels.length != s[0]) {
            throw new IllegalArgumentException("cross-entropy: expected logits [N, K] and N labels, got logits "
                    + Shape.str(s) + " and " + labels.length + " labels");
        }
        int n = s[0], k = s[1];
        for (int r = 0; r < n; r++) {   // every label checked before any work: the first bad row is the one named
            if (labels[r] < 0 || labels[r] >= k) {
                throw new IllegalArgumentException("cross-entropy: label " + labels[r] + " at row " + r + " is outside 0.." + (k - 1));
            }
        }
        float[] z = logits.data();
        float[] softmax = new float[n * k];
        double[] rowLoss = new double[n];
        // rows in tasks of fixed size (each row's arithmetic its own), their losses then added in row
        // order: the same bits on any number of threads
        Parallel.forRange(n, Parallel.grain(k, ROW_TASK_ELEMENTS), (r0, r1) -> {
            double[] e = new double[k];
            for (int r = r0; r < r1; r++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) max = Math.max(max, z[r * k + c]);
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    e[c] = Math.exp(z[r * k + c] - max);   // once per element: the sum's and the softmax's
                    sum += e[c];
                }
                for (int c = 0; c < k; c++) softmax[r * k + c] = (float) (e[c] / sum);
                rowLoss[r] = Math.log(sum) + max - z[r * k + labels[r]];
            }
        });
        double loss = 0;
        for (int r = 0; r < n; r++) loss += rowLoss[r];
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
