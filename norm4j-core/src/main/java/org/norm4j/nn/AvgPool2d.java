package org.norm4j.nn;

import org.norm4j.ops.Pool;
import org.norm4j.tensor.Tensor;

/** Average pooling of [N, C, H, W], as torch.nn.AvgPool2d with count_include_pad=True. */
public final class AvgPool2d extends Pool2d {
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public AvgPool2d(int kernel, int stride, int padding) {
        super(kernel, stride, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        check(x);
        return Pool.avg(x, kernel, kernel, stride, stride, padding, padding);
    }
}
