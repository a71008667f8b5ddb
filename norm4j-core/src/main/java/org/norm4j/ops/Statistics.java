package org.norm4j.ops;

import org.norm4j.kernels.Moments;
import org.norm4j.kernels.Normalization;
import org.norm4j.tensor.Tensor;

/** Batch statistics of a tensor in the [A, C, B] view, as {@link Moments}; not differentiable by itself. */
public final class Statistics {
    private Statistics() {}

    /** Per channel c over (a, b): batch normalization's statistics, count A·B. */
    public static Moments perChannel(Tensor x, int A, int C, int B) {
        Moments m = new Moments(C);
        m.count = (long) A * B;
        Normalization.collectStatsChannels(m.mean, m.m2, x.data(), 0, A, C, B);
        return m;
    }

    /** Per contiguous row of {@code len} floats: instance, group and layer normalization's statistics. */
    public static Moments perRow(Tensor x, int rows, int len) {
        Moments m = new Moments(rows);
        m.count = len;
        Normalization.collectStatsRows(m.mean, m.m2, x.data(), 0, rows, len);
        return m;
    }
}
