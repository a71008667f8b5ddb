package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Pooling;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/** 2-D max and average pooling of [N, C, H, W]; backward routes dy to the argmax or spreads it evenly. */
public final class Pool {
    private Pool() {}

    public static Tensor max(Tensor x, int kH, int kW, int sH, int sW, int pH, int pW) {
        int[] s = x.shape();
        int planes = s[0] * s[1], h = s[2], w = s[3];
        int outH = (h + 2 * pH - kH) / sH + 1, outW = (w + 2 * pW - kW) / sW + 1;
        float[] y = new float[planes * outH * outW];
        int[] argmax = new int[y.length];
        Pooling.maxForward(y, argmax, x.data(), planes, h, w, kH, kW, sH, sW, pH, pW, outH, outW);
        Tensor yt = Tensor.wrap(y, s[0], s[1], outH, outW);
        Autograd.record(yt, "MaxPool2d", (dy, d, fresh) -> {
            if (fresh[0]) java.util.Arrays.fill(d[0], 0f);   // the argmaxes cover only some of x
            Pooling.maxBackward(d[0], dy, argmax, dy.length);
        }, x);
        return yt;
    }

    public static Tensor avg(Tensor x, int kH, int kW, int sH, int sW, int pH, int pW) {
        int[] s = x.shape();
        int planes = s[0] * s[1], h = s[2], w = s[3];
        int outH = (h + 2 * pH - kH) / sH + 1, outW = (w + 2 * pW - kW) / sW + 1;
        float[] y = Workspace.uninitialized(planes * outH * outW);   // every window written
        Pooling.avgForward(y, x.data(), planes, h, w, kH, kW, sH, sW, pH, pW, outH, outW);
        Tensor yt = Tensor.wrap(y, s[0], s[1], outH, outW);
        Autograd.record(yt, "AvgPool2d", (dy, d, fresh) -> Pooling.avgBackward(d[0], fresh[0], dy, planes, h, w, kH, kW, sH, sW, pH, pW, outH, outW), x);
        return yt;
    }
}
