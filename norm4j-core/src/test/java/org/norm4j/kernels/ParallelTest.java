package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.norm4j.testing.LeNetSteps;

/**
 * The worker pool: every task once, failures surface, nesting runs inline; and the promise the
 * kernels build on it: a LeNet-BN training step (chunked convolution, batch norm per channel group,
 * sigmoid and pooling in element and plane ranges) gives the same bits on 1, 2 and 3 threads.
 */
class ParallelTest {

    private static <T> T withThreads(int n, java.util.function.Supplier<T> body) {
        int before = Parallel.threads();
        Parallel.setThreads(n);
        try {
            return body.get();
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void everyTaskRunsOnce() {
        for (int threads = 1; threads <= 3; threads++) {
            AtomicIntegerArray hits = new AtomicIntegerArray(1000);
            withThreads(threads, () -> {
                Parallel.forEach(1000, hits::incrementAndGet);
                return null;
            });
            for (int i = 0; i < 1000; i++) assertEquals(1, hits.get(i), "task " + i + " on " + threads + " threads");
        }
        List<int[]> ranges = new ArrayList<>();
        Parallel.forRange(10, 4, (lo, hi) -> {
            synchronized (ranges) {
                ranges.add(new int[] {lo, hi});
            }
        });
        ranges.sort((a, b) -> a[0] - b[0]);
        assertEquals(3, ranges.size());
        assertArrayEquals(new int[] {8, 10}, ranges.get(2));
    }

    @Test
    void aFailingTaskFailsTheCallAndNestingRunsInline() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> withThreads(2, () -> {
            Parallel.forEach(8, i -> {
                if (i == 5) throw new IllegalStateException("task 5 failed");
            });
            return null;
        }));
        assertEquals("task 5 failed", e.getMessage());
        int[] inner = new int[1];
        withThreads(2, () -> {
            Parallel.forEach(2, i -> Parallel.forEach(3, j -> {
                synchronized (inner) {
                    inner[0]++;
                }
            }));
            return null;
        });
        assertEquals(6, inner[0]);
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
    }

    @Test
    void leNetStepIsTheSameBitsOnOneTwoAndThreeThreads() {
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            results[threads - 1] = withThreads(threads, () -> LeNetSteps.run(7, 2, false));
        }
        assertTrue(results[0].length > 1000);
        assertArrayEquals(results[0], results[1], "1 vs 2 threads");
        assertArrayEquals(results[0], results[2], "1 vs 3 threads");
    }
}
