package org.norm4j.nn.norm;

import java.util.function.DoubleFunction;
import org.norm4j.nn.Initializer;

/**
 * A framework's batch-normalization defaults, selectable by name. {@link BatchNorm#of} takes every
 * default from here; the builder overrides any of them. docs/conventions.md lists each value with
 * the source file it comes from.
 */
public enum Convention {
    /** torch.nn.BatchNorm1d/2d/3d: eps 1e-5, momentum 0.1 = weight of the new value, unbiased running var. */
    PYTORCH(1e-5, RunningAverage.weightOfNew(0.1), RunningAverage::weightOfNew, VarianceEstimator.UNBIASED,
            StatStorage.VAR, Initializer.ones(), true, true, 1, false, false),
    /** Keras 3 BatchNormalization: eps 1e-3, momentum 0.99 = weight of the old value, biased, axis -1; frozen = inference. */
    KERAS(1e-3, RunningAverage.weightOfOld(0.99), RunningAverage::weightOfOld, VarianceEstimator.BIASED,
            StatStorage.VAR, Initializer.ones(), true, true, -1, true, false),
    /** tf.contrib.layers.batch_norm: eps 1e-3, decay 0.999, fused kernel's unbiased variance, no gamma by default, NHWC. */
    TF_CONTRIB(1e-3, RunningAverage.weightOfOld(0.999), RunningAverage::weightOfOld, VarianceEstimator.UNBIASED,
            StatStorage.VAR, Initializer.ones(), true, false, -1, false, false),
    /** Lasagne BatchNormLayer: eps 1e-4, alpha 0.1 = weight of the new value, averages inv_std itself. */
    LASAGNE(1e-4, RunningAverage.weightOfNew(0.1), RunningAverage::weightOfNew, VarianceEstimator.BIASED,
            StatStorage.INV_STD, Initializer.ones(), true, true, 1, false, false),
    /** PuzzleLib BatchNorm: eps 1e-5, factor max(1/n, 0.1), unbiased (cuDNN), scale ~ normal(1, 0.01). */
    PUZZLELIB(1e-5, RunningAverage.cumulativeThenEma(1.0, 0.1), m -> RunningAverage.cumulativeThenEma(1.0, m),
            VarianceEstimator.UNBIASED, StatStorage.VAR, Initializer.normal(1.0, 0.01), true, true, 1, false, false),
    /** The d2l book's from-scratch BatchNorm: eps 1e-5, 0.9 = weight of the old value, biased. */
    D2L(1e-5, RunningAverage.weightOfOld(0.9), RunningAverage::weightOfOld, VarianceEstimator.BIASED,
            StatStorage.VAR, Initializer.ones(), true, true, 1, false, false),
    /** Deeplearning4j BatchNormalization: eps 1e-5, decay 0.9 = weight of the old value, biased, stores log10(std), updates in backprop. */
    DL4J(1e-5, RunningAverage.weightOfOld(0.9), RunningAverage::weightOfOld, VarianceEstimator.BIASED,
            StatStorage.LOG10_STD, Initializer.ones(), true, true, 1, false, true),
    /**
     * ONNX BatchNormalization-15 with training_mode = 1: epsilon 1e-5, momentum 0.9 = weight of the
     * old value, biased variance into the running estimate, axis 1; scale and B are graph inputs.
     */
    ONNX(1e-5, RunningAverage.weightOfOld(0.9), RunningAverage::weightOfOld, VarianceEstimator.BIASED,
            StatStorage.VAR, Initializer.ones(), true, true, 1, false, false);

    final double eps;
    final RunningAverage runningAverage;
    /** The framework's own "momentum"/"decay"/"alpha"/"minFactor" parameter, as a rule. */
    final DoubleFunction<RunningAverage> momentum;
    final VarianceEstimator runningVariance;
    final StatStorage storage;
    final Initializer gammaInit;
    final boolean center;
    final boolean scale;
    final int axis;
    /** Keras: a layer with trainable = false runs in inference mode. */
    final boolean frozenRunsInference;
    /** DL4J: the running statistics are updated in back-propagation. */
    final boolean updateInBackward;

    Convention(double eps, RunningAverage runningAverage, DoubleFunction<RunningAverage> momentum,
               VarianceEstimator runningVariance, StatStorage storage, Initializer gammaInit,
               boolean center, boolean scale, int axis, boolean frozenRunsInference, boolean updateInBackward) {
        this.eps = eps;
        this.runningAverage = runningAverage;
        this.momentum = momentum;
        this.runningVariance = runningVariance;
        this.storage = storage;
        this.gammaInit = gammaInit;
        this.center = center;
        this.scale = scale;
        this.axis = axis;
        this.frozenRunsInference = frozenRunsInference;
        this.updateInBackward = updateInBackward;
    }

    public double eps() {
        return eps;
    }

    public RunningAverage runningAverage() {
        return runningAverage;
    }

    /** The rule that this framework's momentum-like parameter with value {@code m} means. */
    public RunningAverage momentum(double m) {
        return momentum.apply(m);
    }

    public VarianceEstimator runningVariance() {
        return runningVariance;
    }

    public StatStorage storage() {
        return storage;
    }

    public int axis() {
        return axis;
    }
}
