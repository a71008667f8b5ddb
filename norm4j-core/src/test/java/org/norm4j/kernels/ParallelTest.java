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
 * sigmoid and pooling in element and plane ranges) gives the same bits on 1, 2 and 3 threads, and
 * so do the normalizations whose work is cut differently: channels-last batch norm (chunks of rows
 * merged in order) and layer / RMS norm backward (groups of rows with their own dGamma partials).
 */
class ParallelTest {

    /** body's result on n threads; the thread count restored after (also for ColumnReductionTest). */
    static <T> T withThreads(int n, java.util.function.Supplier<T> body) {
        int before = Parallel.threads();
        Parallel.setThreads(n);
        try {
            return body.get();
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void fewTasksRunOnTheCallingThread() {
        Thread caller = Thread.currentThread();
        java.util.Set<Thread> few = java.util.concurrent.ConcurrentHashMap.newKeySet(), many = java.util.concurrent.ConcurrentHashMap.newKeySet();
        withThreads(2, () -> {
            Parallel.forEach(Math.max(1, Parallel.MIN_PARALLEL_TASKS), i -> few.add(Thread.currentThread()));
            for (int rep = 0; rep < 50 && many.size() < 2; rep++) {
                Parallel.forEach(64, i -> {
                    many.add(Thread.currentThread());
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);   // long enough for the helper to take one
                });
            }
            return null;
        });
        assertEquals(java.util.Set.of(caller), few, "a call of few tasks stays on the caller");
        assertEquals(2, many.size(), "a call of many tasks uses both threads");
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

    /**
     * Each thread starts with its own contiguous share of the tasks (the caller [0, n/2), the
     * worker [n/2, n) on 2 threads), so calls that cut a batch alike give each thread the same
     * images. Deterministic: task 1 waits until task n/2 has started, and the rest of the second
     * share until task 0 has, so neither thread can finish its share and reach into the other's
     * before both heads are taken; the worker's first task must then be the head of its share (from
     * one shared counter it would take task 1 or 2).
     */
    @Test
    void eachThreadStartsWithItsOwnShare() {
        int n = 8;
        Thread caller = Thread.currentThread();
        java.util.concurrent.ConcurrentHashMap<Thread, Integer> first = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.CountDownLatch headOfFirstShare = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch headOfSecondShare = new java.util.concurrent.CountDownLatch(1);
        withThreads(2, () -> {
            Parallel.forEach(n, i -> {
                first.putIfAbsent(Thread.currentThread(), i);
                if (i == 0) headOfFirstShare.countDown();
                if (i == n / 2) headOfSecondShare.countDown();
                if (i == 1) await(headOfSecondShare, "task n/2");
                if (i > n / 2) await(headOfFirstShare, "task 0");
            });
            return null;
        });
        assertEquals(0, first.get(caller), "the caller's first task");
        assertEquals(2, first.size(), "threads that ran tasks: " + first);
        first.forEach((t, i) -> {
            if (t != caller) assertEquals(n / 2, i, "the worker's first task");
        });
    }

    private static void await(java.util.concurrent.CountDownLatch started, String what) {
        try {
            assertTrue(started.await(30, java.util.concurrent.TimeUnit.SECONDS), what + " never started");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The workers serve one call at a time: calls from several threads at once (a data loader
     * beside training, tests in parallel) each get every task run once, and none waits forever;
     * calls back to back, microseconds apart, find the spinning workers, and calls after the
     * workers have parked wake them.
     */
    @Test
    void callsFromSeveralThreadsAndAfterParking() {
        withThreads(2, () -> {
            try {
                severalCallersThenParkedWorkers();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return null;
        });
        AssertionError e = assertThrows(AssertionError.class, () -> withThreads(2, () -> {
            Parallel.forEach(8, i -> {
                if (i == 6) throw new AssertionError("task 6: an Error");
            });
            return null;
        }));
        assertEquals("task 6: an Error", e.getMessage());
    }

    /**
     * The workers are sized by the thread count, not by a call's task count: on 3 threads, calls of
     * 2 and of 3 tasks in turn keep using the same 2 worker threads (restarting them for every
     * change of count would cost thread starts and their per-thread scratch arrays).
     */
    @Test
    void callsOfFewerTasksThanThreadsKeepTheWorkers() {
        Thread caller = Thread.currentThread();
        java.util.Set<Thread> helpers = java.util.concurrent.ConcurrentHashMap.newKeySet();
        withThreads(3, () -> {
            for (int rep = 0; rep < 100; rep++) {
                for (int n = 2; n <= 3; n++) {
                    Parallel.forEach(n, i -> {
                        if (Thread.currentThread() != caller) helpers.add(Thread.currentThread());
                        java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                    });
                }
            }
            return null;
        });
        assertTrue(helpers.size() >= 1 && helpers.size() <= 2, "worker threads seen: " + helpers);
    }

    private static void severalCallersThenParkedWorkers() throws Exception {
        {
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    results.add(callers.submit(() -> {
                        for (int call = 0; call < 300; call++) {
                            AtomicIntegerArray hits = new AtomicIntegerArray(16);
                            Parallel.forEach(16, hits::incrementAndGet);
                            for (int i = 0; i < 16; i++) if (hits.get(i) != 1) return false;
                        }
                        return true;
                    }));
                }
                for (var r : results) assertEquals(Boolean.TRUE, r.get(60, java.util.concurrent.TimeUnit.SECONDS));
            } finally {
                callers.shutdownNow();
            }
            Thread.sleep(Parallel.SPIN_NANOS / 1_000_000 + 20);   // the workers park
            AtomicIntegerArray hits = new AtomicIntegerArray(16);
            Parallel.forEach(16, hits::incrementAndGet);
            for (int i = 0; i < 16; i++) assertEquals(1, hits.get(i), "task " + i + " after the workers parked");
        }
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

    /** The loss (rows in tasks, their losses added in row order) and a shuffled batch (images copied in tasks) on 1, 2 and 3 threads. */
    @Test
    void lossAndBatchesAreTheSameBitsOnOneTwoAndThreeThreads() {
        java.util.Random r = new java.util.Random(5);
        int n = 1000, k = 10, h = 28, w = 28;   // 28 x 28: 32 images a task, a batch of 700 is 22 tasks
        float[] z = new float[n * k], images = new float[n * h * w];
        int[] labels = new int[n];
        for (int i = 0; i < z.length; i++) z[i] = (float) (4 * r.nextGaussian());
        for (int i = 0; i < images.length; i++) images[i] = r.nextFloat();
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(k);
        org.norm4j.data.Dataset data = new org.norm4j.data.Dataset("random", images, labels, h, w, org.norm4j.data.FashionMnist.CLASSES);
        float[][] loss = new float[3][], batch = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            loss[threads - 1] = withThreads(threads, () -> {
                org.norm4j.tensor.Tensor logits = org.norm4j.tensor.Tensor.wrap(z.clone(), n, k).requiresGrad(true);
                org.norm4j.tensor.Tensor l = org.norm4j.ops.CrossEntropy.forward(logits, labels);
                l.backward();
                float[] out = java.util.Arrays.copyOf(logits.grad().data(), n * k + 1);
                out[n * k] = l.item();
                return out;
            });
            batch[threads - 1] = withThreads(threads, () -> {
                org.norm4j.data.DataLoader.Batch b = new org.norm4j.data.DataLoader(data, 700, true, 3).epoch(1).iterator().next();
                float[] out = java.util.Arrays.copyOf(b.x().data(), 700 * h * w + 700);
                for (int i = 0; i < 700; i++) out[700 * h * w + i] = b.y()[i];
                return out;
            });
        }
        for (int t = 1; t < 3; t++) {
            assertArrayEquals(loss[0], loss[t], "cross-entropy: 1 vs " + (t + 1) + " threads");
            assertArrayEquals(batch[0], batch[t], "a batch: 1 vs " + (t + 1) + " threads");
        }
    }

    /** Forward and backward of each layer on 1, 2 and 3 threads: output, input gradient and parameter gradients. */
    @Test
    void normalizationsAreTheSameBitsOnOneTwoAndThreeThreads() {
        java.util.Random r = new java.util.Random(11);
        // more than Parallel.MIN_PARALLEL_TASKS tasks per call (smaller calls run inline), odd widths
        int[][] shapes = {{1000, 37}, {2000, 600}, {256, 120}, {300, 700}, {3, 700, 601}, {40, 5, 6001}};
        for (int[] shape : shapes) {
            int n = org.norm4j.tensor.Shape.size(shape);
            float[] x = new float[n], dy = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (1e3 + r.nextGaussian());   // a large mean: the shifted sums matter
                dy[i] = (float) r.nextGaussian();
            }
            int last = shape[shape.length - 1];
            int[] trailing = java.util.Arrays.copyOfRange(shape, 1, shape.length);
            List<java.util.function.Supplier<org.norm4j.nn.Module>> layers = List.of(
                    () -> org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, last).axis(-1).build(),
                    // the sigmoid fused into the apply and the backward's first pass (elementwise tasks)
                    () -> new org.norm4j.nn.Sequential(org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, last)
                            .axis(-1).build(), new org.norm4j.nn.Sigmoid()),
                    () -> new org.norm4j.nn.norm.LayerNorm(trailing),
                    () -> new org.norm4j.nn.norm.RMSNorm(trailing));
            for (var make : layers) {
                float[][] results = new float[3][];
                String name = null;
                for (int threads = 1; threads <= 3; threads++) {
                    org.norm4j.nn.Module m = make.get();
                    name = m.getClass().getSimpleName() + " on " + java.util.Arrays.toString(shape);
                    results[threads - 1] = withThreads(threads, () -> forwardBackward(m, x, dy, shape));
                }
                assertArrayEquals(results[0], results[1], name + ": 1 vs 2 threads");
                assertArrayEquals(results[0], results[2], name + ": 1 vs 3 threads");
            }
        }
    }

    private static float[] forwardBackward(org.norm4j.nn.Module m, float[] x, float[] dy, int[] shape) {
        org.norm4j.tensor.Tensor in = org.norm4j.tensor.Tensor.wrap(x.clone(), shape).requiresGrad(true);
        org.norm4j.tensor.Tensor y = m.forward(in);
        y.backward(org.norm4j.tensor.Tensor.wrap(dy, shape));
        List<Float> all = new ArrayList<>();
        for (float v : y.data()) all.add(v);
        for (float v : in.grad().data()) all.add(v);
        for (var p : m.parameters()) for (float v : p.grad().data()) all.add(v);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }
}
