package org.norm4j.tensor;

import java.util.Arrays;
import org.norm4j.autograd.Autograd;
import org.norm4j.autograd.Node;

/**
 * A float32 tensor: one contiguous row-major {@code float[]} and a shape of rank 1 to 5.
 *
 * <p>Autograd: a tensor that {@link #requiresGrad()} accumulates its gradient ({@code +=}) into
 * {@link #grad()} when {@link #backward(Tensor)} is called on a tensor computed from it; the op
 * that produced a non-leaf tensor is its {@link #gradFn()}. Gradients accumulate until
 * {@link #zeroGrad()} (PyTorch's {@code zero_grad(set_to_none=False)}) or {@link #clearGrad()}
 * ({@code x.grad = None}), as in PyTorch.
 *
 * <p>This class is not thread-safe; concurrent reads of a tensor nobody writes are fine.
 */
public class Tensor {
    private final float[] data;
    private final int[] shape;
    private boolean requiresGrad;
    private float[] grad;
    /** The gradient is None ({@link #clearGrad()}) while {@code grad} keeps its storage for the next backward. */
    private boolean gradCleared;
    private Node gradFn;
    private String name;

    /** Wraps {@code data} without copying; ops use this for freshly computed results. */
    protected Tensor(float[] data, int[] shape) {
        this.shape = Shape.checked(shape);
        if (data.length != Shape.size(this.shape)) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " needs " + Shape.size(this.shape)
                    + " values, got " + data.length);
        }
        this.data = data;
    }

    /** A new tensor holding a copy of {@code data}, which must have exactly prod(shape) values. */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(data.clone(), shape);
    }

    /** A new tensor that shares {@code data} (no copy): writes to either are seen by both. */
    public static Tensor wrap(float[] data, int... shape) {
        return new Tensor(data, shape);
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(new float[Shape.size(Shape.checked(shape))], shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shape.size(Shape.checked(shape))];
        Arrays.fill(d, value);
        return new Tensor(d, shape);
    }

    // ---- shape and data -------------------------------------------------------------------

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[Shape.axis(axis, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return data.length;
    }

    /** A copy of the values in row-major order. */
    public float[] toArray() {
        return data.clone();
    }

    /** The backing array itself, for ops and kernels; writing to it changes this tensor. */
    public float[] data() {
        return data;
    }

    public float item() {
        if (data.length != 1) throw new IllegalStateException(describe() + ": item() needs one element, tensor has " + data.length);
        return data[0];
    }

    /**
     * Overwrites the values with {@code src}, which must have exactly {@link #size()} values. On a
     * size mismatch nothing is written and the message names this tensor and both sizes.
     */
    public Tensor copyFrom(float[] src) {
        if (src == null || src.length != data.length) {
            throw new IllegalArgumentException(describe() + ": copyFrom got " + (src == null ? "null" : src.length + " values")
                    + ", expected " + data.length + " (shape " + Shape.str(shape) + ")");
        }
        System.arraycopy(src, 0, data, 0, data.length);
        return this;
    }

    /** Copies another tensor's values; the shapes must be equal. */
    public Tensor copyFrom(Tensor src) {
        if (!Arrays.equals(src.shape, shape)) {
            throw new IllegalArgumentException(describe() + ": copyFrom got shape " + Shape.str(src.shape)
                    + ", expected " + Shape.str(shape));
        }
        System.arraycopy(src.data, 0, data, 0, data.length);
        return this;
    }

    /** A new tensor with a copy of the values and no autograd history. */
    public Tensor detach() {
        return new Tensor(data.clone(), shape);
    }

    /** Same values (shared), another shape with the same number of elements. */
    public Tensor reshape(int... newShape) {
        if (Shape.size(Shape.checked(newShape)) != data.length) {
            throw new IllegalArgumentException(describe() + ": cannot reshape " + Shape.str(shape) + " (" + data.length
                    + " values) to " + Shape.str(newShape));
        }
        return new Tensor(data, newShape);
    }

    // ---- autograd -------------------------------------------------------------------------

    public Tensor requiresGrad(boolean requires) {
        if (!requires && gradFn != null) {
            throw new IllegalStateException(describe() + " is computed by an op; only leaf tensors can stop requiring grad (use detach())");
        }
        this.requiresGrad = requires;
        return this;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The accumulated gradient, sharing storage with this tensor's gradient buffer; null before any and after {@link #clearGrad()}. */
    public Tensor grad() {
        return gradIsNone() ? null : new Tensor(grad, shape);
    }

    /** The gradient buffer to add into, allocated (zeros) on first use and zeroed after {@link #clearGrad()}; for the autograd engine. */
    public float[] gradBuffer() {
        if (grad == null) grad = new float[data.length];
        else if (gradCleared) Arrays.fill(grad, 0f);
        gradCleared = false;
        return grad;
    }

    /** Whether the gradient is None: no backward has reached this tensor since it was created or {@link #clearGrad() cleared}. */
    public boolean gradIsNone() {
        return grad == null || gradCleared;
    }

    /**
     * The gradient buffer for a backward that writes every element of it ({@code =}), when
     * {@link #gradIsNone()}: the kept storage as it is (no zeroing), or a new one; for the autograd
     * engine. The gradient is no longer None afterwards, so later backwards add into it.
     */
    public float[] gradBufferToAssign() {
        if (!gradIsNone()) throw new IllegalStateException(describe() + ": the gradient holds values; add into gradBuffer() instead");
        if (grad == null) grad = new float[data.length];
        gradCleared = false;
        return grad;
    }

    /** Sets the gradient to zero (keeps the buffer), as {@code optimizer.zero_grad(set_to_none=False)}. */
    public void zeroGrad() {
        if (!gradIsNone()) Arrays.fill(grad, 0f);
    }

    /**
     * Sets the gradient to None, as PyTorch's {@code x.grad = None} ({@code zero_grad(set_to_none=True)}):
     * {@link #grad()} is null until the next backward reaches this tensor, and that backward assigns
     * its gradient instead of adding it to zeros (where its op can, {@link Node.Assigning}), into the
     * storage kept from before: no zero fill, no read of the old values, no new allocation. A tensor
     * obtained from {@link #grad()} earlier shares that storage and sees the new values then.
     */
    public void clearGrad() {
        if (grad != null) gradCleared = true;
    }

    public Node gradFn() {
        return gradFn;
    }

    /** Called by {@link Autograd#record}; marks this tensor as computed by {@code node}. */
    public void setGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Back-propagates {@code gradOutput} (same shape as this tensor) through the recorded ops. */
    public void backward(Tensor gradOutput) {
        if (!Arrays.equals(gradOutput.shape, shape)) {
            throw new IllegalArgumentException(describe() + ": backward got a gradient of shape " + Shape.str(gradOutput.shape)
                    + ", expected " + Shape.str(shape));
        }
        Autograd.backward(this, gradOutput.data);
    }

    /** Back-propagates 1 from a one-element tensor (a loss). */
    public void backward() {
        if (data.length != 1) {
            throw new IllegalStateException(describe() + ": backward() without a gradient needs a one-element tensor, shape is "
                    + Shape.str(shape));
        }
        Autograd.backward(this, new float[] {1f});
    }

    // ---- naming ---------------------------------------------------------------------------

    public Tensor name(String name) {
        this.name = name;
        return this;
    }

    public String name() {
        return name;
    }

    /** How messages refer to this tensor: its name, else "tensor [shape]". */
    protected String describe() {
        return name != null ? name : "tensor " + Shape.str(shape);
    }

    @Override
    public String toString() {
        int show = Math.min(data.length, 8);
        StringBuilder sb = new StringBuilder(describe()).append(' ').append(Shape.str(shape)).append(" [");
        for (int i = 0; i < show; i++) sb.append(i == 0 ? "" : ", ").append(data[i]);
        return sb.append(data.length > show ? ", ...]" : "]").toString();
    }
}
