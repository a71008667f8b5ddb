package org.norm4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.ops.L2Penalty;
import org.norm4j.tensor.Tensor;

/**
 * A layer or a network: holds parameters (trainable), buffers (float state such as running
 * statistics), counters (long state such as num_batches_tracked), child modules, and a training
 * flag. Modules start in training mode, as in PyTorch. Names of nested state join with '.', as
 * in a PyTorch state dict ("1.runningMean"); the PyTorch spelling is applied only by
 * {@code org.norm4j.io}.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, long[]> counters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
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

    /** Sets the mode of this module and every child. */
    protected void setTraining(boolean training) {
        this.training = training;
        for (Module m : children.values()) m.setTraining(training);
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

    /** Registers a long counter held in a one-element array the module keeps using. */
    protected long[] registerCounter(String name, long[] holder) {
        counters.put(name, holder);
        return holder;
    }

    protected <M extends Module> M registerModule(String name, M child) {
        children.put(name, child);
        child.setTraining(training);
        return child;
    }

    /** This module and all its descendants, depth first, in registration order. */
    public List<Module> modules() {
        List<Module> all = new ArrayList<>();
        all.add(this);
        for (Module m : children.values()) all.addAll(m.modules());
        return all;
    }

    /** Direct children, by name. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this module and its descendants, by dotted name, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>(parameters);
        children.forEach((n, m) -> m.namedParameters().forEach((k, v) -> all.put(n + "." + k, v)));
        return Collections.unmodifiableMap(all);
    }

    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> all = new LinkedHashMap<>(buffers);
        children.forEach((n, m) -> m.namedBuffers().forEach((k, v) -> all.put(n + "." + k, v)));
        return Collections.unmodifiableMap(all);
    }

    /** Long state (one-element holders, writable), by dotted name. */
    public Map<String, long[]> namedCounters() {
        Map<String, long[]> all = new LinkedHashMap<>(counters);
        children.forEach((n, m) -> m.namedCounters().forEach((k, v) -> all.put(n + "." + k, v)));
        return Collections.unmodifiableMap(all);
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /**
     * Σ λ·Σp² over the parameters with an L2 coefficient, as a differentiable one-element tensor;
     * its backward adds 2λp to each gradient. Zero (and not recorded) when no parameter has one.
     */
    public Tensor regularizationLoss() {
        List<Parameter> ps = new ArrayList<>();
        for (Parameter p : parameters()) if (p.l2() > 0) ps.add(p);
        double[] lambdas = new double[ps.size()];
        for (int i = 0; i < lambdas.length; i++) lambdas[i] = ps.get(i).l2();
        return L2Penalty.forward(ps, lambdas);
    }
}
