package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Normalization;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Tensor;

/**
 * Batch norm on channels too large for the cache: the statistics read x in memory order, each
 * image's run merged into its channel's moments (Chan's formula), and the backward of a plain
 * batch norm takes two streaming passes over the tensor instead of going channel by channel.
 * Output and every gradient against a double-precision batch norm, a channel of mean 1e4 and
 * spread 1e-2 included, on 1 and 2 threads.
 */
class LargeChannelTest {

    @Test
    void trainingForwardAndBackwardAgainstDouble() {
        int A = 8, C = 3, H = 160, W = 160, B = H * W;
        assertFalse(Normalization.batchChannelPerChannel(2L * A, B) || Normalization.channelFitsCache(2L * A, B),
                "a channel's dy and x past both limits: the streaming backward");
        Random r = new Random(11);
        float[] x = new float[A * C * B], dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            x[i] = c == 1 ? 1e4f + 1e-2f * (float) r.nextGaussian() : (float) (r.nextGaussian() * (1 + c) + (i / (C * B)) * 0.5);
            dy[i] = (float) r.nextGaussian();
        }
        for (int threads = 1; threads <= 2; threads++) {
            int before = Parallel.threads();
            Parallel.setThreads(threads);
            try {
                check(x, dy, A, C, B, threads);
            } finally {
                Parallel.setThreads(before);
            }
        }
    }

    private static void check(float[] xv, float[] dyv, int A, int C, int B, int threads) {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, C);
        bn.train();
        Tensor x = Tensor.of(xv.clone(), A, C, B / 160, 160).requiresGrad(true);
        Tensor y = bn.forward(x);
        y.backward(Tensor.of(dyv.clone(), A, C, B / 160, 160));
        float[] yd = y.data(), dx = x.grad().data(), dg = bn.weight().grad().data(), db = bn.bias().grad().data();
        double n = (double) A * B;
        for (int c = 0; c < C; c++) {
            double mean = 0, var = 0;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) mean += xv[(a * C + c) * B + b];
            mean /= n;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) {
                double d = xv[(a * C + c) * B + b] - mean;
                var += d * d;
            }
            var /= n;
            double inv = 1 / Math.sqrt(var + 1e-5), sumDy = 0, sumDyXhat = 0;
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) {
                int i = (a * C + c) * B + b;
                sumDy += dyv[i];
                sumDyXhat += dyv[i] * (xv[i] - mean) * inv;
            }
            String at = "channel " + c + " on " + threads + " threads";
            assertTrue(Math.abs(db[c] - sumDy) <= 1e-4 * (1 + Math.abs(sumDy)), at + ": dBeta " + db[c] + " vs " + sumDy);
            assertTrue(Math.abs(dg[c] - sumDyXhat) <= 1e-4 * (1 + Math.abs(sumDyXhat)), at + ": dGamma " + dg[c] + " vs " + sumDyXhat);
            for (int a = 0; a < A; a++) for (int b = 0; b < B; b++) {
                int i = (a * C + c) * B + b;
                double xhat = (xv[i] - mean) * inv;
                double wantDx = inv / n * (n * dyv[i] - sumDy - xhat * sumDyXhat);
                assertTrue(Math.abs(yd[i] - xhat) <= 2e-5 * (1 + Math.abs(xhat)), at + ": y[" + i + "] " + yd[i] + " vs " + xhat);
                assertTrue(Math.abs(dx[i] - wantDx) <= 1e-4 * (1 + Math.abs(wantDx)) * Math.max(1, inv * 1e-2),
                        at + ": dx[" + i + "] " + dx[i] + " vs " + wantDx);
            }
        }
    }
}
