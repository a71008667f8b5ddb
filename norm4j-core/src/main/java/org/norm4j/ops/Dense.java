package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Gemm;
import org.norm4j.tensor.Workspace;
import org.norm4j.tensor.Tensor;

/**
 * y = x·Wᵀ + b, with x [N, in], W [out, in], b [out] or null (torch.nn.functional.linear).
 * Backward: dx += dy·W; dW += dyᵀ·x; db += Σ_rows dy.
 */
public final class Dense {
    private Dense() {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        int n = x.dim(0), in = weight.dim(1), out = weight.dim(0);
        float[] xd = x.data(), wd = weight.data(), y = Workspace.uninitialized(n * out);   // bias or beta 0: every element written
        if (bias != null) {
            float[] b = bias.data();
            for (int r = 0; r < n; r++) System.arraycopy(b, 0, y, r * out, out);
        }
        Gemm.gemm(false, true, n, out, in, 1f, xd, 0, in, wd, 0, in, bias == null ? 0f : 1f, y, 0, out);
        Tensor yt = Tensor.wrap(y, n, out);
        Autograd.record(yt, "Linear", (dy, d, fresh) -> {   // beta 0 on a fresh dx: BLAS then never reads it
            if (d[0] != null) Gemm.gemm(false, false, n, in, out, 1f, dy, 0, out, wd, 0, in, fresh[0] ? 0f : 1f, d[0], 0, in);
            if (d[1] != null) Gemm.gemm(true, false, out, in, n, 1f, dy, 0, out, xd, 0, in, 1f, d[1], 0, in);
            if (d[2] != null) {
                for (int r = 0; r < n; r++) for (int o = 0; o < out; o++) d[2][o] += dy[r * out + o];
            }
        }, x, weight, bias);
        return yt;
    }
}
