package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Normalization#normalizeRows} (layer and RMS norm's forward): each row's statistics against
 * double precision, and its output bit for bit what {@link Loops#normalizeRow} gives with those
 * parameters, whether the rows go one by one (short rows, no gamma or beta, a batch of a few rows)
 * or in pairs (16 rows or more of {@link Normalization#PAIR_ROWS_LEN} floats or more with gamma or
 * beta), an odd row left at the end, on 1 and 2 threads.
 */
class NormalizeRowsTest {
    @Test
    void pairedAndSingleRowsGiveEachRowsOwnOutput() {
        int before = Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                for (int len : new int[] {100, Normalization.PAIR_ROWS_LEN, 4099}) {
                    for (int nulls = 0; nulls < 4; nulls++) {
                        for (boolean rms : new boolean[] {false, true}) {
                            check(17, len, nulls, rms, threads);   // pairs (16 rows or more) and an odd row left
                            check(3, len, nulls, rms, threads);    // a few rows: one at a time
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static void check(int rows, int len, int nulls, boolean rms, int threads) {
        String label = rows + "x" + len + (rms ? " RMS" : " LN") + " gamma " + ((nulls & 1) != 0 ? "null" : "set") + ", beta "
                + ((nulls & 2) != 0 ? "null" : "set") + " on " + threads + " threads";
        Random r = new Random(len * 8L + nulls);
        float[] x = new float[rows * len];
        for (int i = 0; i < x.length; i++) x[i] = (float) ((i / len) * 3 + (i / len == 2 ? 1e4 : 0) + (1 + i / len) * r.nextGaussian());
        float[] gamma = (nulls & 1) != 0 ? null : new float[len], beta = (nulls & 2) != 0 ? null : new float[len];
        for (int i = 0; i < len; i++) {
            if (gamma != null) gamma[i] = 1 + 0.5f * (float) r.nextGaussian();
            if (beta != null) beta[i] = (float) r.nextGaussian();
        }
        double eps = 1e-5;
        double[] mean = rms ? null : new double[rows], invStd = new double[rows];
        float[] center = new float[rows], invStdF = new float[rows], corr = new float[rows], y = new float[x.length];
        Normalization.normalizeRows(y, 0, x, 0, rows, len, eps, mean, invStd, center, invStdF, corr, gamma, beta);
        float[] expected = new float[x.length];
        for (int row = 0; row < rows; row++) {
            double s = 0, q = 0;
            for (int i = 0; i < len; i++) s += x[row * len + i];
            double mu = rms ? 0 : s / len;
            for (int i = 0; i < len; i++) q += Math.pow(x[row * len + i] - mu, 2);
            double inv = 1 / Math.sqrt(q / len + eps);
            assertEquals(inv, invStd[row], 1e-6 * inv, label + ": invStd of row " + row);
            if (!rms) assertEquals(mu, mean[row], 1e-6 / inv + 1e-12 * Math.abs(mu), label + ": mean of row " + row);
            Loops.get().normalizeRow(expected, row * len, x, row * len, len, center[row], invStdF[row], corr[row], gamma, beta);
        }
        assertArrayEquals(expected, y, 0, label + ": each row as normalizeRow writes it with the row's parameters");
    }
}
