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
        merge(mean, m2, 0, mean.length, count, other.count, other.mean, other.m2, 0);
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

    /**
     * {@link #merge(double[], double[], int, double, double, double, double) merge} of groups
     * [g0, g1), each with the moments meanB[bOff + g − g0], m2B[bOff + g − g0] of nb values: the
     * two ratios of the counts computed once for all the groups, the same bits as a group at a
     * time (a channels-last reduction merges thousands of chunks × channels).
     */
    public static void merge(double[] mean, double[] m2, int g0, int g1, double na, double nb, double[] meanB, double[] m2B, int bOff) {
        if (na == 0) {
            System.arraycopy(meanB, bOff, mean, g0, g1 - g0);
            System.arraycopy(m2B, bOff, m2, g0, g1 - g0);
            return;
        }
        double n = na + nb, wMean = nb / n, wM2 = na * nb / n;
        for (int g = g0, b = bOff; g < g1; g++, b++) {
            double delta = meanB[b] - mean[g];
            mean[g] += delta * wMean;
            m2[g] += m2B[b] + delta * delta * wM2;
        }
    }
}
