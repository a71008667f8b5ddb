package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class GemmTest {
    /** A row-major product against the plain triple loop in double (a 3×4 by 4×2, both transposes). */
    @Test
    void rowMajorProductMatchesTheDefinition() {
        int m = 3, k = 4, n = 2;
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = i - 5;
        for (int i = 0; i < b.length; i++) b[i] = 2 * i - 3;
        float[] want = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) s += (double) a[i * k + t] * b[t * n + j];
                want[i * n + j] = (float) s;
            }
        }
        float[] c = new float[m * n];
        Gemm.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        assertArrayEquals(want, c, 0f);
        float[] aT = new float[k * m], bT = new float[n * k];   // the same operands stored transposed
        for (int i = 0; i < m; i++) for (int t = 0; t < k; t++) aT[t * m + i] = a[i * k + t];
        for (int t = 0; t < k; t++) for (int j = 0; j < n; j++) bT[j * k + t] = b[t * n + j];
        float[] c2 = new float[m * n];
        Gemm.gemm(true, true, m, n, k, 1f, aT, 0, m, bT, 0, k, 0f, c2, 0, n);
        assertArrayEquals(want, c2, 0f);
    }

    @Test
    void warnsOnlyForANativeBlasLeftToPickItsThreads() {
        String advice = Gemm.threadsAdvice("JNIBLAS", Map.<String, String>of()::get, 2);
        assertNotNull(advice);
        assertTrue(advice.contains("OPENBLAS_NUM_THREADS=1") && advice.contains("(2)"), advice);
        for (String v : Gemm.THREAD_VARIABLES) assertNull(Gemm.threadsAdvice("JNIBLAS", Map.of(v, "1")::get, 2), v + " set");
        assertNotNull(Gemm.threadsAdvice("JNIBLAS", Map.of("OPENBLAS_NUM_THREADS", " ")::get, 2), "a blank value is not a count");
        assertNull(Gemm.threadsAdvice("JNIBLAS", Map.<String, String>of()::get, 1), "one core: nothing to share");
        assertNull(Gemm.threadsAdvice("VectorBLAS", Map.<String, String>of()::get, 2), "a Java BLAS starts no threads");
        assertNull(Gemm.threadsAdvice("F2jBLAS", Map.<String, String>of()::get, 2));
    }
}
