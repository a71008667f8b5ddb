package org.norm4j.nn.norm;

import java.util.Arrays;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.ops.RowNorm;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * RMS normalization, as torch.nn.RMSNorm (2.4+): {@code y = x / sqrt(mean(x²) + eps) · gamma}
 * over the trailing {@code normalizedShape} axes; no mean subtracted, no bias. eps defaults to
 * float32's machine epsilon (2⁻²³), PyTorch's {@code eps=None}; Keras and Flax use 1e-6.
 */
public final class RMSNorm extends Module {
    /** torch.finfo(torch.float32).eps. */
    public static final double FLOAT_EPS = Math.ulp(1.0f);

    private final int[] normalizedShape;
    private final double eps;
    private final Parameter weight;

    public RMSNorm(int... normalizedShape) {
        this(normalizedShape, FLOAT_EPS, true);
    }

    public RMSNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = checkNormalizedShape("RMSNorm", normalizedShape);
        if (!(eps >= 0)) throw new IllegalArgumentException(describe() + ": eps must be ≥ 0, got " + eps);
        this.eps = eps;
        this.weight = elementwiseAffine ? registerParameter("weight", ones(this.normalizedShape)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        int len = checkTrailing(describe(), x.shape(), normalizedShape);
        int rows = x.size() / len;
        return RowNorm.forward(x, weight, null, rows, len, false, eps, Activation.IDENTITY);
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public String describe() {
        return "RMSNorm(normalizedShape=" + Arrays.toString(normalizedShape) + ")";
    }

    static int[] checkNormalizedShape(String who, int[] normalizedShape) {
        if (normalizedShape == null || normalizedShape.length < 1 || normalizedShape.length > 4) {
            throw new IllegalArgumentException(who + ": normalizedShape must have 1 to 4 dimensions, got "
                    + (normalizedShape == null ? "null" : Arrays.toString(normalizedShape)));
        }
        for (int d : normalizedShape) {
            if (d < 1) throw new IllegalArgumentException(who + ": normalizedShape dimensions must be ≥ 1, got " + Arrays.toString(normalizedShape));
        }
        return normalizedShape.clone();
    }

    /** Checks that the input ends with normalizedShape (and has a leading axis); returns the row length. */
    static int checkTrailing(String who, int[] shape, int[] normalizedShape) {
        int k = normalizedShape.length;
        boolean ok = shape.length >= k + 1 && shape.length <= 5
                && Arrays.equals(Arrays.copyOfRange(shape, shape.length - k, shape.length), normalizedShape);
        if (!ok) {
            throw new IllegalArgumentException(who + ": expected an input of rank " + (k + 1) + " to 5 ending with "
                    + Arrays.toString(normalizedShape) + ", got input shape " + Shape.str(shape));
        }
        return Shape.size(normalizedShape);
    }

    static Parameter ones(int[] shape) {
        float[] v = new float[Shape.size(shape)];
        Arrays.fill(v, 1f);
        return new Parameter(v, shape);
    }
}
