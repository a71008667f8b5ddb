package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
            int t = threads;
            withThreads(t, () -> {
                for (int[] s : shapes) {
                    for (Activation act : Activation.values()) {
                        for (boolean pool : new boolean[] {false, true}) check(s, act, pool, t);
                    }
                }
            });
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
            int t = threads;
            withThreads(t, () -> {
                for (int[] k : cases) checkRows(k[0], k[1], k[2], k[3], t);
            });
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

    /**
     * Batch norm's backward sums add each channel's runs (one dotShifted each) in image order into
     * their chunk's partial ({@link org.norm4j.kernels.Normalization#chunkImages}) and the partials
     * in chunk order, on both backward paths: channel by channel (a channel of dy and x that fits
     * the cache) and the two passes over the tensor (one that does not). dBeta = Σ dy and dGamma =
     * invStd·(Σ dy·(x − m_f) + (m_f − mean)·Σ dy) are checked bit for bit against that order
     * computed here, so the two paths agree with each other; several chunks, the last one short.
     */
    @Test
    void backwardSumsAddChunkPartialsInOrderOnBothPaths() {
        long limit = org.norm4j.kernels.Normalization.channelCacheBytes();
        int B = 24 * 24, C = 3;
        int[] batches = {40, (int) (limit / (4L * B)) + 3};   // 2·A·B·4 within the limit: per channel; past it: whole tensor
        withPerChannelBytes(limit, () -> {   // the channel-by-channel path on (off by default)
            assertTrue(!ChannelNorm.batchStatsPerChannel(2 * batches[1], B) && ChannelNorm.batchStatsPerChannel(2 * batches[0], B), "one shape each way");
            for (int threads = 1; threads <= 2; threads++) {
                int t = threads;
                withThreads(t, () -> {
                    for (int A : batches) checkBackwardSums(A, C, B, t);
                });
            }
        });
    }

    /** Runs {@code body} on {@code threads} kernel threads ({@link Parallel#setThreads}), then puts the count back. */
    private static void withThreads(int threads, Runnable body) {
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            body.run();
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Runs {@code body} with {@link org.norm4j.kernels.Normalization#batchPerChannelBytes()} at {@code bytes}, then puts it back. */
    private static void withPerChannelBytes(long bytes, Runnable body) {
        long before = org.norm4j.kernels.Normalization.batchPerChannelBytes();
        org.norm4j.kernels.Normalization.setBatchPerChannelBytes(bytes);
        try {
            body.run();
        } finally {
            org.norm4j.kernels.Normalization.setBatchPerChannelBytes(before);
        }
    }

    private static void checkBackwardSums(int A, int C, int B, int threads) {
        int per = org.norm4j.kernels.Normalization.chunkImages(A, C, B);
        assertTrue((A + per - 1) / per >= 2 && A % per != 0, "several chunks, the last one short: A=" + A + " per=" + per);
        Random r = new Random(A);
        float[] x = new float[A * C * B], dOut = new float[x.length], g = new float[C];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i / B) % C == 0 ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) r.nextGaussian();
            dOut[i] = (float) r.nextGaussian();
        }
        for (int c = 0; c < C; c++) g[c] = 1 + 0.3f * (float) r.nextGaussian();
        // channel 1's dy: 2^60 in the first chunk's first run, −2^60 then 1 in the second chunk's
        // first two runs, zero elsewhere. Run by run the 1 survives (Σ = 1); chunk by chunk it is
        // lost in −2^60 + 1 (Σ = 0): an order other than the chunks' changes dBeta
        for (int a = 0; a < A; a++) java.util.Arrays.fill(dOut, (a * C + 1) * B, (a * C + 2) * B, 0f);
        dOut[B] = 0x1p60f;
        dOut[(per * C + 1) * B] = -0x1p60f;
        dOut[((per + 1) * C + 1) * B] = 1f;
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), A, C, B).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true),
                    bt = Tensor.wrap(new float[C], C).requiresGrad(true);
            double[] mean = new double[C], invStd = new double[C];
            Tensor y = ChannelNorm.forwardBatchStats(xt, gt, bt, A, C, B, EPS, Activation.IDENTITY, false, new Moments(C), mean, invStd);
            y.backward(Tensor.wrap(dOut.clone(), y.shape()));
            float[] dg = gt.grad().toArray(), db = bt.grad().toArray();
            org.norm4j.kernels.Loops l = org.norm4j.kernels.Loops.get();
            for (int c = 0; c < C; c++) {
                float mf = (float) mean[c];
                double s1 = 0, s2 = 0;
                double[] acc = new double[2];
                for (int a0 = 0; a0 < A; a0 += per) {
                    double p1 = 0, p2 = 0;
                    for (int a = a0; a < Math.min(A, a0 + per); a++) {
                        acc[0] = 0;
                        acc[1] = 0;
                        l.dotShifted(acc, dOut, (a * C + c) * B, x, (a * C + c) * B, B, mf);
                        p1 += acc[0];
                        p2 += acc[1];
                    }
                    s1 += p1;
                    s2 += p2;
                }
                String label = "A=" + A + " channel " + c + " on " + threads + " threads";
                if (c == 1) assertEquals(0.0, s1, label + ": the chunks' order loses the 1");
                assertEquals(Float.floatToIntBits((float) s1), Float.floatToIntBits(db[c]), label + ": dBeta " + s1 + " vs " + db[c]);
                float dGamma = (float) (invStd[c] * (s2 + (mf - mean[c]) * s1));
                assertEquals(Float.floatToIntBits(dGamma), Float.floatToIntBits(dg[c]), label + ": dGamma " + dGamma + " vs " + dg[c]);
            }
        }
    }

    /**
     * A plain batch norm's backward channel by channel ({@link org.norm4j.kernels.Normalization#setBatchPerChannelBytes}
     * at half the L2) and in two streaming passes (0, the default): dx, dGamma and dBeta bit for bit,
     * on 1 and 2 threads; forward through the module, so each setting also picks its forward.
     */
    @Test
    void backwardIsTheSameBitsChannelByChannelAndStreaming() {
        int[] shape = {12, 5, 9, 7};
        Random r = new Random(17);
        float[] x = new float[12 * 5 * 63], dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i / 63) % 5 == 2 ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) r.nextGaussian();
            dy[i] = (float) r.nextGaussian();
        }
        for (int threads = 1; threads <= 2; threads++) {
            int t = threads;
            withThreads(t, () -> {
                float[][] got = new float[2][];
                for (int mode = 0; mode < 2; mode++) {
                    int m = mode;
                    withPerChannelBytes(mode == 0 ? org.norm4j.kernels.Normalization.channelCacheBytes() : 0, () -> {
                        assertEquals(m == 0, ChannelNorm.batchStatsPerChannel(2 * shape[0], shape[2] * shape[3]), "the path of mode " + m);
                        org.norm4j.nn.norm.BatchNorm bn = org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, shape[1]).build();
                        bn.train();
                        Tensor xt = Tensor.wrap(x.clone(), shape).requiresGrad(true);
                        Tensor y = bn.forward(xt);
                        y.backward(Tensor.wrap(dy.clone(), shape));
                        float[] all = java.util.Arrays.copyOf(y.toArray(), 2 * x.length + 2 * shape[1]);
                        System.arraycopy(xt.grad().toArray(), 0, all, x.length, x.length);
                        System.arraycopy(bn.parameters().get(0).grad().toArray(), 0, all, 2 * x.length, shape[1]);
                        System.arraycopy(bn.parameters().get(1).grad().toArray(), 0, all, 2 * x.length + shape[1], shape[1]);
                        got[m] = all;
                    });
                }
                for (int i = 0; i < got[0].length; i++) {
                    if (Float.floatToIntBits(got[0][i]) != Float.floatToIntBits(got[1][i])) {
                        fail("element " + i + " on " + t + " threads: channel by channel " + got[0][i] + ", streaming " + got[1][i]);
                    }
                }
            });
        }
    }

    @Test
    void servesChannelsFirstChannelsThatFitTheCache() {
        long limit = org.norm4j.kernels.Normalization.channelCacheBytes();   // half the L2 (sysfs), or 1 MiB
        assertTrue(limit >= 64 << 10 && limit <= 64L << 20, "a plausible half L2: " + limit);
        assertTrue(ChannelNorm.rowStatsInCache(limit / 4), "a row of exactly the limit");
        assertFalse(ChannelNorm.rowStatsInCache(limit / 4 + 1), "one float more: the whole-tensor order");
        long perChannel = org.norm4j.kernels.Normalization.batchPerChannelBytes();
        if (System.getProperty("norm4j.bn.perChannelBytes") == null) {
            assertEquals(0, perChannel, "batch norm's channel-by-channel passes are off by default");
            assertFalse(ChannelNorm.batchStatsPerChannel(256, 8 * 8), "LeNet's second batch norm: the two passes in memory order");
        }
        assertThrows(IllegalArgumentException.class, () -> org.norm4j.kernels.Normalization.setBatchPerChannelBytes(-1));
        withPerChannelBytes(limit, () -> {
            assertTrue(ChannelNorm.batchStatsPerChannel(256, 8 * 8), "LeNet's second batch norm: 64 KB per channel");
            assertEquals(256L * 24 * 24 * 4 <= limit, ChannelNorm.batchStatsPerChannel(256, 24 * 24), "LeNet's first: 576 KB per channel");
            assertFalse(ChannelNorm.batchStatsPerChannel(2, (int) (limit / 4)), "twice the limit per channel");
            assertFalse(ChannelNorm.batchStatsPerChannel(4096, 1), "channels-last: the chunked column sums");
        });
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
