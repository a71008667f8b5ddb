package org.norm4j.cli.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.norm4j.nn.Init;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Tanh;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;

/**
 * The classic deep-stack demonstration: {@code depth} fully connected layers of {@code width}
 * units, each Linear → [BatchNorm1d] → activation, then Linear(width, classes); one forward pass of
 * a batch and one backward pass of its cross-entropy loss, with what every hidden layer did
 * recorded. Both variants draw the same weights from the same seed (biases start at zero), so
 * "with BN" and "without BN" differ only by the normalization. BN is PyTorch's BatchNorm1d in
 * training mode (batch statistics, gamma 1, beta 0).
 */
final class DeepNet {
    private DeepNet() {}

    enum Act {
        sigmoid, tanh, relu;

        Module module() {
            return switch (this) {
                case sigmoid -> new Sigmoid();
                case tanh -> new Tanh();
                case relu -> new ReLU();
            };
        }

        /** The histogram range: the activation's range, or [0, 4] for ReLU (larger values go to the last bin). */
        double[] range() {
            return switch (this) {
                case sigmoid -> new double[] {0, 1};
                case tanh -> new double[] {-1, 1};
                case relu -> new double[] {0, 4};
            };
        }

        /** Whether a value is saturated (sigmoid, tanh: within 0.01 of a bound) or inactive (ReLU: zero). */
        boolean saturated(float v) {
            return switch (this) {
                case sigmoid -> v < 0.01f || v > 0.99f;
                case tanh -> Math.abs(v) > 0.99f;
                case relu -> v <= 0f;
            };
        }

        String saturatedName() {
            return this == relu ? "zero (inactive)" : "saturated (within 0.01 of a bound)";
        }
    }

    /**
     * How weights are drawn, by fan-in and fan-out: {@code xavier} (Glorot uniform, what d2l uses),
     * {@code kaiming} (He normal), {@code torch} (PyTorch's Linear default, U(±1/sqrt(fanIn))),
     * {@code normal:STD} (N(0, STD²), the classic demonstration's std 1 and 0.01).
     */
    record InitScheme(String name, double std) {
        static InitScheme parse(String s) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            switch (t) {
                case "xavier", "kaiming", "torch" -> {
                    return new InitScheme(t, Double.NaN);
                }
                default -> { }
            }
            if (t.startsWith("normal:")) {
                double std;
                try {
                    std = Double.parseDouble(t.substring("normal:".length()));
                } catch (NumberFormatException e) {
                    std = Double.NaN;
                }
                if (std > 0 && Double.isFinite(std)) return new InitScheme("normal", std);
            }
            throw new IllegalArgumentException("--init must be xavier, kaiming, torch or normal:STD with STD > 0 (e.g. normal:1), got '" + s + "'");
        }

        void apply(Parameter w, int fanIn, int fanOut, Rng rng) {
            switch (name) {
                case "xavier" -> Init.xavierUniform(w, fanIn, fanOut, rng);
                case "kaiming" -> Init.kaimingNormal(w, fanIn, rng);
                case "torch" -> Init.torchDefault(w, fanIn, rng);
                default -> Init.normal(w, std, rng);
            }
        }

