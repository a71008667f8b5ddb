package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Tensor;

/**
 * Identity whose backward first runs an action: how a layer defers work to back-propagation, as
 * DL4J's batch norm updates its running statistics in backprop rather than in the forward pass.
 * Forward shares the input's storage; backward passes the gradient through unchanged.
 */
public final class BackwardHook {
    private BackwardHook() {}

    /** Returns x itself (and never runs the action) when x is not part of a recorded graph. */
    public static Tensor attach(Tensor x, Runnable action) {
        if (!Autograd.needsGrad(x)) return x;
        Tensor y = Tensor.wrap(x.data(), x.shape());
        Autograd.record(y, "BackwardHook", (dOut, dIn) -> {
            action.run();
            float[] dx = dIn[0];
            for (int i = 0; i < dx.length; i++) dx[i] += dOut[i];
        }, x);
        return y;
    }
}
