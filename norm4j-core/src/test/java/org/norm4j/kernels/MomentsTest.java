package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Chan's merge against the moments of the concatenated sample, computed directly in double. */
class MomentsTest {
    @Test
    void mergeEqualsTheWholeSample() {
        Random rnd = new Random(5);
        int na = 37, nb = 1001;
        float[] x = new float[na + nb];
        for (int i = 0; i < x.length; i++) x[i] = (float) (1e4 + 0.01 * rnd.nextGaussian() + (i < na ? 0.05 : 0));
        Moments a = of(x, 0, na), b = of(x, na, nb), all = of(x, 0, na + nb);
        a.merge(b);
        assertEquals(all.count, a.count);
        assertEquals(all.mean[0], a.mean[0], 1e-12 * 1e4);
        assertEquals(all.m2[0], a.m2[0], 1e-9 * all.m2[0]);
        assertEquals(all.varUnbiased(0), a.varUnbiased(0), 1e-9 * all.varUnbiased(0));
        Moments empty = new Moments(1);
        empty.merge(all);
        assertEquals(all.mean[0], empty.mean[0]);
    }

    /** The range merge hoists the count ratios: the same bits as merging group by group, empty side included. */
    @Test
    void rangeMergeIsGroupByGroupMerge() {
        Random rnd = new Random(6);
        int groups = 13, g0 = 3, g1 = 11, bOff = 5;
        double[] meanB = new double[bOff + groups], m2B = new double[bOff + groups];
        for (int i = 0; i < meanB.length; i++) {
            meanB[i] = 1e3 * rnd.nextGaussian();
            m2B[i] = Math.abs(rnd.nextGaussian()) * 1e2;
        }
        for (double na : new double[] {0, 1, 37, 4096}) {
            double[] mean = new double[groups], m2 = new double[groups];
            for (int g = 0; g < groups; g++) {
                mean[g] = rnd.nextGaussian();
                m2[g] = Math.abs(rnd.nextGaussian()) * 7;
            }
            double[] meanOne = mean.clone(), m2One = m2.clone();
            Moments.merge(mean, m2, g0, g1, na, 256, meanB, m2B, bOff);
            for (int g = g0; g < g1; g++) Moments.merge(meanOne, m2One, g, na, 256, meanB[bOff + g - g0], m2B[bOff + g - g0]);
            for (int g = 0; g < groups; g++) {
                assertEquals(Double.doubleToLongBits(meanOne[g]), Double.doubleToLongBits(mean[g]), "na " + na + ", mean of group " + g);
                assertEquals(Double.doubleToLongBits(m2One[g]), Double.doubleToLongBits(m2[g]), "na " + na + ", m2 of group " + g);
            }
        }
    }

    private static Moments of(float[] x, int off, int n) {
        Moments m = new Moments(1);
        m.count = n;
        double mean = 0, m2 = 0;
        for (int i = off; i < off + n; i++) mean += x[i];
        mean /= n;
        for (int i = off; i < off + n; i++) m2 += (x[i] - mean) * (x[i] - mean);
        m.mean[0] = mean;
        m.m2[0] = m2;
        return m;
    }

