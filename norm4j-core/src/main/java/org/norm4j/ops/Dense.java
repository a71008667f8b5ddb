package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Gemm;
import org.norm4j.kernels.Parallel;
import org.norm4j.tensor.Workspace;
import org.norm4j.tensor.Tensor;

/**
 * y = x·Wᵀ + b, with x [N, in], W [out, in], b [out] or null (torch.nn.functional.linear).
 * Backward: dx += dy·W; dW += dyᵀ·x; db += Σ_rows dy.
 */
public final class Dense {
    private Dense() {}

    /**
     * Rows per GEMM: a batch is cut into blocks of this many rows (dx and y) and the weight
     * gradient into blocks of output features, fixed by the shape, and the blocks run on
     * {@link Parallel}'s threads (bin/norm4j runs OpenBLAS on one thread): the same bits on any
     * thread count.
     */
    static final int BLOCK_ROWS = 64;

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        int n = x.dim(0), in = weight.dim(1), out = weight.dim(0);
        float[] xd = x.data(), wd = weight.data(), y = Workspace.uninitialized(n * out);   // bias or beta 0: every element written
        float[] b = bias == null ? null : bias.data();
        Parallel.forRange(n, BLOCK_ROWS, (r0, r1) -> {
            if (b != null) for (int r = r0; r < r1; r++) System.arraycopy(b, 0, y, r * out, out);
            Gemm.gemm(false, true, r1 - r0, out, in, 1f, xd, r0 * in, in, wd, 0, in, b == null ? 0f : 1f, y, r0 * out, out);
        });
        Tensor yt = Tensor.wrap(y, n, out);
        Autograd.record(yt, "Linear", (dy, d, fresh) -> {   // beta 0 on a fresh dx: BLAS then never reads it
            if (d[0] != null) {
                float[] dx = d[0];
                float beta = fresh[0] ? 0f : 1f;
                Parallel.forRange(n, BLOCK_ROWS, (r0, r1) ->
                        Gemm.gemm(false, false, r1 - r0, in, out, 1f, dy, r0 * out, out, wd, 0, in, beta, dx, r0 * in, in));
            }
            if (d[1] != null) {   // dW rows from dyᵀ's rows: whole rows, as the BLAS binding's bounds checks want
                float[] dW = d[1], dyT = new float[out * n];
                for (int r = 0; r < n; r++) for (int o = 0; o < out; o++) dyT[o * n + r] = dy[r * out + o];
                Parallel.forRange(out, BLOCK_ROWS / 2, (o0, o1) ->
                        Gemm.gemm(false, false, o1 - o0, in, n, 1f, dyT, o0 * n, n, xd, 0, in, 1f, dW, o0 * in, in));
            }
            if (d[2] != null) {
                for (int r = 0; r < n; r++) for (int o = 0; o < out; o++) d[2][o] += dy[r * out + o];
            }
        }, x, weight, bias);
        return yt;
    }
}
