package org.norm4j.nn.norm;

/** Which batch variance feeds the running estimate (the one that normalizes is always biased). */
public enum VarianceEstimator {
    /** m2/n, as Keras 3, DL4J, d2l and Lasagne. */
    BIASED,
    /** m2/(n − 1), Bessel-corrected, as PyTorch, PuzzleLib (cuDNN) and TF's fused kernel. */
    UNBIASED
}
