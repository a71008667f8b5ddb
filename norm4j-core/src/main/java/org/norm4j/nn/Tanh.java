package org.norm4j.nn;

import org.norm4j.kernels.Activation;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Tensor;

/** Elementwise Tanh, as torch.nn.Tanh. */
public final class Tanh extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return Pointwise.activation(x, Activation.TANH);
    }

    @Override
    public String describe() {
        return "Tanh()";
    }
}