        @Override
        public String toString() {
            return name.equals("normal") ? "normal:" + std : name;
        }
    }

    /** What one hidden layer's activations looked like, and its weight's gradient. */
    record Layer(int index, float[] values, double mean, double std, double batchSpread, double saturated, double gradNorm) {}

    /** The hidden layers, first to last, and the loss of the batch. */
    record Probe(List<Layer> layers, double loss) {
        double[] column(java.util.function.ToDoubleFunction<Layer> f) {
            return layers.stream().mapToDouble(f).toArray();
        }
    }

    /** The network: Linear → [BN] → act, {@code depth} times, then Linear(width, classes). */
    static List<Module> build(int inputs, int classes, int depth, int width, Act act, InitScheme init, boolean bn, long seed) {
        Rng rng = new Rng(seed);
        List<Module> layers = new ArrayList<>();
        int in = inputs;
        for (int l = 0; l < depth; l++) {
            layers.add(linear(in, width, init, rng));
            if (bn) layers.add(BatchNorm.builder(Convention.PYTORCH, width).axis(1).build());
            layers.add(act.module());
            in = width;
        }
        layers.add(linear(in, classes, init, rng));
        return layers;
    }

    private static Linear linear(int in, int out, InitScheme init, Rng rng) {
        Linear l = new Linear(in, out, true, rng);
        init.apply(l.weight(), in, out, rng);
        java.util.Arrays.fill(l.bias().data(), 0f);
        return l;
    }

    /**
     * One forward pass of {@code x} [N, inputs] (N ≥ 2) in training mode and one backward pass of
     * the mean cross-entropy against {@code labels}; per hidden layer: the activations, their
     * mean and standard deviation over all values, the batch spread (the standard deviation over
     * the batch of each unit, averaged over units: what tells the images apart, and what BN
     * normalizes), the share saturated and ‖∂loss/∂W‖ of the layer's Linear weight (Frobenius).
     */
    static Probe probe(Tensor x, int[] labels, int classes, int depth, int width, Act act, InitScheme init, boolean bn, long seed) {
        List<Module> layers = build(x.dim(1), classes, depth, width, act, init, bn, seed);
        List<Linear> linears = new ArrayList<>();
        List<float[]> outputs = new ArrayList<>();
        Tensor h = x;
        for (Module m : layers) {
            m.train();
            h = m.forward(h);
            if (m instanceof Linear l) linears.add(l);
            if (m instanceof Sigmoid || m instanceof Tanh || m instanceof ReLU) outputs.add(h.data());
        }
        Tensor loss = CrossEntropy.forward(h, labels);
        loss.backward();
        int n = x.dim(0);
        List<Layer> result = new ArrayList<>();
        for (int l = 0; l < depth; l++) {
            float[] v = outputs.get(l);
            result.add(new Layer(l + 1, v.clone(), mean(v), std(v), batchSpread(v, n, width), saturatedShare(v, act), norm(linears.get(l).weight().grad().data())));
        }
        return new Probe(result, loss.item());
    }

    static double mean(float[] v) {
        double s = 0;
        for (float f : v) s += f;
        return s / v.length;
    }

    /** Standard deviation of all values (biased, two-pass in double). */
    static double std(float[] v) {
        double m = mean(v), s = 0;
        for (float f : v) s += (f - m) * (f - m);
        return Math.sqrt(s / v.length);
    }

    /** For v [n, units]: the biased standard deviation over the n rows of each unit, averaged over units. */
    static double batchSpread(float[] v, int n, int units) {
        double total = 0;
        for (int u = 0; u < units; u++) {
            double m = 0;
            for (int i = 0; i < n; i++) m += v[i * units + u];
            m /= n;
            double s = 0;
            for (int i = 0; i < n; i++) {
                double d = v[i * units + u] - m;
                s += d * d;
            }
            total += Math.sqrt(s / n);
        }
        return total / units;
    }

    static double saturatedShare(float[] v, Act act) {
        long k = 0;
        for (float f : v) if (act.saturated(f)) k++;
        return (double) k / v.length;
    }

    static double norm(float[] g) {
        double s = 0;
        for (float f : g) s += (double) f * f;
        return Math.sqrt(s);
    }

    /** Share of {@code v} in each of {@code bins} equal bins over [lo, hi]; values outside go to the first or last bin. */
    static double[] histogram(float[] v, double lo, double hi, int bins) {
        double[] h = new double[bins];
        for (float f : v) {
            int b = (int) Math.floor((f - lo) / (hi - lo) * bins);
            h[Math.max(0, Math.min(bins - 1, b))]++;
        }
        for (int i = 0; i < bins; i++) h[i] /= v.length;
        return h;
    }
}
