package org.norm4j.nn.norm;

/**
 * What a batch norm stores as its running spread, and in which domain the running average is
 * taken. All three decode to the {@code invStd} that inference normalizes with.
 */
public enum StatStorage {
    /** The variance, averaged as a variance: PyTorch, Keras, TF, PuzzleLib, d2l. Inference: 1/sqrt(var + eps). */
    VAR,
    /**
     * Lasagne's {@code inv_std = 1/sqrt(var + eps)}, averaged as an inverse standard deviation
     * (a different estimator from inverting the averaged variance). Inference uses it as stored.
     */
    INV_STD,
    /**
     * DL4J's {@code log10stdev = log10(sqrt(var))}: the running average is taken over the variance
     * (var = (10^s)²) and stored back as log10 of its square root. Inference: 1/sqrt(var + eps).
     */
    LOG10_STD;

    /** The value the running average works on, from the stored value. */
    double averagedFromStored(double stored) {
        return this == LOG10_STD ? Math.pow(10, 2 * stored) : stored;
    }

    /** The stored value, from the averaged one. */
    double storedFromAveraged(double averaged) {
        return this == LOG10_STD ? Math.log10(Math.sqrt(averaged)) : averaged;
    }

    /** The averaged-domain value of one batch, from its variance (the estimator already chosen). */
    double averagedFromBatchVariance(double var, double eps) {
        return this == INV_STD ? 1 / Math.sqrt(var + eps) : var;
    }

    /** 1/sqrt(var + eps) from the stored value. */
    double invStd(double stored, double eps) {
        return switch (this) {
            case VAR -> 1 / Math.sqrt(stored + eps);
            case INV_STD -> stored;
            case LOG10_STD -> 1 / Math.sqrt(Math.pow(10, 2 * stored) + eps);
        };
    }

    /** The variance a stored value stands for (for folding and reporting). */
    double variance(double stored, double eps) {
        return switch (this) {
            case VAR -> stored;
            case INV_STD -> 1 / (stored * stored) - eps;
            case LOG10_STD -> Math.pow(10, 2 * stored);
        };
    }
}