    /**
     * Channels-first channels are read once about a shift from eight of their runs; where those
     * runs are not the channel (here the pilot images 0, 1024, …, 7168 of 8192 hold 1e4 + 1 and the
     * others 1e4, so the shift lies 32 deviations from the mean, and the one-pass m2 carries a
     * thousand times the rounding: 2.7e-7 of m2, against 2e-12 about the mean), the channel takes
     * a second pass about its mean (checked to 1e-8 of m2). Beside it:
     * a spread of 1e-2 on a mean of 1e4, images that drift, a constant. Against the two-pass
     * moments in double, to ~1e-6 of the spread, the per-channel and memory-order paths alike.
     */
    @Test
    void channelsFirstOnePassHoldsForUnrepresentativePilotsDriftAndLargeMeans() {
        Random rnd = new Random(17);
        int A = 8192, C = 4, B = 20;
        float[] x = new float[A * C * B];
        for (int a = 0; a < A; a++) {
            for (int b = 0; b < B; b++) {
                int o = a * C * B + b;
                x[o] = (float) ((a % 1024 == 0 ? 1e4 + 1 : 1e4) + 1e-3 * rnd.nextGaussian());   // the pilots alone are far
                x[o + B] = (float) (1e4 + 1e-2 * rnd.nextGaussian());                     // large mean, tiny spread
                x[o + 2 * B] = (float) (a * 0.1 + 1e-3 * rnd.nextGaussian());            // images that drift
                x[o + 3 * B] = 7f;                                                       // constant
            }
        }
        double[] mean = new double[C], m2 = new double[C];
        Normalization.collectStatsChannels(mean, m2, x, 0, A, C, B);
        double[] meanCached = new double[C], m2Cached = new double[C];
        float[] center = new float[C], scale = new float[C], shift = new float[C];
        Normalization.statsThenApplyChannels(meanCached, m2Cached, new float[x.length], x, null, A, C, 1, B, c -> { }, center, scale, shift,
                Activation.IDENTITY);
        for (int c = 0; c < C; c++) {
            double s = 0, q = 0;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) s += x[(a * C + c) * B + b];
            double n = (double) A * B, mu = s / n;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) q += Math.pow(x[(a * C + c) * B + b] - mu, 2);
            double std = Math.sqrt(q / n);
            assertEquals(mu, mean[c], 1e-6 * std + 1e-12 * Math.abs(mu), "mean " + c);
            assertEquals(q, m2[c], (c == 0 ? 1e-8 : 1e-6) * q, "m2 " + c);
            assertEquals(mean[c], meanCached[c], "channel " + c + ": the per-channel path gives the memory-order path's bits");
            assertEquals(m2[c], m2Cached[c], "channel " + c + ": the per-channel path gives the memory-order path's bits");
        }
    }

    @Test
    void channelsLastChunkingEqualsOnePass() {
        // More rows than one chunk: the chunked, merged reduction against the kernel's one-chunk result.
        Random rnd = new Random(9);
        int rows = Normalization.ROWS_PER_CHUNK * 3 + 17, C = 3;
        float[] x = new float[rows * C];
        for (int i = 0; i < x.length; i++) x[i] = (float) (100 * (i % C) + rnd.nextGaussian());
        assertColumnMomentsExact(x, rows, C);
    }

    /**
     * The kernel's channels-last moments against the two-pass moments in double, column by column:
     * float sums over at most 32 rows before each fold into double are good to ~1e-7 of the spread.
     */
    static void assertColumnMomentsExact(float[] x, int rows, int C) {
        double[] mean = new double[C], m2 = new double[C];
        Normalization.collectStatsChannels(mean, m2, x, 0, rows, C, 1);
        for (int c = 0; c < C; c++) {
            double s = 0, q = 0;
            for (int r = 0; r < rows; r++) s += x[r * C + c];
            double mu = s / rows;
            for (int r = 0; r < rows; r++) q += (x[r * C + c] - mu) * (x[r * C + c] - mu);
            double std = Math.sqrt(q / rows);
            assertEquals(mu, mean[c], 1e-6 * std, "mean " + c);
            assertEquals(q, m2[c], 1e-6 * q, "m2 " + c);
        }
    }

    /**
     * Channels-last chunks are read once about a shift from their first rows; rows that drift (a
     * shift far from the chunk's mean) and a spread of 1e-2 on a mean of 1e4 must come out as exact
     * as the two-pass algorithm: against the moments in double, to ~1e-6 of the spread.
     */
    @Test
    void channelsLastOnePassHoldsForDriftAndLargeMeans() {
        Random rnd = new Random(13);
        int rows = Normalization.ROWS_PER_CHUNK * 2 + 5, C = 4;
        float[] x = new float[rows * C];
        for (int r = 0; r < rows; r++) {
            x[r * C] = (float) (1e4 + 1e-2 * rnd.nextGaussian());        // large mean, tiny spread
            x[r * C + 1] = (float) (r * 0.1 + 1e-3 * rnd.nextGaussian());  // rows that drift: the first rows are not the mean
            x[r * C + 2] = 7f;                                             // constant
            // a head unlike the rest: the first chunk's shift (its first 32 rows) is 0, its mean ~875
            // (2.6 deviations away, the most a head of 32 rows in 256 can be; the kernel takes a
            // second pass beyond half a deviation)
            x[r * C + 3] = (float) (r < 32 ? 0 : 1e3 + 1e-2 * rnd.nextGaussian());
        }
        assertColumnMomentsExact(x, rows, C);
    }

    /**
     * Long rows ({@link Normalization#PILOT_ROW_LEN} and up) are read once about a shift from
     * {@value Normalization#PILOT_RUNS} blocks spread over the row. Row 0 holds 1e4 + 1 in exactly
     * those blocks and 1e4 elsewhere: the shift lies about eleven deviations from the mean, and the
     * row must take its second pass about the mean (m2 checked to 3e-7: 2e-8 off with it, 2e-5 off
     * with the one pass alone, at 65 539 floats). Beside it: a spread of 1e-2 on a mean of 1e4, a ramp, a constant, and a row whose first
     * half is far from its second. Against the two-pass moments in double; normalizeRows' statistics
     * are collectStatsRows' bits.
     */
    @Test
    void longRowsOnePassHoldsForUnrepresentativePilotsAndLargeMeans() {
        int len = 2 * Normalization.PILOT_ROW_LEN + 3, blk = Normalization.PILOT_BLOCK, runs = Normalization.PILOT_RUNS;
        boolean[] pilot = new boolean[len];
        for (int k = 0; k < runs; k++) {
            int at = (int) ((long) k * (len - blk) / (runs - 1));
            for (int i = at; i < at + blk; i++) pilot[i] = true;
        }
        assertRowMomentsExact(len, pilot, 23);
    }

    /**
     * Short rows are read once about the mean of their first {@value Normalization#HEAD} floats: the
     * same rows as {@link #longRowsOnePassHoldsForUnrepresentativePilotsAndLargeMeans}, row 0's head
     * alone far from the rest. Up to 16 floats the head is the row; from 33 it lies over a deviation
     * off and the row takes its second pass, which the bound needs from 784 floats on (without it
     * m2 is 6e-6 off there and 4e-4 at 32 767; with it 3e-14 and 5e-13).
     */
    @Test
    void shortRowsOnePassHoldsForUnrepresentativeHeadsAndLargeMeans() {
        for (int len : new int[] {1, 7, 16, 17, 40, 100, 784, Normalization.PILOT_ROW_LEN - 1}) {
            boolean[] head = new boolean[len];
            for (int i = 0; i < Math.min(len, Normalization.HEAD); i++) head[i] = true;
            assertRowMomentsExact(len, head, 29 + len);
        }
    }

    /**
     * Five rows of len (row 0: 1e4 + 1 where {@code far}, 1e4 elsewhere; a spread of 1e-2 on 1e4; a
     * ramp; a constant; two far halves): collectStatsRows against the two-pass moments in double,
     * and normalizeRows' statistics its bits.
     */
    private static void assertRowMomentsExact(int len, boolean[] far, long seed) {
        Random rnd = new Random(seed);
        int rows = 5;
        float[] x = new float[rows * len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) ((far[i] ? 1e4 + 1 : 1e4) + 1e-3 * rnd.nextGaussian());     // the shift's floats alone are far
            x[len + i] = (float) (1e4 + 1e-2 * rnd.nextGaussian());                   // large mean, tiny spread
            x[2 * len + i] = (float) (i * 0.1 + 1e-3 * rnd.nextGaussian());            // a ramp
            x[3 * len + i] = 7f;                                                       // constant
            x[4 * len + i] = (float) ((i < len / 2 ? -5e3 : 5e3) + rnd.nextGaussian()); // two halves
        }
        double[] mean = new double[rows], m2 = new double[rows];
        Normalization.collectStatsRows(mean, m2, x, 0, rows, len);
        double[] meanN = new double[rows], invStd = new double[rows];
        float[] center = new float[rows], invStdF = new float[rows], corr = new float[rows];
        Normalization.normalizeRows(new float[x.length], 0, x, 0, rows, len, 1e-5, meanN, invStd, center, invStdF, corr, null, null);
        for (int r = 0; r < rows; r++) {
            double s = 0, q = 0;
            for (int i = 0; i < len; i++) s += x[r * len + i];
            double mu = s / len;
            for (int i = 0; i < len; i++) q += Math.pow(x[r * len + i] - mu, 2);
            double std = Math.sqrt(q / len);
            String at = "len " + len + ", row " + r;
            assertEquals(mu, mean[r], 1e-6 * std + 1e-12 * Math.abs(mu), "mean, " + at);
            assertEquals(q, m2[r], (r == 0 ? 3e-7 : 1e-6) * q, "m2, " + at);
            assertEquals(mean[r], meanN[r], at + ": normalizeRows' mean is collectStatsRows' bits");
            assertEquals(1 / Math.sqrt(m2[r] / len + 1e-5), invStd[r], at + ": normalizeRows' invStd from collectStatsRows' m2");
        }
    }
}
