package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Activation;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/** Elementwise activation, reshape (a view) and dropout. */
public final class Pointwise {
    private Pointwise() {}

    /** y = act(x); backward from the output (relu' = [y &gt; 0], sigmoid' = y(1 − y), tanh' = 1 − y²). */
    public static Tensor activation(Tensor x, Activation act) {
        float[] y = Workspace.uninitialized(x.size());   // act.forward writes every element
        act.forward(y, x.data(), y.length);
        Tensor yt = Tensor.wrap(y, x.shape());
        Autograd.record(yt, act.name(), (dy, d, fresh) -> {
            if (fresh[0]) act.backwardAssign(d[0], dy, y, dy.length);
            else act.backward(d[0], dy, y, dy.length);
        }, x);
        return yt;
    }

    /** The same values (shared) in another shape; backward passes the gradient through. */
    public static Tensor reshape(Tensor x, int... shape) {
        Tensor y = x.reshape(shape);
        Autograd.recordInPlace(y, "Reshape", (dy, d, fresh) -> {
            if (fresh[0]) {
                if (d[0] != dy) System.arraycopy(dy, 0, d[0], 0, dy.length);   // handed dy's own array: nothing to copy
            } else {
                for (int i = 0; i < dy.length; i++) d[0][i] += dy[i];
            }
        }, x);
        return y;
    }

    /** y = x·mask/(1 − p) with mask[i] = 1 with probability 1 − p (inverted dropout, as PyTorch). */
    public static Tensor dropout(Tensor x, double p, org.norm4j.tensor.Rng rng) {
        float[] xd = x.data(), y = new float[xd.length];
        float scale = (float) (1 / (1 - p));
        float[] mask = new float[xd.length];
        for (int i = 0; i < xd.length; i++) {
            mask[i] = rng.uniform() >= p ? scale : 0f;
            y[i] = xd[i] * mask[i];
        }
        Tensor yt = Tensor.wrap(y, x.shape());
        Autograd.record(yt, "Dropout", (dy, d) -> {
            for (int i = 0; i < dy.length; i++) d[0][i] += dy[i] * mask[i];
        }, x);
        return yt;
    }
}
