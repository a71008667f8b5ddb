package org.norm4j.nn;

import org.norm4j.ops.Pool;
import org.norm4j.tensor.Tensor;

/** Max pooling of [N, C, H, W], as torch.nn.MaxPool2d (stride defaults to the kernel size). */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public MaxPool2d(int kernel, int stride, int padding) {
        super(kernel, stride, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        check(x);
        return Pool.max(x, kernel, kernel, stride, stride, padding, padding);
    }
}
