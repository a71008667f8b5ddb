package org.norm4j.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * The tape: ops {@link #record} what they computed from what; {@link #backward} walks the recorded
 * graph once in reverse topological order, accumulating gradients ({@code +=}) into every leaf that
 * requires one. Recording is per thread and can be switched off with {@link #noGrad()}.
 */
public final class Autograd {
    private static final ThreadLocal<int[]> NO_GRAD_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Autograd() {}

    /** True unless the current thread is inside a {@link #noGrad()} scope. */
    public static boolean isGradEnabled() {
        return NO_GRAD_DEPTH.get()[0] == 0;
    }

    /** A scope in which nothing is recorded: {@code try (var g = Autograd.noGrad()) { ... }}. */
    public static NoGrad noGrad() {
        NO_GRAD_DEPTH.get()[0]++;
        return new NoGrad();
    }

    /** Closing ends the scope; scopes nest. */
    public static final class NoGrad implements AutoCloseable {
        private boolean closed;

        private NoGrad() {}

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                NO_GRAD_DEPTH.get()[0]--;
            }
        }
    }

    /** True when an op reading {@code inputs} should be recorded. */
    public static boolean needsGrad(Tensor... inputs) {
        if (!isGradEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /**
     * Records that {@code output} was computed from {@code inputs} (nulls allowed for absent
     * optional inputs) if any of them requires a gradient and recording is on.
     */
    public static void record(Tensor output, String opName, Node.Backward backward, Tensor... inputs) {
        if (needsGrad(inputs)) output.setGradFn(new Node(opName, backward, inputs.clone()));
    }

    /** The same for a backward that assigns into gradient buffers made for it ({@link Node.Assigning}). */
    public static void record(Tensor output, String opName, Node.Assigning backward, Tensor... inputs) {
        record(output, opName, (Node.Backward) backward, inputs);
    }

    /** The same for a backward that may be handed dOut's own array as its first input's gradient ({@link Node.InPlace}). */
    public static void recordInPlace(Tensor output, String opName, Node.InPlace backward, Tensor... inputs) {
        record(output, opName, (Node.Backward) backward, inputs);
    }

    /**
     * Whether {@link #backward} hands a {@link Node.InPlace} op dOut's own array as its input's
     * gradient (on by default): {@code -Dnorm4j.autograd.inPlace=false} or {@link #setInPlace}
     * turns it off, for comparisons; the values are the same.
     */
    private static volatile boolean inPlace = !"false".equals(System.getProperty("norm4j.autograd.inPlace"));

    /** Whether {@link Node.InPlace} ops are handed dOut ({@link #inPlace}). */
    public static boolean isInPlace() {
        return inPlace;
    }

    /** Sets whether {@link Node.InPlace} ops are handed dOut (to compare both settings in one JVM); returns the previous setting. */
    public static boolean setInPlace(boolean on) {
        boolean before = inPlace;
        inPlace = on;
        return before;
    }

    /** Back-propagates {@code seed} (the gradient of {@code root}) to every leaf that requires grad. */
    public static void backward(Tensor root, float[] seed) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad and was not computed from one that does");
        }
        if (root.isLeaf()) {
            accumulate(root.gradBuffer(), seed);
            return;
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, float[]> grads = new IdentityHashMap<>();
        grads.put(root, seed);   // read only: every backward treats dOut as input (Node.Backward), so no copy
        for (int i = order.size() - 1; i >= 0; i--) {
            Tensor t = order.get(i);
            Node node = t.gradFn();
            float[] dOut = grads.remove(t);
            if (dOut == null) continue;   // nothing flowed into this tensor
            float[][] dInputs = new float[node.inputs.length][];
            boolean assigning = node.backward instanceof Node.Assigning;
            // dOut is the engine's own (not the caller's seed) and no one reads it after this op:
            // an op that allows it writes its input's gradient over it (Node.InPlace)
            boolean donate = inPlace && node.backward instanceof Node.InPlace && dOut != seed;
            boolean[] fresh = new boolean[node.inputs.length];
            for (int k = 0; k < node.inputs.length; k++) {
                Tensor in = node.inputs[k];
                if (in == null || !in.requiresGrad()) continue;
                boolean assignable = assigning && k == 0 && onlyOnce(node.inputs, k);   // Node.Assigning: the data input only
                if (in.isLeaf()) {   // a gradient that is None is assigned, as a fresh buffer is
                    fresh[k] = assignable && in.gradIsNone();
                    dInputs[k] = fresh[k] ? in.gradBufferToAssign() : in.gradBuffer();
                    continue;
                }
                float[] g = grads.get(in);
                if (g == null) {   // the first gradient into this tensor: an op that assigns needs no zeros
                    fresh[k] = assignable;
                    if (fresh[k] && donate && dOut.length == in.size()) g = dOut;
                    else g = fresh[k] ? Workspace.uninitialized(in.size()) : Workspace.zeroed(in.size());
                    grads.put(in, g);
                }
                dInputs[k] = g;
            }
            if (assigning) ((Node.Assigning) node.backward).apply(dOut, dInputs, fresh);
            else node.backward.apply(dOut, dInputs);
            node.released = true;
        }
    }

    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();   // {tensor, next input index}
        stack.push(new Object[] {root, 0});
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            Node node = t.gradFn();
            if (node.released) {
                throw new IllegalStateException("backward: the graph through '" + node.opName
                        + "' was already used by a backward pass; run the forward pass again");
            }
            int k = (Integer) top[1];
            if (k < node.inputs.length) {
                top[1] = k + 1;
                Tensor in = node.inputs[k];
                if (in != null && !in.isLeaf() && seen.put(in, Boolean.TRUE) == null) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                order.add(t);   // post-order: inputs before the tensors computed from them
            }
        }
        return order;
    }

    /** Whether inputs[k] is not also another input of the same op (whose gradient would go into the same buffer). */
    private static boolean onlyOnce(Tensor[] inputs, int k) {
        for (int j = 0; j < inputs.length; j++) if (j != k && inputs[j] == inputs[k]) return false;
        return true;
    }

    private static void accumulate(float[] into, float[] g) {
        for (int i = 0; i < into.length; i++) into[i] += g[i];
    }
}
