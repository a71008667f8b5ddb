package org.norm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors.Entry;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Init;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.Fixture;

/**
 * norm4j's training of the d2l LeNet-BN step by step against PyTorch's: from the same initial
 * state and batches, SGD at lr 1.0 with the mean cross-entropy, the first step's logits and
 * gradients, every step's loss, the state dict after the last step (parameters and BN running
 * statistics) and eval-mode logits must agree to float32 rounding. The fixture is made by
 * tools/make_lenet_step_fixture.py; its header documents the SplitMix64 stream that both sides
 * draw the weights and images from, so the committed file stores neither.
 *
 * <p>A larger, local comparison on real Fashion-MNIST with PyTorch's own initialization (see the
 * script's {@code --real}) runs when {@code NORM4J_LENET_STEP_FIXTURE} names such a file.
 */
class LeNetStepFixtureTest {
    static final String ENV = "NORM4J_LENET_STEP_FIXTURE";

    /**
     * Per tensor, max |norm4j − PyTorch| ≤ RTOL·max |PyTorch|: float32 rounding of differently
     * ordered sums, grown over three steps at lr 1.0 (measured: at most 2.5e-5).
     */
    static final double RTOL = 1e-4;

    /** The inputs a fixture describes: the initial state, the training batches and the eval images. */
    record Setup(Map<String, Entry> init, List<Tensor> xs, List<int[]> ys, Tensor evalX) {}

