package org.norm4j.kernels;

import dev.ludovic.netlib.blas.BLAS;

/**
 * Row-major single-precision GEMM on the BLAS: {@code C = alpha·op(A)·op(B) + beta·C} with
 * C [m×n], op(A) [m×k], op(B) [k×n], each array followed by its offset and leading dimension
 * (row stride). BLAS is column-major, so the call computes Cᵀ = op(B)ᵀ·op(A)ᵀ, which has the same
 * memory layout as the row-major C. Native OpenBLAS when the JNI implementation loads
 * (dev.ludovic.netlib), otherwise its pure-Java fallback.
 */
public final class Gemm {
    private static final BLAS BLAS_IMPL = BLAS.getInstance();

    private Gemm() {}

    /** The environment variables OpenBLAS reads its thread count from, in its order of precedence. */
    static final String[] THREAD_VARIABLES = {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};

    static {   // after THREAD_VARIABLES: static initializers run in the file's order
        String advice = threadsAdvice(implementation(), System::getenv, Runtime.getRuntime().availableProcessors());
        if (advice != null) System.getLogger("org.norm4j").log(System.Logger.Level.WARNING, advice);
    }

    /**
     * The warning for a native BLAS left to pick its own thread count (OpenBLAS: one per core), or
     * null. norm4j's GEMMs are small (LeNet's linear layers: a batch of 256 by a few hundred), and
     * on them OpenBLAS's threads cost more than they share: measured on a 2-core AMD EPYC, one
     * training step of LeNet-BN took 8.1–9.1 ms with OPENBLAS_NUM_THREADS=1 and norm4j on 2
     * threads, 15–20 ms with OpenBLAS's default (each linear layer's forward or backward 5–30×
     * slower), so that 2 threads were slower than 1. bin/norm4j and bin/bench set the variable; a
     * program using the library sets it in its own environment (a JVM cannot set it for the native
     * library it has loaded).
     */
    static String threadsAdvice(String implementation, java.util.function.Function<String, String> env, int processors) {
        if (!implementation.startsWith("JNI") || processors <= 1) return null;
        for (String v : THREAD_VARIABLES) {
            String value = env.apply(v);
            if (value != null && !value.isBlank()) return null;
        }
        return "norm4j: the native BLAS (" + implementation + ", OpenBLAS on Debian) will start its own threads, one per core ("
                + processors + "): none of " + String.join(", ", THREAD_VARIABLES) + " is set. On norm4j's small matrix products one "
                + "BLAS thread is faster, and norm4j's kernel threads (Parallel) then have the cores to themselves: run with "
                + "OPENBLAS_NUM_THREADS=1 (bin/norm4j does).";
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        BLAS_IMPL.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
    }

    /** Which BLAS serves: e.g. "JNIBLAS" (native) or "VectorBLAS"/"F2jBLAS" (Java). */
    public static String implementation() {
        return BLAS_IMPL.getClass().getSimpleName();
    }
}
