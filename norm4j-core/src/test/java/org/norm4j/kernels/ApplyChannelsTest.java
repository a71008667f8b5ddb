package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Normalization#applyChannels} on channels-last rows (B = 1) with one set of parameters,
 * which goes through {@link Loops#affineRows} a block of rows at a time with the activation after
 * each block: every element bit for bit what {@link Loops#affineColumns} and
 * {@link Activation#forwardRun} give row by row, and the affine within float rounding of double
 * precision; row counts below, at and past a block and across tasks, in place and not, on 1 and 2
 * threads.
 */
class ApplyChannelsTest {
    @Test
    void blocksOfRowsGiveEachRowsAffineThenActivation() {
        int before = Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                for (int c : new int[] {64, 48, 120}) {
                    int block = Normalization.APPLY_BLOCK / c;
                    for (int rows : new int[] {1, block - 1, block, block + 1, 5 * block + 3, 3000}) {
                        for (Activation act : Activation.values()) {
                            check(rows, c, act, false, threads);
                            check(rows, c, act, true, threads);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static void check(int rows, int c, Activation act, boolean inPlace, int threads) {
        String label = "[" + rows + ", " + c + "] " + act + (inPlace ? " in place" : "") + " on " + threads + " threads";
        Random r = new Random(rows * 131L + c);
        int off = 3;   // the tensors' offsets in their arrays
        float[] x = new float[off + rows * c];
        for (int i = off; i < x.length; i++) x[i] = (float) (2 * r.nextGaussian() + 1);
        float[] center = new float[c], scale = new float[c], shift = new float[c];
        for (int i = 0; i < c; i++) {
            center[i] = (float) r.nextGaussian();
            scale[i] = (float) (1 + 0.5 * r.nextGaussian());
            shift[i] = (float) r.nextGaussian();
        }
        float[] expected = new float[x.length];
        for (int row = 0; row < rows; row++) {
            Loops.get().affineColumns(expected, off + row * c, x, off + row * c, c, center, scale, shift, 0);
            if (act == Activation.IDENTITY) {
                for (int i = 0; i < c; i++) {
                    int k = off + row * c + i;
                    double exact = ((double) x[k] - center[i]) * scale[i] + shift[i];
                    assertEquals(exact, expected[k], 1e-6 * (Math.abs(x[k] - center[i]) * Math.abs(scale[i]) + Math.abs(shift[i]) + 1),
                            label + ": the affine at row " + row + ", channel " + i);
                }
            }
            act.forwardRun(expected, off + row * c, c);
        }
        float[] y = inPlace ? x.clone() : new float[x.length];
        Normalization.applyChannels(y, off, inPlace ? y : x, off, rows, c, 1, center, scale, shift, 0, act);
        for (int i = 0; i < y.length; i++) {
            if (Float.floatToRawIntBits(y[i]) != Float.floatToRawIntBits(expected[i])) {
                fail(label + ": y[" + i + "] = " + y[i] + ", row by row " + expected[i]);
            }
        }
    }
}
