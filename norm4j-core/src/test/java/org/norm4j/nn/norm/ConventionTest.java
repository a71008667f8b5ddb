package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

/**
 * Each convention against a double-precision reference written here from that framework's own
 * rules (docs/conventions.md cites the source of each): several training steps (output, running
 * statistics), then inference with the running statistics.
 */
class ConventionTest {

    /** A framework's running-statistics rule, written the way its source writes it. */
    interface Rule {
        /** Folds one batch (biased variance, count n per channel) into the state; step counts from 1. */
        void update(double[] mean, double[] varBiased, long count, long step);

        /** Per channel: the mean and 1/std that inference normalizes with. */
        double[] inferenceMean();

        double[] inferenceInvStd();

        /** The running values as the framework stores them (mean, then its spread). */
        double[] storedMean();

        double[] storedSpread();
    }

    /** moving ← a·moving + (1 − a)·batch on mean and a variance; inference 1/sqrt(var + eps). */
    static Rule emaOnVariance(int c, double eps, java.util.function.LongToDoubleFunction weightOfNew, boolean unbiased) {
        double[] m = new double[c], v = new double[c];
        java.util.Arrays.fill(v, 1);
        return new Rule() {
            public void update(double[] mean, double[] varBiased, long n, long step) {
                double w = weightOfNew.applyAsDouble(step);
                for (int i = 0; i < c; i++) {
                    double var = unbiased ? varBiased[i] * n / (n - 1) : varBiased[i];
                    m[i] = (1 - w) * m[i] + w * mean[i];
                    v[i] = (1 - w) * v[i] + w * var;
                }
            }
            public double[] inferenceMean() { return m.clone(); }
            public double[] inferenceInvStd() {
                double[] r = new double[c];
                for (int i = 0; i < c; i++) r[i] = 1 / Math.sqrt(v[i] + eps);
                return r;
            }
            public double[] storedMean() { return m.clone(); }
            public double[] storedSpread() { return v.clone(); }
        };
    }

    /** Lasagne: inv_std = 1/sqrt(var + eps) per batch; running = (1 − alpha)·running + alpha·batch on mean and inv_std. */
    static Rule lasagne(int c, double eps, double alpha) {
        double[] m = new double[c], invStd = new double[c];
        java.util.Arrays.fill(invStd, 1);
        return new Rule() {
            public void update(double[] mean, double[] varBiased, long n, long step) {
                for (int i = 0; i < c; i++) {
                    m[i] = (1 - alpha) * m[i] + alpha * mean[i];
                    invStd[i] = (1 - alpha) * invStd[i] + alpha / Math.sqrt(varBiased[i] + eps);
                }
            }
            public double[] inferenceMean() { return m.clone(); }
            public double[] inferenceInvStd() { return invStd.clone(); }
            public double[] storedMean() { return m.clone(); }
            public double[] storedSpread() { return invStd.clone(); }
        };
    }

    /** DL4J useLogStd: var_{t+1} = d·var_t + (1 − d)·batchVar (biased), stored log10(sqrt(var)); inference std = sqrt(var + eps). */
    static Rule dl4j(int c, double eps, double decay) {
        double[] m = new double[c], log10Std = new double[c];
        return new Rule() {
            public void update(double[] mean, double[] varBiased, long n, long step) {
                for (int i = 0; i < c; i++) {
                    m[i] = decay * m[i] + (1 - decay) * mean[i];
                    double var = Math.pow(Math.pow(10, log10Std[i]), 2);
                    log10Std[i] = Math.log10(Math.sqrt(decay * var + (1 - decay) * varBiased[i]));
                }
            }
            public double[] inferenceMean() { return m.clone(); }
            public double[] inferenceInvStd() {
                double[] r = new double[c];
                for (int i = 0; i < c; i++) r[i] = 1 / Math.sqrt(Math.pow(Math.pow(10, log10Std[i]), 2) + eps);
                return r;
            }
            public double[] storedMean() { return m.clone(); }
            public double[] storedSpread() { return log10Std.clone(); }
        };
    }

