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
        gradientsAgainstDouble(ROWS, LEN, 5);
    }

    /**
     * 8 row groups of 35 rows of 4096: each group takes 17 pairs of rows (its partials folded into
     * double after the sixteenth, at row 32) and one row alone, then folds again.
     */
    @Test
    void rowsInPairsWithAFoldInsideAGroupAndAnOddRowLeft() {
        gradientsAgainstDouble(8 * 35, 4096, 7);
    }

    private static void gradientsAgainstDouble(int rows, int len, long seed) {
        Random r = new Random(seed);
        float[] x = new float[rows * len], dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i / len == 3 ? 1e4f : 0.5f) + (float) r.nextGaussian() * (i / len == 3 ? 1e-2f : 1f);
            dy[i] = (float) r.nextGaussian();
        }
        for (boolean centered : new boolean[] {true, false}) {
            float[][] ref = reference(x, dy, centered, rows, len);
            for (int threads = 1; threads <= 2; threads++) {
                float[][] leaf = run(x, dy, centered, false, threads, rows, len), inner = run(x, dy, centered, true, threads, rows, len);
                String what = (centered ? "LayerNorm" : "RMSNorm") + " on " + threads + " threads";
                for (int k = 0; k < 3; k++) {
                    String name = what + " " + new String[] {"dx", "dGamma", "dBeta"}[k];
                    assertArrayEquals(leaf[k], inner[k], name + ": assigning into a fresh buffer = adding into zeros");
                    for (int i = 0; i < ref[k].length; i++) {
                        double tol = 2e-4 * (1 + Math.abs(ref[k][i])) + (k == 0 ? 0 : 1e-5 * rows);
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
    private static float[][] run(float[] x, float[] dy, boolean centered, boolean throughReshape, int threads, int rows, int len) {
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (Workspace.Scope s = Workspace.open()) {
            Module m = centered ? new LayerNorm(new int[] {len}) : new RMSNorm(new int[] {len});
            Tensor leaf = Tensor.of(x.clone(), rows, len).requiresGrad(true);
            Tensor in = throughReshape ? Pointwise.reshape(leaf, rows, len) : leaf;
            assertEquals(!throughReshape, in.isLeaf());
            m.forward(in).backward(Tensor.of(dy.clone(), rows, len));
            var params = m.parameters();
            return new float[][] {leaf.grad().toArray(), params.get(0).grad().toArray(),
                    centered ? params.get(1).grad().toArray() : new float[len]};
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The textbook backward in double: dx = invStd·(dy − mean(dy) − xhat·mean(dy·xhat)) (RMS: no mean(dy) term). */
    private static float[][] reference(float[] x, float[] dy, boolean centered, int rows, int len) {
        float[] dx = new float[x.length];
        double[] dG = new double[len], dB = new double[len];
        for (int r = 0; r < rows; r++) {
            int off = r * len;
            double mean = 0, ms = 0;
            if (centered) {
                for (int i = 0; i < len; i++) mean += x[off + i];
                mean /= len;
            }
            for (int i = 0; i < len; i++) ms += (x[off + i] - mean) * (x[off + i] - mean);
            double inv = 1 / Math.sqrt(ms / len + (centered ? 1e-5 : 1.1920928955078125e-07));
            double g1 = 0, g2 = 0;
            for (int i = 0; i < len; i++) {
                double xhat = (x[off + i] - mean) * inv;
                g1 += dy[off + i];
                g2 += dy[off + i] * xhat;
                dG[i] += dy[off + i] * xhat;
                dB[i] += dy[off + i];
            }
            for (int i = 0; i < len; i++) {
                double xhat = (x[off + i] - mean) * inv;
                dx[off + i] = (float) (inv * (dy[off + i] - (centered ? g1 / len : 0) - xhat * g2 / len));
            }
        }
        float[] g = new float[len], b = new float[len];
        for (int i = 0; i < len; i++) {
            g[i] = (float) dG[i];
            b[i] = centered ? (float) dB[i] : 0f;
        }
        return new float[][] {dx, g, b};
    }
}
