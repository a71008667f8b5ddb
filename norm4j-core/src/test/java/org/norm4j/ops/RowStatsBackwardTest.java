package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Loops;
import org.norm4j.kernels.Moments;
import org.norm4j.kernels.Normalization;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * Instance and group norm's backward ({@link ChannelNorm}, statistics per (a, group)) gives, bit
 * for bit, the documented sequence computed here from the kernels: dy (a fused activation's
 * derivative, {@link Activation#backwardAssign}), each run's {@link Loops#dotShifted} about
 * m_f = float(mean), Σ dy·xhat = invStd·(Σ dy·(x − m_f) + (m_f − mean)·Σ dy), G1 and G2 per
 * statistic in run order, coefX = −invStd²·G2/n and coefK = −invStd·G1/n + coefX·(m_f − mean) in
 * float, dx by {@link Loops#affineBackward}, dGamma and dBeta added run by run. Rows whose dy and
 * x fit in cache take them a row at a time, larger ones in two passes over the tensor: both are
 * held to the same sequence, so to each other; 1 and 2 threads, with and without a fused sigmoid.
 */
class RowStatsBackwardTest {
    private static final double EPS = 1e-5;

    @Test
    void bothOrdersGiveTheDocumentedSequence() {
        long limit = Normalization.channelCacheBytes();
        int bigB = (int) (limit / 16) + 16;   // one group of 8 channels: 2·8·B·4 bytes past the limit
        int[][] cases = {{4, 6, 25, 6}, {3, 8, 49, 4}, {2, 64, 28 * 28, 32}, {3, 6, 7, 1}, {2, 8, bigB, 1}};   // A, C, B, G
        assertTrue(!Normalization.channelFitsCache(2, 8L * bigB) && Normalization.channelFitsCache(2, 64L * 28 * 28 / 32), "one case each way");
        int before = Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                for (int[] k : cases) {
                    for (Activation act : new Activation[] {Activation.IDENTITY, Activation.SIGMOID}) check(k[0], k[1], k[2], k[3], act, threads);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static void check(int A, int C, int B, int G, Activation act, int threads) {
        String label = "A=" + A + " C=" + C + " B=" + B + " G=" + G + " " + act + " on " + threads + " threads";
        Random r = new Random(A * 131L + C * 17L + B * 3L + G);
        int cps = C / G, rows = A * G, len = cps * B, P = A * C;
        float[] x = new float[A * C * B], dOut = new float[x.length], g = new float[C], b = new float[C];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % (C * B) < B ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) r.nextGaussian();
            dOut[i] = (float) r.nextGaussian();
        }
        for (int c = 0; c < C; c++) {
            g[c] = 1 + 0.3f * (float) r.nextGaussian();
            b[c] = 0.2f * (float) r.nextGaussian();
        }
        float[] dx, dg, db, y;
        double[] mean, invStd = new double[rows];
        try (var ws = Workspace.open()) {
            Tensor xt = Tensor.wrap(x.clone(), A, C, B).requiresGrad(true), gt = Tensor.wrap(g.clone(), C).requiresGrad(true),
                    bt = Tensor.wrap(b.clone(), C).requiresGrad(true);
            Moments m = Statistics.perRow(xt, rows, len);
            mean = m.mean.clone();
            for (int s = 0; s < rows; s++) invStd[s] = 1 / Math.sqrt(m.varBiased(s) + EPS);
            Tensor yt = ChannelNorm.forward(xt, gt, bt, new ChannelNorm.Layout(A, C, B, G, cps), m.mean, invStd, true, act, false);
            y = yt.toArray();
            yt.backward(Tensor.wrap(dOut.clone(), yt.shape()));
            dx = xt.grad().toArray();
            dg = gt.grad().toArray();
            db = bt.grad().toArray();
        }
        Loops l = Loops.get();
        float[] dy = dOut.clone();
        if (act != Activation.IDENTITY) act.backwardAssign(dy, dOut, y, dy.length);
        double[] sumDy = new double[P], sumDyXhat = new double[P], acc = new double[2];
        float[] dxRef = new float[x.length];
        for (int a = 0; a < A; a++) {
            for (int grp = 0; grp < G; grp++) {
                int st = a * G + grp;
                float mf = (float) mean[st];
                double g1 = 0, g2 = 0, inv = invStd[st];
                for (int c = grp * cps; c < (grp + 1) * cps; c++) {
                    int p = a * C + c;
                    acc[0] = 0;
                    acc[1] = 0;
                    l.dotShifted(acc, dy, p * B, x, p * B, B, mf);
                    sumDy[p] = acc[0];
                    sumDyXhat[p] = inv * (acc[1] + (mf - mean[st]) * acc[0]);
                    g1 += g[c] * sumDy[p];
                    g2 += g[c] * sumDyXhat[p];
                }
                for (int c = grp * cps; c < (grp + 1) * cps; c++) {
                    int p = a * C + c;
                    double cx = -inv * inv * g2 / len;
                    l.affineBackward(dxRef, p * B, dy, p * B, x, p * B, B, (float) (g[c] * inv), (float) cx, mf,
                            (float) (-inv * g1 / len + cx * (mf - mean[st])), true);
                }
            }
        }
        float[] dgRef = new float[C], dbRef = new float[C];
        for (int p = 0; p < P; p++) {
            dbRef[p % C] += (float) sumDy[p];
            dgRef[p % C] += (float) sumDyXhat[p];
        }
        same(label + ": dx", dxRef, dx);
        same(label + ": dGamma", dgRef, dg);
        same(label + ": dBeta", dbRef, db);
    }

    private static void same(String label, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(String.format("%s: first difference at [%d]: %.9g (the sequence) vs %.9g", label, i, expected[i], actual[i]));
            }
        }
    }
}
