package org.norm4j.kernels;

/**
 * Per-group statistics as mergeable moments {@code (count, mean, m2)} in double, where
 * {@code m2 = Σ (x − mean)²}. Never E[x²] − E[x]²: that cancels catastrophically when |mean| is
 * large against the spread. {@link #merge} is Chan et al.'s pairwise update; it serves chunked
 * and multi-threaded reduction, virtual batches, synchronized statistics and population
 * re-estimation alike. Every group of one {@code Moments} has the same count.
 */
public final class Moments {
    public long count;
    public final double[] mean;
    public final double[] m2;

    public Moments(int groups) {
        this.mean = new double[groups];
        this.m2 = new double[groups];
    }

    public int groups() {
        return mean.length;
    }

    /** Biased variance m2/n: the one that normalizes. */
    public double varBiased(int g) {
        return m2[g] / count;
    }

    /** Unbiased variance m2/(n−1) (Bessel's correction); infinite for n = 1. */
    public double varUnbiased(int g) {
        return count > 1 ? m2[g] / (count - 1) : Double.POSITIVE_INFINITY;
    }

    /** Folds {@code other} (same groups) into this: the moments of the union of both samples. */
    public Moments merge(Moments other) {
        if (other.groups() != groups()) {
            throw new IllegalArgumentException("merging moments of " + other.groups() + " groups into " + groups());
        }
        if (other.count == 0) return this;
        if (count == 0) {
            count = other.count;
            System.arraycopy(other.mean, 0, mean, 0, mean.length);
            System.arraycopy(other.m2, 0, m2, 0, m2.length);
            return this;
        }
        for (int g = 0; g < mean.length; g++) merge(mean, m2, g, count, other.count, other.mean[g], other.m2[g]);
        count += other.count;
        return this;
    }

    /**
     * Chan's pairwise update of group g: the moments of {@code na} values (mean[g], m2[g]) and of
     * {@code nb} values of mean {@code meanB} and M2 {@code m2B} become those of the union. With
     * na = 0 the group takes the other's moments as they are.
     */
    public static void merge(double[] mean, double[] m2, int g, double na, double nb, double meanB, double m2B) {
        if (na == 0) {
            mean[g] = meanB;
            m2[g] = m2B;
            return;
        }
        double n = na + nb, delta = meanB - mean[g];
        mean[g] += delta * (nb / n);
        m2[g] += m2B + delta * delta * (na * nb / n);
    }
}
