package org.norm4j.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The worker threads of norm4j's kernels: {@link #forEach} runs tasks 0..n−1 on up to
 * {@link #threads()} threads, the caller among them. Callers split work into tasks by the
 * problem's size alone, never by the thread count, and combine per-task partial results in task
 * order, so every result is the same bits on 1 thread or 16.
 *
 * <p>The count comes from {@link #setThreads}, else the system property {@code norm4j.threads},
 * else the environment variable {@code NORM4J_THREADS}, else 1. Nested calls (a task that calls
 * {@code forEach}) run inline on the task's thread.
 */
public final class Parallel {
    private static volatile int threads = initialThreads();
    private static ExecutorService pool;
    private static int poolSize;
    private static final ThreadLocal<Boolean> IN_TASK = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private Parallel() {}

    private static int initialThreads() {
        String s = System.getProperty("norm4j.threads");
        if (s == null) s = System.getenv("NORM4J_THREADS");
        if (s == null || s.isBlank()) return 1;
        try {
            return Math.max(1, Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("norm4j.threads / NORM4J_THREADS: expected a positive integer, got '" + s + "'");
        }
    }

    public static int threads() {
        return threads;
    }

    /** Sets the number of threads kernels use (the caller included); at least 1. */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("Parallel.setThreads: at least 1 thread, got " + n);
        threads = n;
    }

    private static synchronized ExecutorService pool(int workers) {
        if (pool == null || poolSize != workers) {
            if (pool != null) pool.shutdown();
            AtomicInteger id = new AtomicInteger();
            pool = Executors.newFixedThreadPool(workers, r -> {
                Thread t = new Thread(r, "norm4j-kernel-" + id.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            poolSize = workers;
        }
        return pool;
    }

    /** A range task: handles [lo, hi). */
    @FunctionalInterface
    public interface Range {
        void run(int lo, int hi);
    }

    /**
     * Splits [0, n) into ranges of {@code grain} (the last one shorter) and runs them as tasks:
     * the split depends on n and grain only.
     */
    public static void forRange(int n, int grain, Range body) {
        int g = Math.max(1, grain), tasks = (n + g - 1) / g;
        if (tasks <= 1) {
            if (n > 0) body.run(0, n);
            return;
        }
        forEach(tasks, t -> body.run(t * g, Math.min(n, (t + 1) * g)));
    }

    /**
     * Calls with at most this many tasks run on the calling thread: the kernels size their tasks
     * at about 2¹⁶ elements (tens of microseconds), and for a few of them waking another thread and
     * moving the data between the cores' caches cost more than they save (measured: a BatchNorm
     * forward of [256, 16, 8, 8], four tasks per phase, 0.18 ms on one thread and 0.21 on two).
     * Which tasks run, and so every result, is the same either way.
     */
    static final int MIN_PARALLEL_TASKS = Integer.getInteger("norm4j.parallel.minTasks", 4);

    /** The grain that gives each task about {@code work} units when one index costs {@code perIndex}. */
    public static int grain(long perIndex, long work) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, work / Math.max(1, perIndex)));
    }

    /** Runs {@code task.accept(i)} for every i in [0, n), each once, and returns when all are done. */
    public static void forEach(int n, IntConsumer task) {
        int t = Math.min(threads, n);
        if (t <= 1 || n <= MIN_PARALLEL_TASKS || IN_TASK.get()) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            IN_TASK.set(Boolean.TRUE);
            try {
                for (int i; (i = next.getAndIncrement()) < n; ) task.accept(i);
            } finally {
                IN_TASK.set(Boolean.FALSE);
            }
        };
        ExecutorService p = pool(t - 1);
        Future<?>[] helpers = new Future<?>[t - 1];
        for (int k = 0; k < helpers.length; k++) helpers[k] = p.submit(worker);
        Throwable failure = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(n);   // the others stop taking tasks
        }
        for (Future<?> f : helpers) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException("Parallel.forEach: a task failed", failure);
    }
}
