package org.norm4j.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.norm4j.nn.Parameter;

/**
 * Stochastic gradient descent, as torch.optim.SGD: d = g + weightDecay·p; with momentum,
 * buf = d on the first step, then buf = momentum·buf + (1 − dampening)·d, and d = buf (or
 * d + momentum·buf with Nesterov); p −= lr·d. In PyTorch 1.13's float arithmetic, the same bits
 * ({@link #update}; OptimizerTest against tools/make_sgd_fixture.py).
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

    /**
     * PyTorch 1.13's arithmetic, bit for bit: each {@code add_(x, alpha=a)} of torch.optim.SGD is one
     * fused multiply-add in float with the float alpha (measured: its vectorized kernel), so
     * d = fma(p, wd, g); buf = fma(d, 1 − dampening, buf·momentum) (buf = d at the first step);
     * d = fma(buf, momentum, d) with Nesterov, else buf; p = fma(d, −lr, p). Each hyperparameter is
     * rounded to float as PyTorch passes it to the kernel.
     */
    @Override
    protected void update(int index, float[] p, float[] g) {
        float negLr = (float) -lr, wd = (float) weightDecay, mom = (float) momentum, keep = (float) (1 - dampening);
        if (momentum == 0) {   // the recipe's case: one loop the compiler vectorizes
            if (weightDecay == 0) {
                for (int i = 0; i < p.length; i++) p[i] = Math.fma(g[i], negLr, p[i]);
            } else {
                for (int i = 0; i < p.length; i++) p[i] = Math.fma(Math.fma(p[i], wd, g[i]), negLr, p[i]);
            }
            return;
        }
        float[] buf = buffers[index];
        boolean first = buf == null;
        if (first) buf = buffers[index] = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            float d = weightDecay == 0 ? g[i] : Math.fma(p[i], wd, g[i]);
            float b = first ? d : Math.fma(d, keep, buf[i] * mom);
            buf[i] = b;
            d = nesterov ? Math.fma(b, mom, d) : b;
            p[i] = Math.fma(d, negLr, p[i]);
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
