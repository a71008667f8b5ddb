package org.norm4j.nn;

import org.norm4j.kernels.Activation;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Tensor;

/** Elementwise Sigmoid, as torch.nn.Sigmoid. */
public final class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return Pointwise.activation(x, Activation.SIGMOID);
    }

    @Override
    public String describe() {
        return "Sigmoid()";
    }
}
