package org.norm4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * Array reuse across training steps. A training step allocates the same large arrays every time
 * (activations, their gradients); fresh ones cost a zeroing pass over new memory each and load
 * the garbage collector with multi-megabyte objects. Inside a scope
 * <pre>
 *   try (Workspace.Scope s = Workspace.open()) { forward; loss; backward; optimizer step; read results }
 * </pre>
 * ops take their large output and gradient arrays from this thread's workspace, and closing the
 * scope hands every one of them back for the next step (and lets go of pooled arrays that step did
 * not use, so the pool holds at most one step's arrays). The caller promises that nothing made
 * inside the scope — no tensor, no array — is used after it closes (copy what you keep:
 * {@link Tensor#toArray()}, {@link Tensor#item()}). Outside a scope, and for arrays under
 * {@value #MIN_FLOATS} floats, every call is a plain {@code new float[n]}. Values never depend on
 * it: a reused array is zeroed where a fresh one would be relied on to be zero, and fully
 * overwritten otherwise ({@code WorkspaceTest}: the same trained weights, bit for bit).
 * {@link org.norm4j.train.Trainer} opens one per step.
 */
public final class Workspace {
    /** Arrays shorter than this are left to the allocator (cheap, and most are kept by someone). */
    public static final int MIN_FLOATS = 1 << 15;
    private static final ThreadLocal<Workspace> CURRENT = ThreadLocal.withInitial(Workspace::new);
    /** {@code -Dnorm4j.workspace=false}: every call allocates (for comparisons). */
    private static final boolean ENABLED = !"false".equals(System.getProperty("norm4j.workspace"));

    private final Pool<float[]> floats = new Pool<>(float[]::new, a -> a.length, Float.BYTES);
    private final Pool<double[]> doubles = new Pool<>(double[]::new, a -> a.length, Double.BYTES);
    private int depth;

    /** One element type's arrays: those free for the next step, by length, and those lent since the outermost scope opened. */
    private static final class Pool<A> {
        private final Map<Integer, ArrayDeque<A>> free = new HashMap<>();
        private final List<A> lent = new ArrayList<>();
        private final IntFunction<A> make;
        private final ToIntFunction<A> length;
        private final int bytesPerElement;

        Pool(IntFunction<A> make, ToIntFunction<A> length, int bytesPerElement) {
            this.make = make;
            this.length = length;
            this.bytesPerElement = bytesPerElement;
        }

        A take(int n) {
            ArrayDeque<A> q = free.get(n);
            A a = q == null || q.isEmpty() ? null : q.pop();
            if (a == null) a = make.apply(n);   // the first step of a shape: fresh, and lent from now on
            lent.add(a);
            return a;
        }

        /**
         * The pool becomes exactly this step's arrays: sizes the step did not use (a shorter last
         * batch, an earlier shape) are dropped, so it never holds more than one step.
         */
        void recycle() {
            free.clear();
            for (A a : lent) free.computeIfAbsent(length.applyAsInt(a), k -> new ArrayDeque<>()).push(a);
            lent.clear();
        }

        long bytes() {
            long elements = 0;
            for (ArrayDeque<A> q : free.values()) for (A a : q) elements += length.applyAsInt(a);
            for (A a : lent) elements += length.applyAsInt(a);
            return elements * bytesPerElement;
        }
    }

    private Workspace() {}

    /** A scope on this thread's workspace; scopes nest, the outermost one's close recycles. */
    public static Scope open() {
        Workspace w = CURRENT.get();
        w.depth++;
        return new Scope(w);
    }

    /** Closes its scope once; arrays lent since the outermost scope opened go back to the pool. */
    public static final class Scope implements AutoCloseable {
        private final Workspace w;
        private boolean closed;

        private Scope(Workspace w) {
            this.w = w;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (--w.depth == 0) {
                w.floats.recycle();
                w.doubles.recycle();
            }
        }
    }

    /** n floats, all 0. */
    public static float[] zeroed(int n) {
        float[] a = take(w -> w.floats, n, MIN_FLOATS);
        if (a == null) return new float[n];
        org.norm4j.kernels.Parallel.forRange(n, 1 << 16, (lo, hi) -> java.util.Arrays.fill(a, lo, hi, 0f));
        return a;
    }

    /** n floats with unspecified contents, for a caller that writes every one before reading any. */
    public static float[] uninitialized(int n) {
        float[] a = take(w -> w.floats, n, MIN_FLOATS);
        return a == null ? new float[n] : a;
    }

    /**
     * n doubles, all 0: the same pool for double arrays (the per-group partial sums of a backward),
     * pooled from {@value #MIN_FLOATS} / 2 doubles up (the same bytes as the float threshold).
     */
    public static double[] zeroedDoubles(int n) {
        double[] a = take(w -> w.doubles, n, MIN_FLOATS / 2);
        if (a == null) return new double[n];
        java.util.Arrays.fill(a, 0);
        return a;
    }

    /** An array of n from this thread's pool, or null where the caller allocates (small, disabled, no scope). */
    private static <A> A take(Function<Workspace, Pool<A>> pool, int n, int min) {
        if (n < min || !ENABLED) return null;
        Workspace w = CURRENT.get();
        return w.depth == 0 ? null : pool.apply(w).take(n);
    }

    /**
     * Bytes of the arrays this thread's workspace holds, pooled or lent: after a step's scope
     * closes, the arrays the next step will reuse (a diagnostic; steady across steps of one shape).
     */
    public static long heldBytes() {
        Workspace w = CURRENT.get();
        return w.floats.bytes() + w.doubles.bytes();
    }

    /** Forgets this thread's pooled arrays (their memory goes back to the garbage collector). */
    public static void clear() {
        Workspace w = CURRENT.get();
        w.floats.free.clear();
        w.doubles.free.clear();
    }
}
