package org.norm4j.nn;

import org.norm4j.kernels.Activation;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Tensor;

/** Elementwise ReLU, as torch.nn.ReLU. */
public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return Pointwise.activation(x, Activation.RELU);
    }

    @Override
    public String describe() {
        return "ReLU()";
    }
}
