package org.norm4j.nn;

import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Tensor;

/** [N, d1, d2, ...] → [N, d1·d2·...], as torch.nn.Flatten (a view: no copy). */
public final class Flatten extends Module {
    @Override
    public Tensor forward(Tensor x) {
        int n = x.dim(0);
        return Pointwise.reshape(x, n, x.size() / n);
    }

    @Override
    public String describe() {
        return "Flatten()";
    }
}
