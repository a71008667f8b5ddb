package org.norm4j.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Tensor;

/**
 * Central finite differences against the analytic backward, with loss = Σ out·dOut for a random
 * dOut (summed in double). Step h = 1e-2 on float32 forwards: truncation error ~h²·f''' and
 * rounding error ~1e-7·Σ|dOut·y|/h are both well under the tolerance of 2e-3 (atol and rtol),
 * while a wrong term in a backward is off by O(1).
 */
public final class GradCheck {
    static final double H = 1e-2, TOL = 2e-3;

    private GradCheck() {}

    /** Checks d(Σ f(x)·dOut)/d(x) and d/d(each of params) — the tensors must require grad. */
    public static void check(String label, Function<Tensor, Tensor> f, Tensor x, Tensor... params) {
        Random rnd = new Random(label.hashCode());
        Tensor out = f.apply(x);
        float[] dOut = new float[out.size()];
        for (int i = 0; i < dOut.length; i++) dOut[i] = (float) rnd.nextGaussian();
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(x);
        for (Tensor p : params) if (p != null) inputs.add(p);
        for (Tensor t : inputs) t.zeroGrad();
        out.backward(Tensor.wrap(dOut, out.shape()));
        for (int k = 0; k < inputs.size(); k++) {
            Tensor t = inputs.get(k);
            assertNotNull(t.grad(), label + ": input " + k + " got no gradient");
            float[] analytic = t.grad().toArray();
            double[] numeric = new double[t.size()];
            float[] v = t.data();
            for (int i = 0; i < v.length; i++) {
                float keep = v[i];
                v[i] = (float) (keep + H);
                double plus = loss(f, x, dOut);
                v[i] = (float) (keep - H);
                double minus = loss(f, x, dOut);
                v[i] = keep;
                numeric[i] = (plus - minus) / (2 * H);
            }
            Check.close(label + (k == 0 ? " dx" : " d(param " + k + ")"), analytic, numeric, TOL, TOL);
        }
    }

    private static double loss(Function<Tensor, Tensor> f, Tensor x, float[] dOut) {
        try (var g = Autograd.noGrad()) {
            float[] y = f.apply(x).data();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += (double) y[i] * dOut[i];
            return s;
        }
    }

    public static Tensor random(Random rnd, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.5 + 1.5 * rnd.nextGaussian());
        return Tensor.of(v, shape).requiresGrad(true);
    }

    public static void randomize(Random rnd, Tensor p, double center, double spread) {
        if (p == null) return;
        float[] v = p.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) (center + spread * rnd.nextGaussian());
    }
}
