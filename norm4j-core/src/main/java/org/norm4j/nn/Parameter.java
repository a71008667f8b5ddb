package org.norm4j.nn;

import org.norm4j.tensor.Tensor;

/**
 * A trainable tensor of a module: requires a gradient unless frozen, and may carry an L2
 * regularization coefficient (Keras's {@code gamma_regularizer=l2(λ)}: the penalty is λ·Σp²).
 * Its name (for example "BatchNorm(numFeatures=3).weight") appears in every error about it.
 */
public final class Parameter extends Tensor {
    private double l2;

    public Parameter(float[] data, int... shape) {
        super(data, shape);
        requiresGrad(true);
    }

    /** L2 coefficient λ: the module's regularization loss adds λ·Σp². */
    public double l2() {
        return l2;
    }

    public Parameter l2(double lambda) {
        if (!(lambda >= 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException(describe() + ": L2 coefficient must be finite and ≥ 0, got " + lambda);
        }
        this.l2 = lambda;
        return this;
    }

    /** Frozen parameters get no gradient (and optimizers leave them alone). */
    public boolean isFrozen() {
        return !requiresGrad();
    }
}
