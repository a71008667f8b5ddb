package org.norm4j.autograd;

import org.norm4j.tensor.Tensor;

/**
 * One recorded op on the tape: the tensors it read and how to send a gradient back to them.
 * Created by {@link Autograd#record}; released after one backward pass (like PyTorch without
 * {@code retain_graph}).
 */
public final class Node {
    final Tensor[] inputs;
    final Backward backward;
    final String opName;
    boolean released;

    Node(String opName, Backward backward, Tensor[] inputs) {
        this.opName = opName;
        this.backward = backward;
        this.inputs = inputs;
    }

    public String opName() {
        return opName;
    }

    /** An op's backward: given the output gradient, accumulate ({@code +=}) into the input gradients. */
    @FunctionalInterface
    public interface Backward {
        /**
         * @param dOut the gradient of the op's output (read only; an {@link InPlace} op may be
         *             handed it as dInputs[0])
         * @param dInputs one buffer per input to accumulate into, {@code null} for inputs that need no gradient
         */
        void apply(float[] dOut, float[][] dInputs);
    }

    /**
     * A backward that can also assign. {@code fresh[k]} says dInputs[k] is a buffer made for this
     * call whose contents are garbage (or, for an {@link InPlace} op, dOut itself): the op writes
     * every element of it (=) instead of adding (+=), which spares the zeroing of the buffer and a
     * read of it. A buffer another op has
     * already written into is never fresh; a leaf's gradient is fresh only while it is None
     * ({@link org.norm4j.tensor.Tensor#gradIsNone()}: before its first backward, or cleared).
     * Only the first input (the data: x of a layer) is ever fresh; the others (weights, biases,
     * a norm's gamma and beta) are always added into, zeros where nothing was there before.
     */
    @FunctionalInterface
    public interface Assigning extends Backward {
        void apply(float[] dOut, float[][] dInputs, boolean[] fresh);

        @Override
        default void apply(float[] dOut, float[][] dInputs) {
            apply(dOut, dInputs, new boolean[dInputs.length]);
        }
    }

    /**
     * An assigning backward that may be handed dOut's own array as its first input's gradient
     * ({@code dInputs[0] == dOut}, fresh) when the engine owns dOut and nothing reads it
     * afterwards (not the seed of {@link Autograd#backward}; the first gradient into a non-leaf
     * input of dOut's length, not also another input of the op). The op promises that no element
     * of dOut is read, for any purpose (its own parameters' gradients included) and by any of its
     * parallel tasks, after that element of dInputs[0] has been written. The store then
     * goes to a line the op has just read instead of a line it must first fetch: batch norm's dx
     * pass over [256, 64, 28, 28] took 3.0 instead of 4.2 ms on two threads (docs/benchmarks.md,
     * the twenty-fourth session), and one array fewer is held. The values are those of a separate
     * buffer, bit for bit.
     */
    @FunctionalInterface
    public interface InPlace extends Assigning {}
}