    /** TF1 zero_debias_moving_mean: biased −= (biased − mean)(1 − decay); mean = biased/(1 − decay^t); variance plain, unbiased. */
    static Rule tfZeroDebias(int c, double eps, double decay) {
        Rule plain = emaOnVariance(c, eps, n -> 1 - decay, true);
        double[] biased = new double[c], debiased = new double[c];
        return new Rule() {
            public void update(double[] mean, double[] varBiased, long n, long step) {
                plain.update(mean, varBiased, n, step);
                for (int i = 0; i < c; i++) {
                    biased[i] -= (biased[i] - mean[i]) * (1 - decay);
                    debiased[i] = biased[i] / (1 - Math.pow(decay, step));
                }
            }
            public double[] inferenceMean() { return debiased.clone(); }
            public double[] inferenceInvStd() { return plain.inferenceInvStd(); }
            public double[] storedMean() { return debiased.clone(); }
            public double[] storedSpread() { return plain.storedSpread(); }
        };
    }

    static Rule reference(Convention conv, int c) {
        return switch (conv) {
            case PYTORCH -> emaOnVariance(c, 1e-5, n -> 0.1, true);                          // momentum·batch + (1 − momentum)·running
            case KERAS -> emaOnVariance(c, 1e-3, n -> 1 - 0.99, false);                      // moving·momentum + batch·(1 − momentum)
            case TF_CONTRIB -> emaOnVariance(c, 1e-3, n -> 1 - 0.999, true);                 // fused kernel: Bessel-corrected
            case LASAGNE -> lasagne(c, 1e-4, 0.1);
            case PUZZLELIB -> emaOnVariance(c, 1e-5, n -> Math.max(1.0 / n, 0.1), true);     // factor = max(initFactor/n, minFactor)
            case D2L -> emaOnVariance(c, 1e-5, n -> 1 - 0.9, false);                         // momentum·moving + (1 − momentum)·batch
            case DL4J -> dl4j(c, 1e-5, 0.9);
            case ONNX -> emaOnVariance(c, 1e-5, n -> 1 - 0.9, false);                        // input_mean·momentum + current_mean·(1 − momentum)
        };
    }

    static final int N = 5, H = 3, W = 4, C = 3;

    @ParameterizedTest
    @EnumSource(Convention.class)
    void followsTheFrameworksRules(Convention conv) {
        checkAgainst(conv, BatchNorm.of(conv, C), reference(conv, C));
    }

    @Test
    void tfContribZeroDebiasedMovingMean() {
        BatchNorm bn = BatchNorm.builder(Convention.TF_CONTRIB, C).momentum(0.9).zeroDebiasMovingMean(true).build();
        checkAgainst(Convention.TF_CONTRIB, bn, tfZeroDebias(C, 1e-3, 0.9));
    }

    private static void checkAgainst(Convention conv, BatchNorm bn, Rule ref) {
        boolean channelsLast = conv.axis() == -1;
        int[] shape = channelsLast ? new int[] {N, H, W, C} : new int[] {N, C, H, W};
        Random rnd = new Random(conv.ordinal() + 17);
        double[] gamma = new double[C], beta = new double[C];
        for (int c = 0; c < C; c++) {
            gamma[c] = 0.5 + rnd.nextDouble();
            beta[c] = rnd.nextGaussian();
        }
        if (bn.weight() != null) bn.weight().copyFrom(Check.toFloat(gamma));
        else java.util.Arrays.fill(gamma, 1);
        if (bn.bias() != null) bn.bias().copyFrom(Check.toFloat(beta));
        else java.util.Arrays.fill(beta, 0);
        for (long step = 1; step <= 4; step++) {
            float[] x = randomInput(rnd, shape, channelsLast);
            double[][] stats = batchStats(x, shape, channelsLast);
            Tensor xt = Tensor.of(x, shape).requiresGrad(true);
            Tensor y = bn.forward(xt);
            y.backward(Tensor.of(new float[x.length], shape));   // DL4J updates in backprop
            ref.update(stats[0], stats[1], (long) N * H * W, step);
            double[] invStd = new double[C];
            for (int c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(stats[1][c] + bn.eps());
            Check.close(conv + " train y step " + step, y.toArray(), normalize(x, shape, channelsLast, stats[0], invStd, gamma, beta), 2e-6, 2e-6);
            Check.close(conv + " running mean step " + step, bn.runningMean().toArray(), ref.storedMean(), 1e-6, 1e-6);
            Tensor spread = bn.runningVar() != null ? bn.runningVar() : bn.runningInvStd() != null ? bn.runningInvStd() : bn.runningLog10Std();
            Check.close(conv + " running spread step " + step, spread.toArray(), ref.storedSpread(), 1e-6, 1e-6);
        }
        bn.eval();
        float[] x = randomInput(rnd, shape, channelsLast);
        Tensor y = bn.forward(Tensor.of(x, shape));
        Check.close(conv + " inference y", y.toArray(),
                normalize(x, shape, channelsLast, ref.inferenceMean(), ref.inferenceInvStd(), gamma, beta), 4e-6, 4e-6);
    }

    static float[] randomInput(Random rnd, int[] shape, boolean channelsLast) {
        float[] x = new float[N * C * H * W];
        for (int i = 0; i < x.length; i++) {
            int c = channel(i, shape, channelsLast);
            x[i] = (float) (c - 1 + (1 + c) * rnd.nextGaussian());
        }
        return x;
    }

    static int channel(int i, int[] shape, boolean channelsLast) {
        return channelsLast ? i % C : (i / (H * W)) % C;
    }

    /** Per-channel mean and biased variance, two-pass in double. */
    static double[][] batchStats(float[] x, int[] shape, boolean channelsLast) {
        double[] mean = new double[C], var = new double[C];
        double n = x.length / C;
        for (int i = 0; i < x.length; i++) mean[channel(i, shape, channelsLast)] += x[i] / n;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - mean[channel(i, shape, channelsLast)];
            var[channel(i, shape, channelsLast)] += d * d / n;
        }
        return new double[][] {mean, var};
    }

