package org.norm4j.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.nn.Parameter;

/**
 * Adam and AdamW, as torch.optim.Adam / AdamW. With step t:
 * m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², p −= lr·(m/(1 − β1^t)) / (sqrt(v/(1 − β2^t)) + eps).
 * Adam adds weightDecay·p to g (L2); AdamW first multiplies p by 1 − lr·weightDecay (decoupled).
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final float[][] m;
    private final float[][] v;

    /** torch.optim.Adam defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static Adam adam(List<Parameter> params, double lr) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    /** torch.optim.AdamW defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static Adam adamW(List<Parameter> params, double lr) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, 0.01, true);
    }

    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(params, lr);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("Adam: betas must be in [0, 1), eps and weight decay ≥ 0");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.m = new float[params.size()][];
        this.v = new float[params.size()][];
    }

    @Override
    protected void update(int index, float[] p, float[] g) {
        if (m[index] == null) {
            m[index] = new float[p.length];
            v[index] = new float[p.length];
        }
        float[] mi = m[index], vi = v[index];
        double c1 = 1 - Math.pow(beta1, steps), c2 = 1 - Math.pow(beta2, steps);
        for (int i = 0; i < p.length; i++) {
            double gi = g[i];
            if (decoupled) p[i] = (float) (p[i] * (1 - lr * weightDecay));
            else gi += weightDecay * p[i];
            mi[i] = (float) (beta1 * mi[i] + (1 - beta1) * gi);
            vi[i] = (float) (beta2 * vi[i] + (1 - beta2) * gi * gi);
            p[i] = (float) (p[i] - lr * (mi[i] / c1) / (Math.sqrt(vi[i] / c2) + eps));
        }
    }

    @Override
    protected Map<String, float[][]> slots() {
        return Map.of("expAvg", m, "expAvgSq", v);
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (int i = 0; i < m.length; i++) {
            if (m[i] != null) {
                s.put(i + ".expAvg", m[i]);
                s.put(i + ".expAvgSq", v[i]);
            }
        }
        return s;
    }
}
