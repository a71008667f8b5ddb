package org.norm4j.tensor;

import java.util.SplittableRandom;

/**
 * The seeded random source of norm4j: every initializer, shuffle and dropout mask draws from one of
 * these, so a run is reproducible from its seed. Not thread-safe; {@link #split()} gives an
 * independent stream for another thread.
 */
public final class Rng {
    private final SplittableRandom random;
    private double spareGaussian;
    private boolean hasSpare;

    public Rng(long seed) {
        this.random = new SplittableRandom(seed);
    }

    private Rng(SplittableRandom random) {
        this.random = random;
    }

    /**
     * The seed of stream {@code index} of purpose {@code purpose} under {@code seed}: SplitMix64's
     * finalizer over the three, so distinct triples give unrelated streams (and none of them is the
     * stream of {@code new Rng(seed)} itself, which initializes a model's weights).
     */
    public static long streamSeed(long seed, long purpose, long index) {
        return mix64(mix64(mix64(seed) ^ purpose) + index);
    }

    private static long mix64(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public Rng split() {
        return new Rng(random.split());
    }

    /** Uniform in [0, 1). */
    public double uniform() {
        return random.nextDouble();
    }

    public double uniform(double low, double high) {
        return low + (high - low) * random.nextDouble();
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Standard normal by the polar Box–Muller method. */
    public double normal() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u, v, s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * Math.log(s) / s);
        spareGaussian = v * f;
        hasSpare = true;
        return u * f;
    }

    public double normal(double mean, double std) {
        return mean + std * normal();
    }
}