    static double[] normalize(float[] x, int[] shape, boolean channelsLast, double[] mean, double[] invStd, double[] gamma, double[] beta) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = channel(i, shape, channelsLast);
            y[i] = gamma[c] * (x[i] - mean[c]) * invStd[c] + beta[c];
        }
        return y;
    }

    // ---- the defaults table of docs/conventions.md, as known numbers -----------------------

    @Test
    void presetDefaults() {
        record Row(Convention c, double eps, RunningAverage rule, VarianceEstimator var, StatStorage storage, int axis,
                   boolean gamma, boolean beta) {}
        Row[] rows = {
            new Row(Convention.PYTORCH, 1e-5, new RunningAverage.WeightOfNew(0.1), VarianceEstimator.UNBIASED, StatStorage.VAR, 1, true, true),
            new Row(Convention.KERAS, 1e-3, new RunningAverage.WeightOfOld(0.99), VarianceEstimator.BIASED, StatStorage.VAR, -1, true, true),
            new Row(Convention.TF_CONTRIB, 1e-3, new RunningAverage.WeightOfOld(0.999), VarianceEstimator.UNBIASED, StatStorage.VAR, -1, false, true),
            new Row(Convention.LASAGNE, 1e-4, new RunningAverage.WeightOfNew(0.1), VarianceEstimator.BIASED, StatStorage.INV_STD, 1, true, true),
            new Row(Convention.PUZZLELIB, 1e-5, new RunningAverage.CumulativeThenEma(1.0, 0.1), VarianceEstimator.UNBIASED, StatStorage.VAR, 1, true, true),
            new Row(Convention.D2L, 1e-5, new RunningAverage.WeightOfOld(0.9), VarianceEstimator.BIASED, StatStorage.VAR, 1, true, true),
            new Row(Convention.DL4J, 1e-5, new RunningAverage.WeightOfOld(0.9), VarianceEstimator.BIASED, StatStorage.LOG10_STD, 1, true, true),
            new Row(Convention.ONNX, 1e-5, new RunningAverage.WeightOfOld(0.9), VarianceEstimator.BIASED, StatStorage.VAR, 1, true, true),
        };
        assertEquals(Convention.values().length, rows.length, "every convention has a row");
        for (Row r : rows) {
            BatchNorm bn = BatchNorm.of(r.c, 4);
            assertEquals(r.eps, bn.eps(), r.c + " eps");
            assertEquals(r.rule, bn.runningAverage(), r.c + " running average");
            assertEquals(r.var, bn.runningVariance(), r.c + " running variance");
            assertEquals(r.storage, bn.storage(), r.c + " storage");
            assertEquals(r.axis, bn.axis(), r.c + " axis");
            assertEquals(r.gamma, bn.weight() != null, r.c + " has gamma");
            assertEquals(r.beta, bn.bias() != null, r.c + " has beta");
            assertEquals(0f, bn.runningMean().toArray()[0], r.c + " running mean starts at 0");
        }
    }

    @Test
    void momentumMeansWhatTheFrameworkSays() {
        assertEquals(new RunningAverage.WeightOfNew(0.3), BatchNorm.builder(Convention.PYTORCH, 2).momentum(0.3).build().runningAverage());
        assertEquals(new RunningAverage.Cumulative(), BatchNorm.builder(Convention.PYTORCH, 2).momentum(null).build().runningAverage());
        assertEquals(new RunningAverage.WeightOfOld(0.9), BatchNorm.builder(Convention.KERAS, 2).momentum(0.9).build().runningAverage());
        assertEquals(new RunningAverage.WeightOfNew(0.2), BatchNorm.builder(Convention.LASAGNE, 2).momentum(0.2).build().runningAverage());
        assertEquals(new RunningAverage.CumulativeThenEma(1.0, 0.05), BatchNorm.builder(Convention.PUZZLELIB, 2).momentum(0.05).build().runningAverage());
        assertEquals(new RunningAverage.WeightOfOld(0.5), BatchNorm.builder(Convention.DL4J, 2).momentum(0.5).build().runningAverage());
        assertEquals(new RunningAverage.WeightOfOld(0.8), BatchNorm.builder(Convention.ONNX, 2).momentum(0.8).build().runningAverage());
    }

    // ---- framework-specific behaviour --------------------------------------------------------

    /** PuzzleLib's documented example: arange(18) as [3, 6]; running mean 6..11, running var 36 (unbiased). */
    @Test
    void puzzleLibDocumentationExample() {
        float[] data = new float[18];
        for (int i = 0; i < 18; i++) data[i] = i;
        BatchNorm bn = BatchNorm.of(Convention.PUZZLELIB, 6);
        bn.weight().copyFrom(new float[] {1, 1, 1, 1, 1, 1});
        Tensor y = bn.forward(Tensor.of(data, 3, 6));
        Check.close("running mean", bn.runningMean().toArray(), new double[] {6, 7, 8, 9, 10, 11}, 0, 0);
        Check.close("running var", bn.runningVar().toArray(), new double[] {36, 36, 36, 36, 36, 36}, 0, 0);
        double z = 6 / Math.sqrt(24 + 1e-5);
        double[] want = new double[18];
        for (int i = 0; i < 18; i++) want[i] = (i / 6 - 1) * z;
        Check.close("output", y.toArray(), want, 1e-6, 1e-6);
    }

    /** PuzzleLib initializes its scale with normal(1, sscale = 0.01). */
    @Test
    void puzzleLibGammaIsNormalOneSscale() {
        float[] g = BatchNorm.builder(Convention.PUZZLELIB, 20000).seed(7).build().weight().toArray();
        double mean = 0, var = 0;
        for (float v : g) mean += v / g.length;
        for (float v : g) var += (v - mean) * (v - mean) / (g.length - 1);
        assertEquals(1.0, mean, 4 * 0.01 / Math.sqrt(g.length), "mean of gamma");
        assertEquals(0.01, Math.sqrt(var), 0.01 * 0.05, "std of gamma");
        float[] g2 = BatchNorm.builder(Convention.PUZZLELIB, 20000).seed(7).build().weight().toArray();
        Check.close("same seed, same gamma", g2, g, 0, 0);
        float[] e = BatchNorm.builder(Convention.PUZZLELIB, 5).empty(true).build().weight().toArray();
        Check.close("empty: not initialized", e, new double[5], 0, 0);
    }

    /** DL4J updates the running statistics in backprop: a training forward alone leaves them alone. */
    @Test
    void dl4jUpdatesInBackprop() {
        BatchNorm bn = BatchNorm.of(Convention.DL4J, 2);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 6, 5, 4}, 3, 2).requiresGrad(true);
        Tensor y = bn.forward(x);
        Check.close("no update after forward", bn.runningMean().toArray(), new double[] {0, 0}, 0, 0);
        assertEquals(0, bn.numBatchesTracked());
        y.backward(Tensor.zeros(3, 2));
        Check.close("update after backward", bn.runningMean().toArray(), new double[] {0.1 * 3, 0.1 * 4}, 1e-7, 1e-6);
        try (var g = Autograd.noGrad()) {
            bn.forward(x);
        }
        assertEquals(1, bn.numBatchesTracked(), "no backprop, no update");
    }

    /** Keras (TF2): a layer with trainable = false runs in inference mode, even in training. */
    @Test
    void kerasFrozenLayerRunsInInference() {
        BatchNorm bn = BatchNorm.of(Convention.KERAS, 2);
        bn.runningMean().copyFrom(new float[] {1, 2});
        bn.trainable(false);
        Tensor y = bn.forward(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
        double s = 1 / Math.sqrt(1 + 1e-3);
        Check.close("normalized with the moving statistics", y.toArray(), new double[] {0, 0, 2 * s, 2 * s}, 1e-6, 1e-6);
        Check.close("moving mean untouched", bn.runningMean().toArray(), new double[] {1, 2}, 0, 0);
        assertTrue(!bn.weight().requiresGrad() && !bn.bias().requiresGrad(), "gamma and beta frozen");
        // In PyTorch's convention freezing only stops gradients: batch statistics still normalize.
        BatchNorm p = BatchNorm.of(Convention.PYTORCH, 2).trainable(false);
        p.forward(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
        Check.close("PyTorch frozen still updates", p.runningMean().toArray(), new double[] {0.2, 0.3}, 1e-7, 1e-6);
    }

    /** Lasagne's two switches, independent of the mode: normalize with averages while updating them. */
    @Test
    void lasagneUseAndUpdateSwitches() {
        BatchNorm bn = BatchNorm.of(Convention.LASAGNE, 1).useAverages(true).updateAverages(true);
        Tensor y = bn.forward(Tensor.of(new float[] {1, 3}, 2, 1));
        Check.close("normalized with inv_std = 1 and mean 0", y.toArray(), new double[] {1, 3}, 0, 0);
        Check.close("mean updated", bn.runningMean().toArray(), new double[] {0.2}, 1e-7, 0);
        Check.close("inv_std updated", bn.runningInvStd().toArray(), new double[] {0.9 + 0.1 / Math.sqrt(1 + 1e-4)}, 1e-7, 0);
        bn.train().useAverages(false).updateAverages(false);
        bn.forward(Tensor.of(new float[] {5, 7}, 2, 1));
        Check.close("no update", bn.runningMean().toArray(), new double[] {0.2}, 1e-7, 0);
        assertNull(bn.runningVar(), "Lasagne keeps no variance");
        assertNotNull(bn.runningInvStd());
    }

    @Test
    void l2RegularizersOnGammaAndBeta() {
        BatchNorm bn = BatchNorm.builder(Convention.KERAS, 2).gammaL2(0.01).betaL2(0.1).build();
        bn.weight().copyFrom(new float[] {2, 3});
        bn.bias().copyFrom(new float[] {-1, 1});
        Tensor loss = bn.regularizationLoss();
        assertEquals(0.01 * 13 + 0.1 * 2, loss.item(), 1e-7);
        loss.backward();
        Check.close("dGamma = 2·λ·gamma", bn.weight().grad().toArray(), new double[] {0.04, 0.06}, 1e-8, 1e-6);
        Check.close("dBeta = 2·λ·beta", bn.bias().grad().toArray(), new double[] {-0.2, 0.2}, 1e-8, 1e-6);
    }

    @Test
    void fusedActivationAndInPlace() {
        BatchNorm relu = BatchNorm.builder(Convention.PYTORCH, 1).activation(org.norm4j.kernels.Activation.RELU).build();
        Tensor y = relu.forward(Tensor.of(new float[] {1, 3}, 2, 1));
        double s = 1 / Math.sqrt(1 + 1e-5);
        Check.close("relu(BN(x))", y.toArray(), new double[] {0, s}, 1e-6, 0);
        BatchNorm ip = BatchNorm.builder(Convention.PUZZLELIB, 1).inplace(true).build();
        ip.eval();
        Tensor x = Tensor.of(new float[] {1, 3}, 2, 1);
        try (var g = Autograd.noGrad()) {
            Tensor out = ip.forward(x);
            assertTrue(out.data() == x.data(), "in-place writes into x");
        }
        Check.close("in-place inference", x.toArray(), new double[] {ip.weight().toArray()[0] / Math.sqrt(1 + 1e-5),
                3 * ip.weight().toArray()[0] / Math.sqrt(1 + 1e-5)}, 1e-6, 1e-6);
    }
}
