package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Gemm;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Workspace;
import org.norm4j.tensor.Tensor;

/**
 * y = x·Wᵀ + b, with x [N, in], W [out, in], b [out] or null (torch.nn.functional.linear).
 * Backward: dx += dy·W; dW += dyᵀ·x; db += Σ_rows dy. The forward's two halves of a batch and the
 * backward's two products are separate tasks of {@link Parallel} (one BLAS thread per task: bin/
 * scripts set OPENBLAS_NUM_THREADS=1, since BLAS's own threads lose on these skinny products),
 * fixed by the shape, so the result is the same bits on any number of threads. When x is the
 * weight itself, the two products share one gradient buffer and run one after the other.
 */
public final class Dense {
    private Dense() {}

    /** Batches of at least this many rows are computed as two GEMMs over fixed halves (the two tasks of {@link Parallel}). */
    static final int SPLIT_ROWS = 64;

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        int n = x.dim(0), in = weight.dim(1), out = weight.dim(0);
        float[] xd = x.data(), wd = weight.data(), y = Workspace.uninitialized(n * out);   // bias or beta 0: every element written
        float[] b = bias == null ? null : bias.data();
        // two halves of the batch, fixed by n alone (the same GEMM calls on any number of threads):
        // with OpenBLAS at one thread each core takes one
        int half = n >= SPLIT_ROWS ? n / 2 : n;
        Parallel.forEach(n >= SPLIT_ROWS ? 2 : 1, t -> {
            int r0 = t * half, r1 = t == 0 ? half : n;
            if (b != null) for (int r = r0; r < r1; r++) System.arraycopy(b, 0, y, r * out, out);
            Gemm.gemm(false, true, r1 - r0, out, in, 1f, xd, r0 * in, in, wd, 0, in, b == null ? 0f : 1f, y, r0 * out, out);
        });
        Tensor yt = Tensor.wrap(y, n, out);
        Autograd.record(yt, "Linear", (dy, d, fresh) -> {
            java.util.function.IntConsumer part = t -> {   // dx, then dW and db: independent, one per thread
                if (t == 0) {   // beta 0 on a fresh dx: BLAS then never reads it
                    if (d[0] != null) Gemm.gemm(false, false, n, in, out, 1f, dy, 0, out, wd, 0, in, fresh[0] ? 0f : 1f, d[0], 0, in);
                    return;
                }
                if (d[1] != null) Gemm.gemm(true, false, out, in, n, 1f, dy, 0, out, xd, 0, in, 1f, d[1], 0, in);
                if (d[2] != null) {
                    for (int r = 0; r < n; r++) for (int o = 0; o < out; o++) d[2][o] += dy[r * out + o];
                }
            };
            if (d[0] != null && d[0] == d[1]) {   // x is the weight: both products add into one buffer, so one after the other
                part.accept(0);
                part.accept(1);
            } else {
                Parallel.forEach(2, part);
            }
        }, x, weight, bias);
        return yt;
    }
}
