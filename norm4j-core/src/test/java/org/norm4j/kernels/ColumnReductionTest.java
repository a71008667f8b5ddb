package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The channels-last reductions (batch norm's statistics and backward sums over rows of C): tasks
 * of several chunks, each merging its chunks into its own partial, the partials in task order.
 * Against the moments and sums in double, the same bits on 1, 2 and 3 threads, and no arrays
 * allocated per call ({@link Normalization.ColumnWork}).
 */
class ColumnReductionTest {
    /** 129 chunks of 256 rows (the last one short), five to a task: 26 tasks, the last of four chunks. */
    private static final int ROWS = 33_000 - 100, C = 64;
    /** Where the tensor starts in its array. */
    private static final int OFF = 7;

    /** [ROWS, C] at OFF: per column a large mean, a drift, a constant or plain noise. */
    private static float[] columns(long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[OFF + ROWS * C];
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < C; c++) {
                double v = switch (c % 4) {
                    case 0 -> 1e4 + 1e-2 * rnd.nextGaussian();      // a large mean, a tiny spread
                    case 1 -> r * 1e-3 + 1e-3 * rnd.nextGaussian();  // rows that drift across chunks and tasks
                    case 2 -> c;                                      // a constant
                    default -> rnd.nextGaussian();
                };
                x[OFF + r * C + c] = (float) v;
            }
        }
        return x;
    }

    /** body's result on 1 thread, after asserting that 2 and 3 threads give the same bits. */
    private static double[] sameOnOneTwoAndThreeThreads(java.util.function.Supplier<double[]> body) {
        double[] one = ParallelTest.withThreads(1, body);
        assertArrayEquals(one, ParallelTest.withThreads(2, body), "1 vs 2 threads");
        assertArrayEquals(one, ParallelTest.withThreads(3, body), "1 vs 3 threads");
        return one;
    }

    @Test
    void theShapeTakesTasksOfSeveralChunks() {
        int per = Normalization.columnChunksPerTask(ROWS, C), chunks = (ROWS + Normalization.ROWS_PER_CHUNK - 1) / Normalization.ROWS_PER_CHUNK;
        assertEquals(129, chunks);
        assertEquals(5, per, "max(65536 / (256·64), ceil(129 / 32))");
        assertEquals(26, (chunks + per - 1) / per);
        // never more than MAX_CHUNKS tasks, however many rows
        for (int rows : new int[] {1, 256, 257, 200_704, 1 << 22}) {
            for (int c : new int[] {1, 3, 64, 768, 5000}) {
                int k = (rows + Normalization.ROWS_PER_CHUNK - 1) / Normalization.ROWS_PER_CHUNK, p = Normalization.columnChunksPerTask(rows, c);
                assertTrue((k + p - 1) / p <= Normalization.MAX_CHUNKS, rows + " rows of " + c + ": " + (k + p - 1) / p + " tasks");
            }
        }
    }

    @Test
    void statisticsAreExactAndTheSameBitsOnOneTwoAndThreeThreads() {
        float[] x = columns(31), atZero = java.util.Arrays.copyOfRange(x, OFF, x.length);
        double[] moments = sameOnOneTwoAndThreeThreads(() -> {
            double[] mean = new double[C], m2 = new double[C];
            Normalization.collectStatsChannels(mean, m2, x, OFF, ROWS, C, 1);
            return concat(mean, m2);
        });
        double[] mean = new double[C], m2 = new double[C];
        Normalization.collectStatsChannels(mean, m2, atZero, 0, ROWS, C, 1);
        assertArrayEquals(concat(mean, m2), moments, "the same tensor at offset 0");
        MomentsTest.assertColumnMomentsExact(atZero, ROWS, C);   // against the two-pass moments in double
    }

    private static double[] concat(double[] a, double[] b) {
        double[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void backwardSumsMatchDoubleAndAreTheSameBitsOnOneTwoAndThreeThreads() {
        // dy of magnitudes 1e-6 to 1e6, changing every 32 rows (a fold): the double sums of the
        // folds round, so adding them in another grouping (tasks cut by the thread count) changes bits
        float[] x = columns(32), dy = new float[OFF + ROWS * C], center = new float[C];
        Random rnd = new Random(33);
        for (int i = 0; i < ROWS * C; i++) dy[OFF + i] = (float) (rnd.nextGaussian() * Math.pow(10, (i / C / 32) % 13 - 6));
        for (int c = 0; c < C; c++) center[c] = x[OFF + c];
        double[] sums = sameOnOneTwoAndThreeThreads(() -> {
            double[] sumDy = new double[C], sumDyXc = new double[C];
            java.util.Arrays.fill(sumDy, 0.5);   // the sums are added to what is there
            Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, OFF, x, OFF, ROWS, C, 1, center, 0);
            return concat(sumDy, sumDyXc);
        });
        for (int c = 0; c < C; c++) {
            double s = 0, sx = 0, scale = 0, scaleX = 0;
            for (int r = 0; r < ROWS; r++) {
                double g = dy[OFF + r * C + c], d = (float) (x[OFF + r * C + c] - center[c]);
                s += g;
                sx += g * d;
                scale += Math.abs(g);
                scaleX += Math.abs(g * d);
            }
            // float sums over at most 32 rows, then double: good to ~1e-7 of the sum of magnitudes
            assertEquals(0.5 + s, sums[c], 1e-6 * scale, "Σ dy " + c);
            assertEquals(sx, sums[C + c], 1e-6 * scaleX, "Σ dy·(x − center) " + c);
        }
    }

    /**
     * After the first call a thread keeps its arrays: later calls of the same shape allocate none
     * (with a partial per chunk of 256 rows, this shape's statistics allocated 129·64 doubles
     * twice, and every task its sums). Run on the scalar twin: the vector twin boxes its vectors
     * until the JIT compiles it, and a test cannot wait for that.
     */
    @Test
    void laterCallsAllocateNoArrays() {
        assumeTrue(Loops.get() == Loops.scalar(), "the scalar twin (the core tests' scalar execution)");
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(), "per-thread allocation counts");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] x = columns(34), dy = columns(35), center = new float[C];
        double[] mean = new double[C], m2 = new double[C], sumDy = new double[C], sumDyXc = new double[C];
        long perCall = ParallelTest.withThreads(1, () -> {
            Runnable both = () -> {
                Normalization.collectStatsChannels(mean, m2, x, OFF, ROWS, C, 1);
                Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, OFF, x, OFF, ROWS, C, 1, center, 0);
            };
            both.run();
            long id = Thread.currentThread().getId(), before = mx.getThreadAllocatedBytes(id);
            for (int i = 0; i < 4; i++) both.run();
            return (mx.getThreadAllocatedBytes(id) - before) / 4;
        });
        assertTrue(perCall < 4096, "statistics + backward sums of [" + ROWS + ", " + C + "] allocated " + perCall + " bytes a call");
    }

    /**
     * The kept arrays carry nothing from one call to the next: a narrow odd shape gives the same
     * bits before and after the thread has reduced a wider one (its arrays then longer than C, with
     * the wider call's values in them), on whichever twin runs.
     */
    @Test
    void aNarrowShapeAfterAWideOneGivesTheSameBits() {
        Random rnd = new Random(36);
        int rows = 3000, narrow = 3, wide = 777;
        float[] x = new float[rows * wide], dy = new float[rows * wide], center = {0.5f, -1f, 2f};
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (5 + rnd.nextGaussian());
            dy[i] = (float) rnd.nextGaussian();
        }
        java.util.function.Supplier<double[]> narrowCall = () -> {
            double[] mean = new double[narrow], m2 = new double[narrow], sumDy = new double[narrow], sumDyXc = new double[narrow];
            Normalization.collectStatsChannels(mean, m2, x, 0, rows, narrow, 1);
            Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, 0, x, 0, rows, narrow, 1, center, 0);
            return concat(concat(mean, m2), concat(sumDy, sumDyXc));
        };
        double[] before = ParallelTest.withThreads(1, narrowCall);
        ParallelTest.withThreads(1, () -> {
            double[] mean = new double[wide], m2 = new double[wide], sumDy = new double[wide], sumDyXc = new double[wide];
            float[] centers = new float[wide];
            java.util.Arrays.fill(centers, 5f);
            Normalization.collectStatsChannels(mean, m2, x, 0, rows, wide, 1);
            Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, 0, x, 0, rows, wide, 1, centers, 0);
            return mean;
        });
        assertArrayEquals(before, ParallelTest.withThreads(1, narrowCall));
    }

    @Test
    void partialsAreKeptUpToTheirBoundAndTaskScratchStartsZero() {
        Normalization.ColumnWork small = Normalization.ColumnWork.forCall(100);
        double[] kept = small.part1;
        assertTrue(kept.length >= 100);
        assertSame(kept, Normalization.ColumnWork.forCall(50).part1, "a smaller call reuses the thread's partials");
        Normalization.ColumnWork big = Normalization.ColumnWork.forCall(Normalization.ColumnWork.KEEP + 1);
        assertTrue(big.part1.length > Normalization.ColumnWork.KEEP && big.part2.length > Normalization.ColumnWork.KEEP);
        assertSame(kept, Normalization.ColumnWork.forCall(100).part1, "partials past KEEP are the call's, not kept");
        assertNotSame(big.part1, Normalization.ColumnWork.forCall(Normalization.ColumnWork.KEEP).part1);

        Normalization.ColumnWork w = Normalization.ColumnWork.forTask(C);
        w.f1[3] = 7;   // as a call that failed midway would leave them
        w.f2[C - 1] = -1;
        Normalization.ColumnWork again = Normalization.ColumnWork.forTask(C);
        assertSame(w.f1, again.f1);
        for (int c = 0; c < C; c++) {
            assertEquals(0f, again.f1[c]);
            assertEquals(0f, again.f2[c]);
        }
    }
}
