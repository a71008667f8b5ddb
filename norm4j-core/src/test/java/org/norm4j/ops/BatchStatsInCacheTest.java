package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Moments;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * {@link ChannelNorm#forwardBatchStats} (each channel's statistics, then its output, while it is in
 * cache) and {@link ChannelNorm#forwardRowStats} (instance and group norm, row by row) against the whole-tensor order it replaces ({@link Statistics#perChannel}, then
 * {@link ChannelNorm#forward} with batch statistics): the same moments, outputs and gradients bit
 * for bit, with and without a fused activation and 2×2 pooling, odd planes, a channel of mean 1e4
 * and spread 1e-2, on 1 and 2 threads. The whole-tensor order is itself tested against
 * double-precision references and PyTorch (nn/norm); this pins the new order to it.
 */
class BatchStatsInCacheTest {
    private static final double EPS = 1e-5;

    @Test
    void sameBitsAsStatisticsThenApply() {
        int[][] shapes = {{4, 3, 6, 6}, {5, 2, 7, 5}, {3, 4, 2, 2}, {16, 6, 28, 28}};
        for (int threads = 1; threads <= 2; threads++) {
            int before = Parallel.threads();
            Parallel.setThreads(threads);
            try {
                for (int[] s : shapes) {
                    for (Activation act : Activation.values()) {
                        for (boolean pool : new boolean[] {false, true}) check(s, act, pool, threads);
                    }
                }
            } finally {
                Parallel.setThreads(before);
            }
        }
    }

    private static void check(int[] s, Activation act, boolean pool, int threads) {
        int A = s[0], C = s[1], B = s[2] * s[3];
        String label = java.util.Arrays.toString(s) + " " + act + (pool ? " pooled" : "") + " on " + threads + " threads";
        Random r = new Random(A * 31 + C * 7 + B);
        float[] x = new float[A * C * B], g = new float[C], b = new float[C];
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            x[i] = c == 0 ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) r.nextGaussian();
        }
        for (int c = 0; c < C; c++) {
            g[c] = 1 + 0.3f * (float) r.nextGaussian();
            b[c] = 0.2f * (float) r.nextGaussian();
        }
        int outSize = pool ? A * C * (s[2] / 2) * (s[3] / 2) : x.length;
        float[] dOut = new float[outSize];
        for (int i = 0; i < dOut.length; i++) dOut[i] = (float) r.nextGaussian();

        Result inCache = new Result(), whole = new Result();
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), s).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true), bt = Tensor.wrap(b.clone(), C).requiresGrad(true);
            Moments m = new Moments(C);
            double[] mean = new double[C], invStd = new double[C];
            Tensor y = ChannelNorm.forwardBatchStats(xt, gt, bt, A, C, B, EPS, act, pool, m, mean, invStd);
            inCache.fill(y, m, mean, invStd);
            y.backward(Tensor.wrap(dOut.clone(), y.shape()));
            inCache.grads(xt, gt, bt);
        }
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), s).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true), bt = Tensor.wrap(b.clone(), C).requiresGrad(true);
            Moments m = Statistics.perChannel(xt, A, C, B);
            double[] mean = new double[C], invStd = new double[C];
            for (int c = 0; c < C; c++) {
                mean[c] = m.mean[c];
                invStd[c] = 1 / Math.sqrt(m.varBiased(c) + EPS);
            }
            Tensor y = ChannelNorm.forward(xt, gt, bt, new ChannelNorm.Layout(A, C, B, 0, 1), mean, invStd, true, act, false, pool);
            whole.fill(y, m, mean, invStd);
            y.backward(Tensor.wrap(dOut.clone(), y.shape()));
            whole.grads(xt, gt, bt);
        }
        whole.assertSameBits(label, inCache);
    }

    /** {@link ChannelNorm#forwardRowStats} (instance norm: G = C; group norm: G groups) against {@link Statistics#perRow} then {@link ChannelNorm#forward}. */
    @Test
    void rowStatisticsSameBitsAsStatisticsThenApply() {
        int[][] cases = {{4, 6, 5, 6}, {4, 6, 5, 3}, {4, 6, 5, 1}, {3, 8, 49, 4}, {2, 64, 28 * 28, 64}, {2, 64, 28 * 28, 32}};   // A, C, B, G
        for (int threads = 1; threads <= 2; threads++) {
            int before = Parallel.threads();
            Parallel.setThreads(threads);
            try {
                for (int[] k : cases) checkRows(k[0], k[1], k[2], k[3], threads);
            } finally {
                Parallel.setThreads(before);
            }
        }
    }

    private static void checkRows(int A, int C, int B, int G, int threads) {
        String label = "A=" + A + " C=" + C + " B=" + B + " G=" + G + " on " + threads + " threads";
        Random r = new Random(A * 131 + C * 17 + B * 3 + G);
        float[] x = new float[A * C * B], g = new float[C], b = new float[C], dOut = new float[A * C * B];
        for (int i = 0; i < x.length; i++) x[i] = i % (C * B) < B ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) r.nextGaussian();
        for (int c = 0; c < C; c++) {
            g[c] = 1 + 0.3f * (float) r.nextGaussian();
            b[c] = 0.2f * (float) r.nextGaussian();
        }
        for (int i = 0; i < dOut.length; i++) dOut[i] = (float) r.nextGaussian();
        ChannelNorm.Layout layout = new ChannelNorm.Layout(A, C, B, G, C / G);
        int rows = A * G, len = C / G * B;
        Result inCache = new Result(), whole = new Result();
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), A, C, B).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true), bt = Tensor.wrap(b.clone(), C).requiresGrad(true);
            Moments m = new Moments(rows);
            double[] invStd = new double[rows];
            Tensor y = ChannelNorm.forwardRowStats(xt, gt, bt, layout, EPS, m, invStd);
            inCache.fill(y, m, m.mean, invStd);
            y.backward(Tensor.wrap(dOut.clone(), y.shape()));
            inCache.grads(xt, gt, bt);
        }
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), A, C, B).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true), bt = Tensor.wrap(b.clone(), C).requiresGrad(true);
            Moments m = Statistics.perRow(xt, rows, len);
            double[] invStd = new double[rows];
            for (int s = 0; s < rows; s++) invStd[s] = 1 / Math.sqrt(m.varBiased(s) + EPS);
            Tensor y = ChannelNorm.forward(xt, gt, bt, layout, m.mean, invStd, true, Activation.IDENTITY, false);
            whole.fill(y, m, m.mean, invStd);
            y.backward(Tensor.wrap(dOut.clone(), y.shape()));
            whole.grads(xt, gt, bt);
        }
        whole.assertSameBits(label, inCache);
    }

    @Test
    void servesChannelsFirstChannelsThatFitTheCache() {
        long limit = org.norm4j.kernels.Normalization.channelCacheBytes();   // half the L2 (sysfs), or 1 MiB
        assertTrue(limit >= 64 << 10 && limit <= 64L << 20, "a plausible half L2: " + limit);
        assertTrue(ChannelNorm.rowStatsInCache(limit / 4), "a row of exactly the limit");
        assertFalse(ChannelNorm.rowStatsInCache(limit / 4 + 1), "one float more: the whole-tensor order");
        assertTrue(ChannelNorm.batchStatsInCache(256, 10 * 10), "LeNet's second batch norm: 100 KB per channel");
        assertEquals(256L * 28 * 28 * 4 <= limit, ChannelNorm.batchStatsInCache(256, 28 * 28), "LeNet's first: 0.8 MB per channel");
        assertFalse(ChannelNorm.batchStatsInCache(2, (int) (limit / 4)), "twice the limit per channel");
        assertFalse(ChannelNorm.batchStatsInCache(4096, 1), "channels-last: the chunked column sums");
    }

    private static final class Result {
        long count;
        int[] shape;
        double[] mean, m2, invStd;
        float[] y, dx, dg, db;

        void fill(Tensor out, Moments m, double[] mu, double[] inv) {
            count = m.count;
            shape = out.shape();
            y = out.toArray();
            mean = m.mean.clone();
            m2 = m.m2.clone();
            invStd = inv.clone();
            for (int c = 0; c < mu.length; c++) assertEquals(m.mean[c], mu[c], "mean handed back is the moments' mean");
        }

        /** Every moment, output and gradient of {@code other} equals this one's bit for bit. */
        void assertSameBits(String label, Result other) {
            assertEquals(count, other.count, label + ": count");
            same(label + ": mean", mean, other.mean);
            same(label + ": m2", m2, other.m2);
            same(label + ": invStd", invStd, other.invStd);
            assertEquals(java.util.Arrays.toString(shape), java.util.Arrays.toString(other.shape), label + ": output shape");
            same(label + ": y", y, other.y);
            same(label + ": dx", dx, other.dx);
            same(label + ": dGamma", dg, other.dg);
            same(label + ": dBeta", db, other.db);
        }

        void grads(Tensor x, Tensor g, Tensor b) {
            dx = x.grad().toArray();
            dg = g.grad().toArray();
            db = b.grad().toArray();
        }
    }

    private static void same(String label, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(String.format("%s: first difference at [%d]: %.9g (whole tensor) vs %.9g (in cache)", label, i, expected[i], actual[i]));
            }
        }
    }

    private static void same(String label, double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                fail(String.format("%s: first difference at [%d]: %.17g vs %.17g", label, i, expected[i], actual[i]));
            }
        }
    }
}
