package org.norm4j.nn;

import org.norm4j.ops.Pool;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/** Shared checks of the pooling layers over [N, C, H, W]. */
public abstract class Pool2d extends Module {
    final int kernel;
    final int stride;
    final int padding;

    Pool2d(int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
            throw new IllegalArgumentException(getClass().getSimpleName() + "(kernel=" + kernel + ", stride=" + stride + ", padding="
                    + padding + "): kernel and stride must be ≥ 1, padding between 0 and kernel/2");
        }
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    void check(Tensor x) {
        int[] s = x.shape();
        if (s.length != 4 || s[2] + 2 * padding < kernel || s[3] + 2 * padding < kernel) {
            throw new IllegalArgumentException(describe() + ": expected input [N, C, H, W] with H, W ≥ " + (kernel - 2 * padding)
                    + ", got " + Shape.str(s));
        }
    }

    @Override
    public String describe() {
        return getClass().getSimpleName() + "(kernel=" + kernel + ", stride=" + stride + ", padding=" + padding + ")";
    }
}
