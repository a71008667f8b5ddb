package org.norm4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.ops.L2Penalty;
import org.norm4j.tensor.Tensor;

/**
 * A layer or a network: holds parameters (trainable) and buffers (state such as running
 * statistics), and a training flag. Modules start in training mode, as in PyTorch.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private boolean training = true;

    public abstract Tensor forward(Tensor x);

    /** How messages name this module, e.g. "BatchNorm(numFeatures=64, convention=PYTORCH)". */
    public abstract String describe();

    public Module train() {
        setTraining(true);
        return this;
    }

    public Module eval() {
        setTraining(false);
        return this;
    }

    protected void setTraining(boolean training) {
        this.training = training;
    }

    public boolean isTraining() {
        return training;
    }

    /** Registers (or, with null, removes) a parameter under {@code name}; the tensor is named after this module. */
    protected Parameter registerParameter(String name, Parameter p) {
        if (p == null) {
            parameters.remove(name);
        } else {
            p.name(describe() + "." + name);
            parameters.put(name, p);
        }
        return p;
    }

    protected Tensor registerBuffer(String name, Tensor t) {
        if (t == null) {
            buffers.remove(name);
        } else {
            t.name(describe() + "." + name);
            buffers.put(name, t);
        }
        return t;
    }

    public Map<String, Parameter> namedParameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public Map<String, Tensor> namedBuffers() {
        return Collections.unmodifiableMap(buffers);
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(parameters.values());
    }

    public void zeroGrad() {
        for (Parameter p : parameters.values()) p.zeroGrad();
    }

    /**
     * Σ λ·Σp² over the parameters with an L2 coefficient, as a differentiable one-element tensor;
     * its backward adds 2λp to each gradient. Zero (and not recorded) when no parameter has one.
     */
    public Tensor regularizationLoss() {
        List<Parameter> ps = new ArrayList<>();
        for (Parameter p : parameters.values()) if (p.l2() > 0) ps.add(p);
        double[] lambdas = new double[ps.size()];
        for (int i = 0; i < lambdas.length; i++) lambdas[i] = ps.get(i).l2();
        return L2Penalty.forward(ps, lambdas);
    }
}
