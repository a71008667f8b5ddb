package org.norm4j.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.nn.Parameter;

/**
 * Updates parameters from their accumulated gradients. Frozen parameters and parameters without a
 * gradient are skipped, as PyTorch skips {@code p.grad is None}. Per-parameter state (momentum
 * buffers, moments) is allocated on first use and exposed by {@link #state()} for checkpoints.
 */
public abstract class Optimizer {
    protected final List<Parameter> params;
    protected double lr;
    protected long steps;

    protected Optimizer(List<Parameter> params, double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be ≥ 0, got " + lr);
        this.params = new ArrayList<>(params);
        this.lr = lr;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        steps++;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            if (p.isFrozen() || p.grad() == null) continue;
            update(i, p.data(), p.gradBuffer());
        }
    }

    protected abstract void update(int index, float[] p, float[] grad);

    public void zeroGrad() {
        for (Parameter p : params) p.zeroGrad();
    }

    public double lr() {
        return lr;
    }

    public void lr(double lr) {
        this.lr = lr;
    }

    public long steps() {
        return steps;
    }

    /** The optimizer's per-parameter buffers by "index.name" (e.g. "3.momentum"), for checkpoints. */
    public Map<String, float[]> state() {
        return new LinkedHashMap<>();
    }

    /**
     * Restores buffers saved by {@link #state()} and the step count. Validates every entry first;
     * on a mismatch nothing changes.
     */
    public void loadState(Map<String, float[]> state, long steps) {
        Map<String, float[][]> slots = slots();
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            int index = dot < 0 ? -1 : parseIndex(key.substring(0, dot));
            float[][] slot = dot < 0 ? null : slots.get(key.substring(dot + 1));
            if (slot == null || index < 0 || index >= params.size() || e.getValue().length != params.get(index).size()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": optimizer state '" + key + "' does not fit the "
                        + params.size() + " parameters of this model");
            }
        }
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            slots.get(key.substring(dot + 1))[Integer.parseInt(key.substring(0, dot))] = e.getValue().clone();
        }
        this.steps = steps;
    }

    /** The per-parameter buffer arrays by name ("momentum", "expAvg", …), for {@link #loadState}. */
    protected Map<String, float[][]> slots() {
        return new LinkedHashMap<>();
    }

    private static int parseIndex(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
