package org.norm4j.nn;

import org.norm4j.ops.Dense;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/** y = x·Wᵀ + b for x [N, inFeatures], as torch.nn.Linear (same default initialization). */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true, new Rng(0));
    }

    public Linear(int inFeatures, int outFeatures, boolean bias, Rng rng) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("Linear(" + inFeatures + ", " + outFeatures + "): sizes must be at least 1");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = registerParameter("weight", new Parameter(new float[outFeatures * inFeatures], outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", new Parameter(new float[outFeatures], outFeatures)) : null;
        Init.torchDefault(weight, inFeatures, rng);
        if (this.bias != null) Init.torchDefault(this.bias, inFeatures, rng);
    }

    @Override
    public Tensor forward(Tensor x) {
        int[] s = x.shape();
        if (s.length != 2 || s[1] != inFeatures) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + inFeatures + "], got " + Shape.str(s));
        }
        return Dense.forward(x, weight, bias);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public String describe() {
        return "Linear(" + inFeatures + ", " + outFeatures + ")";
    }
}
