package org.norm4j.nn.norm;

import java.util.Arrays;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.ops.RowNorm;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * Layer normalization, as torch.nn.LayerNorm: statistics over the trailing
 * {@code normalizedShape} axes of each leading index, biased variance; elementwise affine over
 * {@code normalizedShape} (gamma ones, beta zeros). eps 1e-5. Same computation in training and
 * inference.
 */
public final class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = RMSNorm.checkNormalizedShape("LayerNorm", normalizedShape);
        if (!(eps >= 0)) throw new IllegalArgumentException(describe() + ": eps must be ≥ 0, got " + eps);
        this.eps = eps;
        int len = Shape.size(this.normalizedShape);
        this.weight = elementwiseAffine ? registerParameter("weight", RMSNorm.ones(this.normalizedShape)) : null;
        this.bias = elementwiseAffine ? registerParameter("bias", new Parameter(new float[len], this.normalizedShape)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        int len = RMSNorm.checkTrailing(describe(), x.shape(), normalizedShape);
        int rows = x.size() / len;
        return RowNorm.forward(x, weight, bias, rows, len, true, eps, Activation.IDENTITY);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public String describe() {
        return "LayerNorm(normalizedShape=" + Arrays.toString(normalizedShape) + ")";
    }
}
