package org.norm4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.Module;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * Layer and RMS norm backward on long rows (several row groups, each with its own partial of dGamma
 * and dBeta): the gradients against a double-precision implementation; the assigning path (input
 * computed by another op, so its gradient buffer is fresh) the same bits as the adding one (a leaf's
 * gradient); and the partials taken from the workspace, so steps in scopes reuse them instead of
 * allocating megabytes each.
 */
class RowNormBackwardTest {
    private static final int ROWS = 6, LEN = 2 * 128 * 128;   // 6·32768 floats: 3 row groups of 2 rows, pooled partials

    @Test
    void gradientsAgainstDoubleOnOneAndTwoThreads() {
        Random r = new Random(5);
        float[] x = new float[ROWS * LEN], dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i / LEN == 3 ? 1e4f : 0.5f) + (float) r.nextGaussian() * (i / LEN == 3 ? 1e-2f : 1f);
            dy[i] = (float) r.nextGaussian();
        }
        for (boolean centered : new boolean[] {true, false}) {
            float[][] ref = reference(x, dy, centered);
            for (int threads = 1; threads <= 2; threads++) {
                float[][] leaf = run(x, dy, centered, false, threads), inner = run(x, dy, centered, true, threads);
                String what = (centered ? "LayerNorm" : "RMSNorm") + " on " + threads + " threads";
                for (int k = 0; k < 3; k++) {
                    String name = what + " " + new String[] {"dx", "dGamma", "dBeta"}[k];
                    assertArrayEquals(leaf[k], inner[k], name + ": assigning into a fresh buffer = adding into zeros");
                    for (int i = 0; i < ref[k].length; i++) {
                        double tol = 2e-4 * (1 + Math.abs(ref[k][i])) + (k == 0 ? 0 : 1e-5 * ROWS);
                        if (Math.abs(leaf[k][i] - ref[k][i]) > tol) {
                            throw new AssertionError(name + "[" + i + "] = " + leaf[k][i] + ", double gives " + ref[k][i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theRowGroupsPartialsComeFromTheWorkspace() {
        Workspace.clear();
        Random r = new Random(6);
        float[] x = new float[ROWS * LEN], dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
            dy[i] = (float) r.nextGaussian();
        }
        LayerNorm ln = new LayerNorm(new int[] {LEN});
        Tensor xt = Tensor.of(x, ROWS, LEN).requiresGrad(true), dyt = Tensor.of(dy, ROWS, LEN);
        long[] held = new long[3];
        for (int step = 0; step < held.length; step++) {
            try (Workspace.Scope s = Workspace.open()) {
                ln.forward(Pointwise.reshape(xt, ROWS, LEN)).backward(dyt);
            }
            held[step] = Workspace.heldBytes();
        }
        Workspace.clear();
        // dGamma and dBeta in double, the two later groups' double partials of each, the three
        // groups' float partials of each; besides them y and the reshaped input's gradient
        long partials = 6L * LEN * 8 + 6L * LEN * 4;
        assertEquals(partials + 2L * ROWS * LEN * 4, held[0], "bytes the workspace holds after a step (the partials: " + partials + ")");
        assertEquals(held[0], held[1], "the second step reuses the first step's arrays");
        assertEquals(held[0], held[2], "and so does the third");
    }

    /** {dx, dGamma, dBeta} of the module's default affine (gamma 1, beta 0), x a leaf or reshaped from one. */
    private static float[][] run(float[] x, float[] dy, boolean centered, boolean throughReshape, int threads) {
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Workspace.Scope s = Workspace.open()) {
            Module m = centered ? new LayerNorm(new int[] {LEN}) : new RMSNorm(new int[] {LEN});
            Tensor leaf = Tensor.of(x.clone(), ROWS, LEN).requiresGrad(true);
            Tensor in = throughReshape ? Pointwise.reshape(leaf, ROWS, LEN) : leaf;
            assertEquals(!throughReshape, in.isLeaf());
            m.forward(in).backward(Tensor.of(dy.clone(), ROWS, LEN));
            var params = m.parameters();
            return new float[][] {leaf.grad().toArray(), params.get(0).grad().toArray(),
                    centered ? params.get(1).grad().toArray() : new float[LEN]};
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The textbook backward in double: dx = invStd·(dy − mean(dy) − xhat·mean(dy·xhat)) (RMS: no mean(dy) term). */
    private static float[][] reference(float[] x, float[] dy, boolean centered) {
        float[] dx = new float[x.length];
        double[] dG = new double[LEN], dB = new double[LEN];
        for (int r = 0; r < ROWS; r++) {
            int off = r * LEN;
            double mean = 0, ms = 0;
            if (centered) {
                for (int i = 0; i < LEN; i++) mean += x[off + i];
                mean /= LEN;
            }
            for (int i = 0; i < LEN; i++) ms += (x[off + i] - mean) * (x[off + i] - mean);
            double inv = 1 / Math.sqrt(ms / LEN + (centered ? 1e-5 : 1.1920928955078125e-07));
            double g1 = 0, g2 = 0;
            for (int i = 0; i < LEN; i++) {
                double xhat = (x[off + i] - mean) * inv;
                g1 += dy[off + i];
                g2 += dy[off + i] * xhat;
                dG[i] += dy[off + i] * xhat;
                dB[i] += dy[off + i];
            }
            for (int i = 0; i < LEN; i++) {
                double xhat = (x[off + i] - mean) * inv;
                dx[off + i] = (float) (inv * (dy[off + i] - (centered ? g1 / LEN : 0) - xhat * g2 / LEN));
            }
        }
        float[] g = new float[LEN], b = new float[LEN];
        for (int i = 0; i < LEN; i++) {
            g[i] = (float) dG[i];
            b[i] = centered ? (float) dB[i] : 0f;
        }
        return new float[][] {dx, g, b};
    }
}