    @Test
    void stepsMatchPyTorch() throws IOException {
        String local = System.getenv(ENV);
        f = local == null || local.isBlank() ? Fixture.load("lenet_steps") : Fixture.load(Path.of(local));
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        Setup s = setup(f, net);
        StateDict.load(net, s.init());
        SGD opt = new SGD(net.parameters(), Double.parseDouble(f.cfg("lr")));
        net.train();
        Map<String, Double> report = new LinkedHashMap<>();
        for (int step = 0; step < s.xs().size(); step++) {
            opt.zeroGrad();
            Tensor logits = net.forward(s.xs().get(step));
            Tensor loss = CrossEntropy.forward(logits, s.ys().get(step));
            loss.backward();
            if (step == 0) {
                report.put("logits.0", relClose("logits.0", logits.toArray(), f.get("logits.0")));
                for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                    String key = StateDict.torchKey(e.getKey());
                    float[] got = sampled(e.getValue().grad().toArray(), f.cfg("grad_limit")), want = f.get("grad0." + key);
                    String layer = key.substring(0, key.indexOf('.'));
                    report.put("grad0." + key, biasBeforeBn(net, key) ? zeroClose("grad0." + key, got, want, f.get("grad0." + layer + ".weight"))
                            : relClose("grad0." + key, got, want));
                }
            }
            report.put("loss." + step, relClose("loss." + step, loss.toArray(), f.get("loss." + step)));
            opt.step();
        }
        for (Map.Entry<String, Entry> e : StateDict.entries(net).entrySet()) {
            String key = e.getKey();
            if (!f.has("final." + key)) continue;   // num_batches_tracked (counted below)
            float[] got = e.getValue().floats(), want = f.get("final." + key);
            report.put("final." + key, relClose("final." + key, sampled(got, f.cfg("final_limit")), want));
            if (biasBeforeBn(net, key)) continue;   // its change is rounding noise (see zeroClose)
            float[] start = s.init().get(key).floats();
            double dsq = 0;
            for (int i = 0; i < got.length; i++) dsq += ((double) got[i] - start[i]) * ((double) got[i] - start[i]);
            report.put("dsq." + key, relClose("dsq." + key, new float[] {(float) dsq}, f.get("dsq." + key)));
        }
        assertEquals(s.init().get("1.num_batches_tracked").longs()[0] + s.xs().size(), ((BatchNorm) net.get(1)).numBatchesTracked(),
                "1.num_batches_tracked");
        net.eval();
        try (var g = Autograd.noGrad()) {
            report.put("eval.logits", relClose("eval.logits", net.forward(s.evalX()).toArray(), f.get("eval.logits")));
        }
        StringBuilder sb = new StringBuilder("LeNet-BN steps vs PyTorch (" + f.name + "), max |diff| / max |PyTorch| per tensor:");
        report.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "%n  %-22s %.2e", k, v))
                .append(f.has("f64drift." + k) ? String.format(Locale.ROOT, "   (PyTorch float32 vs float64: %.2e)", f.get("f64drift." + k)[0]) : ""));
        if (local != null && !local.isBlank()) System.out.println(sb);
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n" + sb);
    }

    /** The same steps through {@link Trainer#trainEpoch}: one epoch over the 38 images in batches of 16, 16 and 6. */
    @Test
    void trainerEpochMatchesPyTorch() throws IOException {
        f = Fixture.load("lenet_steps");
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        Setup s = setup(f, net);
        StateDict.load(net, s.init());
        int n = 0;
        for (int[] y : s.ys()) n += y.length;
        float[] images = new float[n * 784];
        int[] labels = new int[n];
        int at = 0;
        for (int b = 0; b < s.xs().size(); b++) {
            System.arraycopy(s.xs().get(b).data(), 0, images, at * 784, s.ys().get(b).length * 784);
            System.arraycopy(s.ys().get(b), 0, labels, at, s.ys().get(b).length);
            at += s.ys().get(b).length;
        }
        Dataset data = new Dataset("splitmix", images, labels, 28, 28, FashionMnist.CLASSES);
        DataLoader loader = new DataLoader(data, s.ys().get(0).length, false, 0);
        double[] lossAcc = Trainer.trainEpoch(net, loader, new SGD(net.parameters(), Double.parseDouble(f.cfg("lr"))), 1, new Trainer.Listener() {});
        double meanLoss = 0;
        for (int step = 0; step < s.ys().size(); step++) meanLoss += f.get("loss." + step)[0] * s.ys().get(step).length / (double) n;
        relClose("epoch mean loss", new float[] {(float) lossAcc[0]}, new float[] {(float) meanLoss});
        for (Map.Entry<String, Entry> e : StateDict.entries(net).entrySet()) {
            if (!f.has("final." + e.getKey())) continue;
            float[] want = f.get("final." + e.getKey());
            relClose("trainer final." + e.getKey(), sampled(e.getValue().floats(), f.cfg("final_limit")), want);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /**
     * {@link LeNet#build}'s initialization is d2l's: Xavier-uniform weights with PyTorch's fans
     * (conv: fanIn = in·k·k, fanOut = out·k·k; written out here, not taken from Init.fans), biases
     * U(±1/sqrt(fanIn)) as PyTorch's default, BN at weight 1, bias 0, running mean 0, running var 1.
     */
    @Test
    void initIsD2lXavier() {
        int[][] fans = {{0, 25, 150}, {4, 150, 400}, {9, 256, 120}, {12, 120, 84}, {15, 84, 10}};   // layer, fanIn, fanOut
        for (long seed = 0; seed < 3; seed++) {
            Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, seed);
            Map<String, Parameter> p = net.namedParameters();
            for (int[] f : fans) {
                double a = Math.sqrt(6.0 / (f[1] + f[2]));
                uniformIn(seed + " " + f[0] + ".weight", p.get(f[0] + ".weight").data(), a);
                uniformIn(seed + " " + f[0] + ".bias", p.get(f[0] + ".bias").data(), 1 / Math.sqrt(f[1]));
            }
            for (int layer : new int[] {1, 5, 10, 13}) {
                BatchNorm bn = (BatchNorm) net.get(layer);
                for (float v : bn.weight().data()) assertEquals(1f, v);
                for (float v : bn.bias().data()) assertEquals(0f, v);
                for (float v : bn.runningMean().data()) assertEquals(0f, v);
                for (float v : bn.runningVar().data()) assertEquals(1f, v);
            }
        }
    }

    /** All values in (−bound, bound); with enough of them, the largest near the bound and the variance near bound²/3. */
    private static void uniformIn(String label, float[] v, double bound) {
        double max = 0, sq = 0;
        for (float x : v) {
            max = Math.max(max, Math.abs(x));
            sq += (double) x * x;
        }
        assertTrue(max <= bound, label + ": max |value| " + max + " over the bound " + bound);
        if (v.length >= 150) {
            assertTrue(max > 0.95 * bound, label + ": max |value| " + max + " far below the bound " + bound);
            double ratio = sq / v.length / (bound * bound / 3);
            assertTrue(Math.abs(ratio - 1) < 0.25, label + ": variance / (bound²/3) = " + ratio);
        }
    }

    /** Messages of the comparisons that failed: all are reported together with the whole table. */
    private final List<String> failures = new ArrayList<>();

    /** The fixture being replayed. */
    private Fixture f;

    /**
     * Elementwise |got − want| ≤ tol·max|want|, tol = RTOL, or for a --real fixture 4× PyTorch's
     * own float32-vs-float64 difference on that tensor where that is larger (over tens of steps at
     * lr 1.0 rounding differences grow, on every side alike). Returns max |diff| / max |want|.
     */
    double relClose(String label, float[] got, float[] want) {
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        String drift = "f64drift." + label.substring(label.lastIndexOf(' ') + 1);
        double tol = f.has(drift) ? Math.max(RTOL, 4 * f.get(drift)[0]) : RTOL;
        return check(label, got, Check.toDouble(want), tol * scale) / Math.max(scale, 1e-30);
    }

    private double check(String label, float[] got, double[] want, double atol) {
        try {
            return Check.close(label, got, want, atol, 0);
        } catch (AssertionError e) {
            failures.add(e.getMessage());
            double maxDiff = 0;
            for (int i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
            return maxDiff;
        }
    }

    /**
     * The gradient of a bias right before a BN is 0 in exact arithmetic (the BN subtracts the
     * mean); on both sides it is rounding noise, so it is checked against the scale of the layer's
     * weight gradient instead: |got|, |want| ≤ RTOL·max|weight gradient|. Returns max |got − want| / that scale.
     */
    double zeroClose(String label, float[] got, float[] want, float[] weightGrad) {
        double scale = 0;
        for (float w : weightGrad) scale = Math.max(scale, Math.abs(w));
        check(label + " (PyTorch's, 0 in exact arithmetic)", want, new double[want.length], RTOL * scale);
        return check(label + " (0 in exact arithmetic)", got, new double[got.length], RTOL * scale) / scale;
    }

    /** Elements 0, s, 2s, … with s = ceil(n / limit), as the script stores large tensors; limit "none": all of them. */
    static float[] sampled(float[] v, String limit) {
        if (limit.equals("none")) return v;
        int l = Integer.parseInt(limit), stride = (v.length + l - 1) / l;
        float[] out = new float[(v.length + stride - 1) / stride];
        for (int i = 0; i < out.length; i++) out[i] = v[i * stride];
        return out;
    }

    static Setup setup(Fixture f, Sequential net) throws IOException {
        if (f.cfg("init").equals("splitmix")) return splitmixSetup(f, net);
        // init=state data=fashion-mnist: the initial state and the image indices are in the fixture
        Map<String, Entry> init = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : StateDict.entries(net).entrySet()) {
            String key = e.getKey();
            boolean counter = key.endsWith("num_batches_tracked");
            float[] v = f.has("init." + key) ? f.get("init." + key) : new float[1];
            init.put(key, counter ? Entry.i64Scalar((long) v[0]) : Entry.f32(v, e.getValue().shape()));
        }
        Path dir = FashionMnist.resolveDir(null);
        Dataset train = FashionMnist.load(dir, true), test = FashionMnist.load(dir, false);
        List<Tensor> xs = new ArrayList<>();
        List<int[]> ys = new ArrayList<>();
        for (int step = 0; step < Integer.parseInt(f.cfg("steps")); step++) {
            float[] idx = f.get("idx." + step);
            xs.add(gather(train, idx));
            int[] y = new int[idx.length];
            for (int i = 0; i < idx.length; i++) y[i] = train.labels()[(int) idx[i]];
            ys.add(y);
        }
        return new Setup(init, xs, ys, gather(test, f.get("eval.idx")));
    }

    static Tensor gather(Dataset d, float[] idx) {
        float[] x = new float[idx.length * 784];
        for (int i = 0; i < idx.length; i++) System.arraycopy(d.images(), (int) idx[i] * 784, x, i * 784, 784);
        return Tensor.wrap(x, idx.length, 1, 28, 28);
    }

    /** The committed fixture's inputs, drawn from the SplitMix64 stream in the script's order. */
    static Setup splitmixSetup(Fixture f, Sequential net) {
        SplitMix64 rng = new SplitMix64(Long.parseLong(f.cfg("splitmix_seed")));
        // BN layers keep LeNet.build's PyTorch defaults (initIsD2lXavier checks them), as the script's
        Map<String, Entry> fresh = StateDict.entries(net);
        Map<String, Entry> init = new LinkedHashMap<>(fresh);
        for (int layer = 0; layer < net.size(); layer++) {
            String w = layer + ".weight", b = layer + ".bias";
            if (!(net.get(layer) instanceof Conv2d || net.get(layer) instanceof Linear)) continue;
            long[] shape = fresh.get(w).shape();
            int[] ishape = new int[shape.length];
            for (int i = 0; i < shape.length; i++) ishape[i] = (int) shape[i];
            int[] fans = Init.fans(ishape);
            double a = Math.sqrt(6.0 / (fans[0] + fans[1]));
            float[] wv = new float[fresh.get(w).floats().length];
            for (int i = 0; i < wv.length; i++) wv[i] = (float) ((2 * rng.uniform() - 1) * a);
            double bound = 1 / Math.sqrt(fans[0]);
            float[] bv = new float[fresh.get(b).floats().length];
            for (int i = 0; i < bv.length; i++) bv[i] = (float) ((2 * rng.uniform() - 1) * bound);
            init.put(w, Entry.f32(wv, shape));
            init.put(b, Entry.f32(bv, fresh.get(b).shape()));
        }
        List<Tensor> xs = new ArrayList<>();
        List<int[]> ys = new ArrayList<>();
        for (String size : f.cfg("batches").split(",")) {
            int bs = Integer.parseInt(size);
            int[] y = new int[bs];
            xs.add(images(rng, bs, y));
            ys.add(y);
        }
        Tensor evalX = images(rng, Integer.parseInt(f.cfg("eval_images")), new int[Integer.parseInt(f.cfg("eval_images"))]);
        return new Setup(init, xs, ys, evalX);
    }

    /** A Conv2d/Linear bias followed by a BN: its gradient is 0 in exact arithmetic. */
    static boolean biasBeforeBn(Sequential net, String key) {
        int layer = Integer.parseInt(key.substring(0, key.indexOf('.')));
        return key.endsWith(".bias") && !(net.get(layer) instanceof BatchNorm) && layer + 1 < net.size() && net.get(layer + 1) instanceof BatchNorm;
    }

    /** Per image: a label draw, then 784 pixel draws (byte z >>> 56, below 96 set to 0, over 255). */
    static Tensor images(SplitMix64 rng, int n, int[] labels) {
        float[] x = new float[n * 784];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) ((rng.next() >>> 32) % 10);
            for (int p = 0; p < 784; p++) {
                long b = rng.next() >>> 56;
                x[i * 784 + p] = (b < 96 ? 0f : (float) b) / 255f;
            }
        }
        return Tensor.wrap(x, n, 1, 28, 28);
    }

    /** SplitMix64 (Steele, Lea, Flood), as in tools/make_lenet_step_fixture.py. */
    static final class SplitMix64 {
        private long state;

        SplitMix64(long seed) {
            state = seed;
        }

        long next() {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** (z >>> 40)·2⁻²⁴, in [0, 1), exact in float and double. */
        double uniform() {
            return (next() >>> 40) * 0x1p-24;
        }
    }
}
