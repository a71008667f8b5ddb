package org.norm4j.kernels;

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
 * {@code forEach}) run inline on the task's thread, and so does a call from a second thread while
 * another thread's call has the workers (one call at a time uses them; none waits for another).
 */
public final class Parallel {
    private static volatile int threads = initialThreads();
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

    /**
     * How long an idle worker spins, watching for the next call, before it parks: a training step
     * makes a few hundred calls a few tens of microseconds apart, and waking a parked thread took
     * 20–45 µs here (an empty {@code forEach} through an executor: more than the work of a task).
     */
    static final long SPIN_NANOS = Long.getLong("norm4j.parallel.spinNanos", 500_000L);

    /**
     * One call's tasks, shared by the caller and the workers. Participant p (the caller 0, worker k
     * is k + 1) first takes the tasks of its own contiguous share [p·n/t, (p+1)·n/t), in order, then
     * helps with the others' shares: calls that split the same batch the same way give each thread
     * the same images, so a step's tensors stay in the cache of the core that wrote them (taking
     * tasks from one shared counter, either core's half of a tensor was written by the other).
     * Which tasks run, and so every result, does not depend on who runs them.
     */
    private static final class Job {
        final IntConsumer task;
        final int n, parts;
        /** The call's number: a worker compares numbers, not jobs, so it keeps no job (and what its tasks captured) alive. */
        final long seq;
        /** next[p]: the next task of share p; share p ends where share p + 1 starts. */
        final java.util.concurrent.atomic.AtomicIntegerArray next;
        final AtomicInteger completed = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();

        Job(IntConsumer task, int n, int parts, long seq) {
            this.task = task;
            this.n = n;
            this.parts = parts;
            this.seq = seq;
            next = new java.util.concurrent.atomic.AtomicIntegerArray(parts);
            for (int p = 0; p < parts; p++) next.set(p, start(p));
        }

        int start(int p) {
            return (int) ((long) p * n / parts);
        }

        /** Takes tasks, its own share's first, until none is left; a failed task stops the others from starting theirs (each still counts as done). */
        void work(int self) {
            for (int k = 0; k < parts; k++) {
                int p = (self + k) % parts, end = start(p + 1);
                for (int i; (i = next.getAndIncrement(p)) < end; ) {
                    if (failure.get() == null) {
                        try {
                            task.accept(i);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                    completed.incrementAndGet();
                }
            }
        }
    }

    /** A worker thread: spins on {@link #job} for {@link #SPIN_NANOS}, then parks until a caller unparks it. */
    private static final class Worker extends Thread {
        /** This worker's share in a job: worker k + 1 of the call's participants. */
        final int part;
        volatile Job job;
        volatile boolean parked;
        volatile boolean stopped;

        Worker(int id) {
            super("norm4j-kernel-" + id);
            part = id;
            setDaemon(true);
        }

        @Override
        public void run() {
            IN_TASK.set(Boolean.TRUE);
            long doneSeq = 0;
            while (!stopped) {
                Job j = job;
                if (!done(j, doneSeq)) {
                    doneSeq = j.seq;
                    if (part < j.parts) j.work(part);
                    continue;
                }
                long since = System.nanoTime();
                while (!stopped && done(job, doneSeq) && System.nanoTime() - since < SPIN_NANOS) Thread.onSpinWait();
                if (!stopped && done(job, doneSeq)) {
                    parked = true;
                    if (!stopped && done(job, doneSeq)) {
                        Thread.interrupted();   // a pending interrupt would make park return at once, every time
                        java.util.concurrent.locks.LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }

        private static boolean done(Job j, long doneSeq) {
            return j == null || j.seq == doneSeq;
        }

        void offer(Job j) {
            job = j;
            if (parked) java.util.concurrent.locks.LockSupport.unpark(this);
        }
    }

    private static Worker[] workers = new Worker[0];
    /** Held by the call that uses the workers; a call that finds it taken runs inline. */
    private static final java.util.concurrent.locks.ReentrantLock LOCK = new java.util.concurrent.locks.ReentrantLock();
    /** Calls made with the workers (guarded by LOCK). */
    private static long jobs;

    /** The workers, {@code count} of them, started or restarted as needed (called under LOCK). */
    private static Worker[] workers(int count) {
        if (workers.length != count) {
            for (Worker w : workers) {
                w.stopped = true;
                java.util.concurrent.locks.LockSupport.unpark(w);
            }
            Worker[] ws = new Worker[count];
            for (int k = 0; k < count; k++) {
                ws[k] = new Worker(k + 1);
                ws[k].start();
            }
            workers = ws;
        }
        return workers;
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
     * Calls with at most this many tasks run on the calling thread (default 1: any call of two
     * tasks or more is shared). Through an executor a call cost 20–45 µs of waking and waiting, so
     * calls of up to 4 tasks stayed inline; with the spinning workers a call costs under a
     * microsecond, and sharing even 2–4 tasks pays (BatchNorm forward of [256, 16, 8, 8] on two
     * threads: 0.24 → 0.13 ms). Which tasks run, and so every result, is the same either way.
     */
    static final int MIN_PARALLEL_TASKS = Integer.getInteger("norm4j.parallel.minTasks", 1);

    /** The grain that gives each task about {@code work} units when one index costs {@code perIndex}. */
    public static int grain(long perIndex, long work) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, work / Math.max(1, perIndex)));
    }

    /** Runs {@code task.accept(i)} for every i in [0, n), each once, and returns when all are done. */
    public static void forEach(int n, IntConsumer task) {
        int count = threads, t = Math.min(count, n);   // one read: setThreads may run meanwhile
        // inline when there is nothing to share, inside a task, or while another thread's call has the workers
        if (t <= 1 || n <= MIN_PARALLEL_TASKS || IN_TASK.get() || !LOCK.tryLock()) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        Job job;
        try {
            Worker[] ws = workers(count - 1);   // sized by the thread count, not by this call: no restarts
            job = new Job(task, n, t, ++jobs);
            for (int k = 0; k < t - 1; k++) ws[k].offer(job);
            IN_TASK.set(Boolean.TRUE);
            try {
                job.work(0);
            } finally {
                IN_TASK.set(Boolean.FALSE);
            }
            while (job.completed.get() < n) Thread.onSpinWait();
            for (int k = 0; k < t - 1; k++) ws[k].job = null;   // keep nothing the tasks captured alive
        } finally {
            LOCK.unlock();
        }
        Throwable failure = job.failure.get();
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException("Parallel.forEach: a task failed", failure);
    }
}
