package org.norm4j.nn.norm;

/**
 * How a running estimate absorbs each batch's value: {@code running ← (1 − w)·running + w·batch}
 * with w, the weight of the new value, given by the rule at the n-th update (n counts from 1).
 * Frameworks name the parameter in opposite ways ("momentum" is the weight of the new value in
 * PyTorch and the weight of the old one in Keras); here the rule says which.
 */
public sealed interface RunningAverage {

    /** The weight of the new batch value at update n ≥ 1. */
    double weightOfNew(long n);

    /** PyTorch's {@code momentum}, Lasagne's {@code alpha}: w = momentum. */
    record WeightOfNew(double momentum) implements RunningAverage {
        public WeightOfNew {
            checkUnit("momentum (weight of the new value)", momentum);
        }

        @Override
        public double weightOfNew(long n) {
            return momentum;
        }
    }

    /** Keras's {@code momentum}, TF's and DL4J's {@code decay}: w = 1 − decay. */
    record WeightOfOld(double decay) implements RunningAverage {
        public WeightOfOld {
            checkUnit("decay (weight of the old value)", decay);
        }

        @Override
        public double weightOfNew(long n) {
            return 1 - decay;
        }
    }

    /** PyTorch's {@code momentum=None}: the plain mean of all batches so far, w = 1/n. */
    record Cumulative() implements RunningAverage {
        @Override
        public double weightOfNew(long n) {
            return 1.0 / n;
        }
    }

    /** PuzzleLib: w = max(initFactor/n, minFactor) — a cumulative mean at first, then an EMA. */
    record CumulativeThenEma(double initFactor, double minFactor) implements RunningAverage {
        public CumulativeThenEma {
            checkUnit("initFactor", initFactor);
            checkUnit("minFactor", minFactor);
        }

        @Override
        public double weightOfNew(long n) {
            return Math.max(initFactor / n, minFactor);
        }
    }

    /**
     * TF1's {@code zero_debias=True}: a biased accumulator starting at zero,
     * {@code biased ← decay·biased + (1 − decay)·batch}, and the estimate
     * {@code biased / (1 − decay^n)}. {@link #weightOfNew} is the accumulator's weight.
     */
    record ZeroDebiased(double decay) implements RunningAverage {
        public ZeroDebiased {
            checkUnit("decay (weight of the old value)", decay);
            if (decay == 1) throw new IllegalArgumentException("zero-debiased average needs decay < 1, got 1");
        }

        @Override
        public double weightOfNew(long n) {
            return 1 - decay;
        }
    }

    static RunningAverage weightOfNew(double momentum) {
        return new WeightOfNew(momentum);
    }

    static RunningAverage weightOfOld(double decay) {
        return new WeightOfOld(decay);
    }

    static RunningAverage cumulative() {
        return new Cumulative();
    }

    static RunningAverage cumulativeThenEma(double initFactor, double minFactor) {
        return new CumulativeThenEma(initFactor, minFactor);
    }

    static RunningAverage zeroDebiased(double decay) {
        return new ZeroDebiased(decay);
    }

    private static void checkUnit(String what, double v) {
        if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(what + " must be in [0, 1], got " + v);
    }
}
