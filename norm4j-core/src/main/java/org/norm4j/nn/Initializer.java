package org.norm4j.nn;

import java.util.Arrays;
import org.norm4j.tensor.Rng;

/** Fills a freshly allocated parameter or buffer. */
@FunctionalInterface
public interface Initializer {
    void fill(float[] values, Rng rng);

    static Initializer constant(double value) {
        return (v, rng) -> Arrays.fill(v, (float) value);
    }

    static Initializer zeros() {
        return constant(0);
    }

    static Initializer ones() {
        return constant(1);
    }

    /** Normal(mean, std): PuzzleLib initializes its BN scale with normal(1, sscale = 0.01). */
    static Initializer normal(double mean, double std) {
        return (v, rng) -> {
            for (int i = 0; i < v.length; i++) v[i] = (float) rng.normal(mean, std);
        };
    }

    /** Uniform in [low, high): PyTorch before 1.2 initialized BN's weight with U(0, 1). */
    static Initializer uniform(double low, double high) {
        return (v, rng) -> {
            for (int i = 0; i < v.length; i++) v[i] = (float) rng.uniform(low, high);
        };
    }
}
