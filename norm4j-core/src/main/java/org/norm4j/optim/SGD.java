package org.norm4j.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.nn.Parameter;

/**
 * Stochastic gradient descent, as torch.optim.SGD: d = g + weightDecay·p; with momentum,
 * buf = d on the first step, then buf = momentum·buf + (1 − dampening)·d, and d = buf (or
 * d + momentum·buf with Nesterov); p −= lr·d.
 */
public final class SGD extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;
    private final float[][] buffers;

    public SGD(List<Parameter> params, double lr) {
        this(params, lr, 0, 0, 0, false);
    }

    public SGD(List<Parameter> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super(params, lr);
        if (!(momentum >= 0) || !(weightDecay >= 0) || !(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("SGD: momentum and weight decay must be ≥ 0, dampening in [0, 1]");
        }
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.buffers = new float[params.size()][];
    }

    @Override
    protected void update(int index, float[] p, float[] g) {
        float[] buf = buffers[index];
        boolean first = buf == null && momentum != 0;
        if (first) buf = buffers[index] = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            double d = g[i] + weightDecay * p[i];
            if (momentum != 0) {
                double b = first ? d : momentum * buf[i] + (1 - dampening) * d;
                buf[i] = (float) b;
                d = nesterov ? d + momentum * b : b;
            }
            p[i] = (float) (p[i] - lr * d);
        }
    }

    @Override
    protected Map<String, float[][]> slots() {
        return Map.of("momentum", buffers);
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (int i = 0; i < buffers.length; i++) if (buffers[i] != null) s.put(i + ".momentum", buffers[i]);
        return s;
    }
}
