package org.norm4j.nn;

import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;

/** Inverted dropout, as torch.nn.Dropout: zeroes with probability p and scales by 1/(1 − p) in training; identity in eval. */
public final class Dropout extends Module {
    private final double p;
    private final Rng rng;

    public Dropout(double p) {
        this(p, new Rng(0));
    }

    public Dropout(double p, Rng rng) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("Dropout(p=" + p + "): p must be in [0, 1)");
        this.p = p;
        this.rng = rng;
    }

    @Override
    public Tensor forward(Tensor x) {
        return isTraining() && p > 0 ? Pointwise.dropout(x, p, rng) : x;
    }

    @Override
    public String describe() {
        return "Dropout(p=" + p + ")";
    }
}
