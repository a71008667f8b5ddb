package org.norm4j.nn.fuse;

import java.util.ArrayList;
import java.util.List;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Tanh;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;

/**
 * Folds every eval-mode {@link BatchNorm} that directly follows a {@link Linear} or {@link Conv2d}
 * into that layer, as TFLite and torch.nn.utils.fusion do: per output channel o,
 * <pre>
 *   s[o] = gamma[o] / sqrt(var[o] + eps)                 (Lasagne: gamma·inv_std; DL4J: from log10 std)
 *   W'[o, ...] = W[o, ...] · s[o]
 *   b'[o]      = (b[o] − mean[o]) · s[o] + beta[o]        (b = 0 without a bias)
 * </pre>
 * computed in double, rounded once to float. A BN's fused activation becomes a layer after the
 * folded one. Where anything else stands between (an activation: {@code BN(relu(W x))} is not
 * affine in W x), or the BN normalizes another axis than the layer's output channels, that BN stays
 * and the report says why, naming both layers. Nested Sequentials are opened up (report indices
 * count the flattened layers). The input model is not modified.
 */
public final class Folding {
    private Folding() {}

    /** What folding did to one BN layer. */
    public record Entry(int index, String layer, boolean folded, String detail) {
        @Override
        public String toString() {
            return (folded ? "folded   " : "kept     ") + index + ": " + layer + (detail.isEmpty() ? "" : " — " + detail);
        }
    }

    /** The folded model and one entry per BN layer of the input. */
    public record Result(Sequential model, List<Entry> report) {
        public int foldedCount() {
            return (int) report.stream().filter(Entry::folded).count();
        }
    }

    /**
     * @throws IllegalStateException when any layer is in training mode (folding uses the running
     *                               statistics, which a training-mode BN does not normalize with)
     */
    public static Result fold(Sequential model) {
        List<Module> layers = model.flattenedLayers();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).isTraining() && layers.get(i) instanceof BatchNorm) {
                throw new IllegalStateException("fold: layer " + i + " (" + layers.get(i).describe()
                        + ") is in training mode; call eval() first: folding bakes in the running statistics");
            }
        }
        List<Module> out = new ArrayList<>();
        List<Entry> report = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            Module next = i + 1 < layers.size() ? layers.get(i + 1) : null;
            if ((m instanceof Linear || m instanceof Conv2d) && next instanceof BatchNorm bn) {
                String why = whyNot(bn, m instanceof Linear);
                if (why == null) {
                    out.add(m instanceof Linear l ? foldLinear(l, bn) : foldConv((Conv2d) m, bn));
                    Module act = activationLayer(bn.activation());
                    if (act != null) out.add(act);
                    report.add(new Entry(i + 1, bn.describe(), true, "into " + i + ": " + m.describe()
                            + (act != null ? ", its " + bn.activation() + " kept as a layer" : "")));
                    i++;
                    continue;
                }
                report.add(new Entry(i + 1, bn.describe(), false, why + " (after " + i + ": " + m.describe() + ")"));
                out.add(m);
                continue;
            }
            if (m instanceof BatchNorm bn) {
                String prev = i == 0 ? "it is the first layer" : "it follows " + (i - 1) + ": " + layers.get(i - 1).describe()
                        + ", not a Linear or Conv2d" + (isActivation(layers.get(i - 1))
                        ? " (an activation between them: BN(act(W x)) is not affine in W x, so it cannot fold)" : "");
                report.add(new Entry(i, bn.describe(), false, prev));
            }
            out.add(m);
        }
        Sequential folded = new Sequential(out);
        folded.eval();
        return new Result(folded, report);
    }

    private static String whyNot(BatchNorm bn, boolean afterLinear) {
        if (bn.runningMean() == null) return "it keeps no running statistics (trackRunningStats = false): it always uses batch statistics";
        boolean channels = bn.axis() == 1 || (afterLinear && bn.axis() == -1);   // a Linear's output is [N, C]
        if (!channels) return "it normalizes axis " + bn.axis() + ", not the layer's output channels (axis 1)";
        if (!bn.effectiveUseAverages()) return "it normalizes with batch statistics even in eval mode (useAverages is off)";
        return null;
    }

    /** s[o] = gamma[o]·invStd[o], shift[o] = beta[o] − mean[o]·s[o]; b' = b·s + shift. */
    private static double[][] scaleShift(BatchNorm bn) {
        int c = bn.numFeatures();
        double[] invStd = bn.inferenceInvStd(), s = new double[c], shift = new double[c];
        float[] mean = bn.runningMean().data();
        for (int o = 0; o < c; o++) {
            double g = bn.weight() == null ? 1 : bn.weight().data()[o];
            double b = bn.bias() == null ? 0 : bn.bias().data()[o];
            s[o] = g * invStd[o];
            shift[o] = b - mean[o] * s[o];
        }
        return new double[][] {s, shift};
    }

    private static Linear foldLinear(Linear l, BatchNorm bn) {
        checkChannels(l.outFeatures(), bn);
        double[][] ss = scaleShift(bn);
        Linear f = new Linear(l.inFeatures(), l.outFeatures(), true, new Rng(0));
        scaleInto(f.weight().data(), l.weight().data(), ss[0], l.inFeatures());
        biasInto(f.bias().data(), l.bias() == null ? null : l.bias().data(), ss);
        return f;
    }

    private static Conv2d foldConv(Conv2d c, BatchNorm bn) {
        checkChannels(c.outChannels(), bn);
        double[][] ss = scaleShift(bn);
        int[] ws = c.weight().shape();
        Convolution.Geometry g = c.geometry();
        Conv2d f = new Conv2d(ws[1] * g.groups(), ws[0], ws[2], ws[3], g, true, new Rng(0));
        scaleInto(f.weight().data(), c.weight().data(), ss[0], ws[1] * ws[2] * ws[3]);
        biasInto(f.bias().data(), c.bias() == null ? null : c.bias().data(), ss);
        return f;
    }

    private static void checkChannels(int out, BatchNorm bn) {
        if (out != bn.numFeatures()) {
            throw new IllegalArgumentException("fold: " + bn.describe() + " has " + bn.numFeatures() + " features but the layer before it has "
                    + out + " outputs");
        }
    }

    private static void scaleInto(float[] dst, float[] w, double[] s, int perRow) {
        for (int o = 0; o < s.length; o++) {
            for (int k = 0; k < perRow; k++) dst[o * perRow + k] = (float) (w[o * perRow + k] * s[o]);
        }
    }

    private static void biasInto(float[] dst, float[] b, double[][] ss) {
        for (int o = 0; o < dst.length; o++) dst[o] = (float) ((b == null ? 0 : b[o]) * ss[0][o] + ss[1][o]);
    }

    private static Module activationLayer(Activation a) {
        return switch (a) {
            case IDENTITY -> null;
            case RELU -> new ReLU();
            case SIGMOID -> new Sigmoid();
            case TANH -> new Tanh();
        };
    }

    private static boolean isActivation(Module m) {
        return m instanceof ReLU || m instanceof Sigmoid || m instanceof Tanh;
    }
}
