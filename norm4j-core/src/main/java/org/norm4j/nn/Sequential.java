package org.norm4j.nn;

import java.util.ArrayList;
import java.util.List;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.tensor.Tensor;

/**
 * Modules applied in order, named "0", "1", … like torch.nn.Sequential, so that a network's state
 * has PyTorch's keys ("1.runningMean" is PyTorch's "1.running_mean").
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... layers) {
        for (Module m : layers) add(m);
    }

    public Sequential(List<? extends Module> layers) {
        for (Module m : layers) add(m);
    }

    private void add(Module m) {
        if (m == null) throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
        registerModule(String.valueOf(layers.size()), m);
        layers.add(m);
    }

    /**
     * The layers in order. A {@link BatchNorm} without its own activation followed by a Sigmoid,
     * ReLU or Tanh runs as one pass ({@link BatchNorm#forwardThen}): the same values and gradients,
     * one full-size array and one pass over it fewer in each direction; followed further by
     * AvgPool2d(2), the pooling joins it ({@link BatchNorm#forwardThenPool}), and the full-size
     * gradient between them is never written.
     */
    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            Activation next = i + 1 < layers.size() ? activationOf(layers.get(i + 1)) : null;
            if (next != null && m instanceof BatchNorm bn && bn.activation() == Activation.IDENTITY) {
                if (i + 2 < layers.size() && layers.get(i + 2) instanceof AvgPool2d p && p.kernel() == 2 && p.stride() == 2
                        && p.padding() == 0 && bn.fusesPool(x)) {
                    x = bn.forwardThenPool(x, next);
                    i += 2;
                    continue;
                }
                x = bn.forwardThen(x, next);
                i++;
            } else {
                x = m.forward(x);
            }
        }
        return x;
    }

    private static Activation activationOf(Module m) {
        if (m instanceof Sigmoid) return Activation.SIGMOID;
        if (m instanceof ReLU) return Activation.RELU;
        if (m instanceof Tanh) return Activation.TANH;
        return null;
    }

    public Module get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    public List<Module> layers() {
        return List.copyOf(layers);
    }

    /** The layers with nested Sequentials opened up, in order (how folding and ONNX export see a network). */
    public List<Module> flattenedLayers() {
        List<Module> all = new ArrayList<>();
        for (Module m : layers) {
            if (m instanceof Sequential s) all.addAll(s.flattenedLayers());
            else all.add(m);
        }
        return all;
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) sb.append(i == 0 ? "" : ", ").append(i).append(": ").append(layers.get(i).describe());
        return sb.append(')').toString();
    }
}
