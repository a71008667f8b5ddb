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
