package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.IntUnaryOperator;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.norm4j.kernels.Activation;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.GradCheck;
import org.norm4j.testing.Seeded;

/**
 * Property-based tests of every normalization layer: seeded random cases against plain
 * double-precision references. BatchNorm gets a random convention, rank 2 to 5, feature axis
 * (given as a positive or negative index), sizes from 1 (at least 2 values per channel in
 * training), gamma/beta options, running-average rule (including zero-debiasing), variance
 * estimator, storage, tracking, fused activation, a constant or a far-shifted channel, 1 to 3
 * training steps and then inference; LayerNorm, GroupNorm, InstanceNorm and RMSNorm get random
 * shapes, eps and options. Checked each time: the output, dx, dGamma and dBeta (closed forms, and
 * central finite differences on small cases), the running statistics after every step, and that
 * inference changes no state.
 *
 * <p>References reused, not copied: {@link NumericsTest#referenceBatchNorm} (training BN, forward
 * and backward), {@link ConventionTest#reference} (each convention's running-statistics rule as its
 * framework writes it; used whenever the case keeps the convention's rule, estimator and storage)
 * and {@link BadInputTest#refused}. A failure prints its seed; {@code -Dnorm4j.seed=S} reruns that
 * case alone and {@code -Dnorm4j.cases=P} scales the number of cases by P percent.
 */
class NormPropertyTest {
    static final int BN_CASES = 400, ROW_CASES = 150;

    static LongStream batchNormSeeds() {
        return Seeded.seeds(1, BN_CASES);
    }

    static LongStream layerNormSeeds() {
        return Seeded.seeds(2, ROW_CASES);
    }

    static LongStream groupNormSeeds() {
        return Seeded.seeds(3, ROW_CASES);
    }

    static LongStream instanceNormSeeds() {
        return Seeded.seeds(4, ROW_CASES);
    }

    static LongStream rmsNormSeeds() {
        return Seeded.seeds(5, ROW_CASES);
    }

    // ---- BatchNorm ---------------------------------------------------------------------------

    /** One random BatchNorm configuration; null options keep the convention's default. */
    record BnCase(Convention conv, int[] shape, int axis, int[] evalShape, Boolean center, Boolean scale, RunningAverage rule,
                  boolean zeroDebias, VarianceEstimator estimator, StatStorage storage, boolean track, Activation act, int steps,
                  int specialChannel, boolean constant) {
        @Override
        public String toString() {
            return conv + " shape " + Arrays.toString(shape) + " axis " + axis + " eval shape " + Arrays.toString(evalShape)
                    + " center " + center + " scale " + scale + " rule " + rule + (zeroDebias ? " zero-debiased mean" : "")
                    + " estimator " + estimator + " storage " + storage + " track " + track + " act " + act + " steps " + steps
                    + (specialChannel < 0 ? "" : (constant ? " constant" : " shifted") + " channel " + specialChannel);
        }

        int ax() {
            return axis < 0 ? axis + shape.length : axis;
        }

        boolean conventionRules() {
            return rule == null && !zeroDebias && estimator == null && storage == null;
        }
    }

    static BnCase bnCase(Random r) {
        Convention conv = Convention.values()[r.nextInt(Convention.values().length)];
        int rank = 2 + r.nextInt(4), ax = r.nextInt(rank);
        int c = r.nextInt(4) == 0 ? 1 + r.nextInt(17) : 1 + r.nextInt(5);
        boolean track = r.nextInt(6) != 0;
        int[] shape = shapeAround(r, rank, ax, c, 2);
        int[] evalShape = shapeAround(r, rank, ax, c, track ? 1 : 2);
        RunningAverage rule = switch (r.nextInt(8)) {
            case 0, 1, 2 -> null;
            case 3 -> RunningAverage.weightOfNew(unit(r));
            case 4 -> RunningAverage.weightOfOld(unit(r));
            case 5 -> RunningAverage.cumulative();
            case 6 -> RunningAverage.cumulativeThenEma(r.nextBoolean() ? 1.0 : unit(r), unit(r));
            default -> RunningAverage.zeroDebiased(unit(r));
        };
        RunningAverage effective = rule != null ? rule : conv.runningAverage();
        boolean zeroDebias = (effective instanceof RunningAverage.WeightOfNew || effective instanceof RunningAverage.WeightOfOld)
                && effective.weightOfNew(1) > 0 && r.nextInt(5) == 0;
        VarianceEstimator est = r.nextInt(3) == 0 ? VarianceEstimator.values()[r.nextInt(2)] : null;
        StatStorage storage = r.nextInt(3) == 0 ? StatStorage.values()[r.nextInt(3)] : null;
        Boolean center = r.nextInt(3) == 0 ? r.nextBoolean() : null, scale = r.nextInt(3) == 0 ? r.nextBoolean() : null;
        Activation act = r.nextBoolean() ? Activation.IDENTITY : Activation.values()[1 + r.nextInt(3)];
        int special = r.nextInt(5) == 0 ? r.nextInt(c) : -1;
        return new BnCase(conv, shape, r.nextBoolean() ? ax : ax - rank, evalShape, center, scale, rule, zeroDebias, est, storage,
                track, act, 1 + r.nextInt(3), special, r.nextBoolean());
    }

    /** A shape of {@code rank} with {@code c} at {@code ax}, sizes from 1 (small ones likelier), at least {@code minPerChannel} values per channel, at most ~3000 values. */
    static int[] shapeAround(Random r, int rank, int ax, int c, int minPerChannel) {
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            int k = r.nextInt(20);
            s[i] = k < 5 ? 1 : k < 15 ? 2 + r.nextInt(3) : k < 19 ? 5 + r.nextInt(5) : 10 + r.nextInt(24);
        }
        s[ax] = c;
        while (Shape.size(s) > 3000) {
            int big = ax == 0 ? 1 : 0;
            for (int i = 0; i < rank; i++) if (i != ax && s[i] > s[big]) big = i;
            s[big] = Math.max(1, s[big] / 2);
        }
        if (Shape.size(s) / c < minPerChannel) s[ax == 0 ? 1 + r.nextInt(rank - 1) : r.nextInt(ax)] = 2 + r.nextInt(3);
        return s;
    }

    static double unit(Random r) {
        return 0.05 + 0.9 * r.nextDouble();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("batchNormSeeds")
    void batchNorm(long seed) {
        Random r = new Random(seed);
        BnCase c = bnCase(r);
        Seeded.check(getClass(), "batchNorm", seed, c, () -> checkBatchNorm(c, r, seed));
    }

    private static void checkBatchNorm(BnCase k, Random r, long seed) {
        int ax = k.ax(), C = k.shape[ax];
        BatchNorm.Builder b = BatchNorm.builder(k.conv, C).axis(k.axis).trackRunningStats(k.track).activation(k.act).seed(seed);
        if (k.rule != null) b.runningAverage(k.rule);
        if (k.zeroDebias) b.zeroDebiasMovingMean(true);
        if (k.estimator != null) b.runningVariance(k.estimator);
        if (k.storage != null) b.storage(k.storage);
        if (k.center != null) b.center(k.center);
        if (k.scale != null) b.scale(k.scale);
        BatchNorm bn = b.build();
        double eps = bn.eps();
        float[] gamma = new float[C], beta = new float[C];
        for (int c = 0; c < C; c++) {
            gamma[c] = bn.weight() == null ? 1f : (float) ((r.nextBoolean() ? 1 : -1) * (0.3 + r.nextDouble()));
            beta[c] = bn.bias() == null ? 0f : (float) r.nextGaussian();
        }
        if (bn.weight() != null) bn.weight().copyFrom(gamma);
        if (bn.bias() != null) bn.bias().copyFrom(beta);
        double[] mu = new double[C], sd = new double[C];
        for (int c = 0; c < C; c++) {
            mu[c] = -3 + 6 * r.nextDouble();
            sd[c] = Math.exp(Math.log(0.1) + Math.log(30) * r.nextDouble());
        }
        if (k.specialChannel >= 0 && !k.constant) {
            mu[k.specialChannel] = (r.nextBoolean() ? 1 : -1) * (1e3 + 9e3 * r.nextDouble());
            sd[k.specialChannel] = 1e-2 + r.nextDouble();
        }
        ConventionTest.Rule rule = !k.track ? null : k.conventionRules() ? ConventionTest.reference(k.conv, C)
                : general(C, eps, bn.runningAverage(), bn.meanRunningAverage(), bn.runningVariance() == VarianceEstimator.UNBIASED, bn.storage());

        // training steps
        for (int step = 1; step <= k.steps; step++) {
            String label = "train step " + step;
            int[] shape = k.shape;
            int A = Shape.product(shape, 0, ax), B = Shape.product(shape, ax + 1, shape.length);
            float[] x = input(r, shape, ax, mu, sd, k.specialChannel, k.constant);
            bn.zeroGrad();
            Tensor xt = Tensor.of(x, shape).requiresGrad(true);
            Tensor y = bn.forward(xt);
            double[] z = NumericsTest.referenceBatchNorm(x, new float[x.length], A, C, B, gamma, beta, eps)[0];
            float[] yv = y.toArray();
            Check.close(label + " y", yv, activate(k.act, z), 4e-6, 4e-6);
            float[] dOut = gaussian(r, x.length);
            float[] dPre = activationBackward(k.act, dOut, z, yv);
            double[][] ref = NumericsTest.referenceBatchNorm(x, dPre, A, C, B, gamma, beta, eps);
            y.backward(Tensor.of(dOut, shape));
            checkGrads(label, bn, xt, ref, dxTerms(x, dPre, A, C, B, gamma, eps));
            if (k.track) {
                double[][] stats = meanAndBiasedVar(x, A, C, B);
                rule.update(stats[0], stats[1], (long) A * B, step);
                checkRunning(label, bn, rule);
                assertEquals(step, bn.numBatchesTracked(), label + " numBatchesTracked");
            } else {
                assertNull(bn.runningMean(), "no running statistics without tracking");
            }
        }

        // one value per channel in training: refused, nothing changes
        int[] single = new int[k.shape.length];
        Arrays.fill(single, 1);
        single[ax] = C;
        BadInputTest.refused(bn, IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(single)), "more than 1 value per channel");

        // inference
        bn.eval();
        Map<String, String> before = BadInputTest.snapshot(bn);
        int[] shape = k.evalShape;
        int A = Shape.product(shape, 0, ax), B = Shape.product(shape, ax + 1, shape.length);
        float[] x = input(r, shape, ax, mu, sd, k.specialChannel, k.constant);
        bn.zeroGrad();
        Tensor xt = Tensor.of(x, shape).requiresGrad(true);
        Tensor y = bn.forward(xt);
        float[] dOut = gaussian(r, x.length);
        double[][] ref;
        double[] dxScale = null;
        if (k.track) {
            // the statistics as stored (float), decoded as DESIGN.md says; they match the rule's to float rounding
            double[] mean = Check.toDouble(bn.runningMean().toArray()), invStd = decodedInvStd(bn);
            Check.close("inference 1/std vs the rule's", Check.toFloat(invStd), rule.inferenceInvStd(), 1e-6, 1e-5);
            double[] z = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int c = (i / B) % C;
                z[i] = (x[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
            }
            float[] yv = y.toArray();
            Check.close("eval y", yv, activate(k.act, z), 4e-6, 4e-6);
            ref = affineBackward(x, activationBackward(k.act, dOut, z, yv), B, C, mean, invStd, gamma);
        } else {   // without running statistics inference normalizes with the batch's own
            double[] z = NumericsTest.referenceBatchNorm(x, new float[x.length], A, C, B, gamma, beta, eps)[0];
            float[] yv = y.toArray();
            Check.close("eval (batch statistics) y", yv, activate(k.act, z), 4e-6, 4e-6);
            float[] dPre = activationBackward(k.act, dOut, z, yv);
            ref = NumericsTest.referenceBatchNorm(x, dPre, A, C, B, gamma, beta, eps);
            dxScale = dxTerms(x, dPre, A, C, B, gamma, eps);
        }
        y.backward(Tensor.of(dOut, shape));
        checkGrads("eval", bn, xt, ref, dxScale);
        assertEquals(before, BadInputTest.snapshot(bn), "inference changes no state");

        // finite differences on small cases whose function is smooth
        if (Shape.size(k.shape) <= 48 && k.act != Activation.RELU) {
            bn.train();
            double[] wide = new double[C];   // a spread well above the step h = 1e-2
            for (int c = 0; c < C; c++) wide[c] = 1 + 2 * r.nextDouble();
            float[] xs = input(r, k.shape, ax, new double[C], wide, -1, false);
            if (minRange(xs, Shape.product(k.shape, 0, ax), C, Shape.product(k.shape, ax + 1, k.shape.length)) > 1) {
                GradCheck.check("finite differences, training", bn::forward, Tensor.of(xs, k.shape).requiresGrad(true), bn.weight(), bn.bias());
            }
        }
    }

    /** The smallest max − min over the channels of [A, C, B]: finite differences need it well above h. */
    static double minRange(float[] x, int A, int C, int B) {
        double worst = Double.MAX_VALUE;
        for (int c = 0; c < C; c++) {
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (int a = 0; a < A; a++) {
                for (int b = 0; b < B; b++) {
                    lo = Math.min(lo, x[(a * C + c) * B + b]);
                    hi = Math.max(hi, x[(a * C + c) * B + b]);
                }
            }
            worst = Math.min(worst, hi - lo);
        }
        return worst;
    }

    /** 1/sqrt(var + eps) from the stored running spread: var, inv_std as is, or log10 std (var = 10^(2s)). */
    static double[] decodedInvStd(BatchNorm bn) {
        double eps = bn.eps();
        double[] r = new double[bn.numFeatures()];
        for (int c = 0; c < r.length; c++) {
            r[c] = switch (bn.storage()) {
                case VAR -> 1 / Math.sqrt(bn.runningVar().data()[c] + eps);
                case INV_STD -> bn.runningInvStd().data()[c];
                case LOG10_STD -> 1 / Math.sqrt(Math.pow(10, 2.0 * bn.runningLog10Std().data()[c]) + eps);
            };
        }
        return r;
    }

    /**
     * Per element of training BN's dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), the sum of
     * the terms' magnitudes: float rounding is relative to them, not to dx, which cancels to ~0
     * where the variance is 0.
     */
    static double[] dxTerms(float[] x, float[] dy, int A, int C, int B, float[] gamma, double eps) {
        double[][] mv = meanAndBiasedVar(x, A, C, B);
        double n = (double) A * B;
        double[] sdy = new double[C], sdyx = new double[C], inv = new double[C], scale = new double[x.length];
        for (int c = 0; c < C; c++) inv[c] = 1 / Math.sqrt(mv[1][c] + eps);
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            sdy[c] += dy[i];
            sdyx[c] += dy[i] * (x[i] - mv[0][c]) * inv[c];
        }
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            double xhat = (x[i] - mv[0][c]) * inv[c];
            scale[i] = Math.abs(gamma[c]) * inv[c] * (Math.abs(dy[i]) + Math.abs(sdy[c] / n) + Math.abs(xhat * sdyx[c] / n));
        }
        return scale;
    }

    /** |got − want| ≤ tol·scale + 1e-7 per element; on failure the first differing elements and the largest excess. */
    static void closeScaled(String label, float[] got, double[] want, double[] scale, double tol) {
        StringBuilder first = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(got[i] - want[i]), allowed = tol * scale[i] + 1e-7;
            if (!(d <= allowed)) {   // NaN fails
                if (bad++ < 5) first.append(String.format(" [%d] got %.9g want %.9g (allowed %.3g)", i, got[i], want[i], allowed));
                worst = Double.isNaN(d) ? Double.NaN : Math.max(worst, d / allowed);
            }
        }
        if (bad > 0) {
            org.junit.jupiter.api.Assertions.fail(label + ": " + bad + " of " + want.length + " elements differ by more than " + tol
                    + " of their terms' magnitude (worst " + worst + " times the allowance); first:" + first);
        }
    }

    private static void checkGrads(String label, BatchNorm bn, Tensor x, double[][] ref, double[] dxScale) {
        if (dxScale != null) closeScaled(label + " dx", x.grad().toArray(), ref[1], dxScale, 1e-5);
        else Check.close(label + " dx", x.grad().toArray(), ref[1], gradTol(ref[1]), 1e-5);
        if (bn.weight() != null) Check.close(label + " dGamma", bn.weight().grad().toArray(), ref[2], gradTol(ref[2]), 1e-5);
        if (bn.bias() != null) Check.close(label + " dBeta", bn.bias().grad().toArray(), ref[3], gradTol(ref[3]), 1e-5);
    }

    /** Float rounding of the largest term: a wrong backward is off by far more. */
    static double gradTol(double[] ref) {
        double m = 0;
        for (double v : ref) m = Math.max(m, Math.abs(v));
        return 1e-6 + 1e-5 * m;
    }

    private static void checkRunning(String label, BatchNorm bn, ConventionTest.Rule rule) {
        Check.close(label + " running mean", bn.runningMean().toArray(), rule.storedMean(), 1e-6, 1e-6);
        Tensor spread = bn.runningVar() != null ? bn.runningVar() : bn.runningInvStd() != null ? bn.runningInvStd() : bn.runningLog10Std();
        float[] got = spread.toArray();
        double[] want = rule.storedSpread();
        for (int c = 0; c < got.length; c++) {   // log10 std of a constant channel is −∞ in both
            if (Double.isInfinite(want[c]) && got[c] == want[c]) {
                got[c] = 0;
                want[c] = 0;
            }
        }
        Check.close(label + " running spread (" + bn.storage() + ")", got, want, 1e-6, 1e-6);
    }

    /**
     * Any rule, estimator and storage, written from the definitions in DESIGN.md (for options a
     * convention does not have, where {@link ConventionTest#reference} does not apply): the mean
     * and the averaged spread (variance, or inv_std for INV_STD) each follow
     * {@code (1 − w)·old + w·batch}, or a zero-debiased accumulator; LOG10_STD stores log10 of the
     * averaged variance's square root.
     */
    static ConventionTest.Rule general(int channels, double eps, RunningAverage spreadRule, RunningAverage meanRule, boolean unbiased,
                                       StatStorage storage) {
        double[] m = new double[channels], a = new double[channels], biasedM = new double[channels], biasedA = new double[channels];
        Arrays.fill(a, 1);   // var 1, inv_std 1, log10 std 0 all start here
        return new ConventionTest.Rule() {
            public void update(double[] mean, double[] varBiased, long n, long step) {
                for (int c = 0; c < channels; c++) {
                    double var = unbiased ? varBiased[c] * n / (n - 1) : varBiased[c];
                    double fed = storage == StatStorage.INV_STD ? 1 / Math.sqrt(var + eps) : var;
                    m[c] = average(meanRule, step, m[c], mean[c], biasedM, c);
                    a[c] = average(spreadRule, step, a[c], fed, biasedA, c);
                }
            }

            private double average(RunningAverage rule, long step, double old, double batch, double[] biased, int c) {
                if (rule instanceof RunningAverage.ZeroDebiased z) {
                    biased[c] = z.decay() * biased[c] + (1 - z.decay()) * batch;
                    return biased[c] / (1 - Math.pow(z.decay(), step));
                }
                double w = rule.weightOfNew(step);
                return (1 - w) * old + w * batch;
            }

            public double[] inferenceMean() {
                return m.clone();
            }

            public double[] inferenceInvStd() {
                double[] r = new double[channels];
                for (int c = 0; c < channels; c++) r[c] = storage == StatStorage.INV_STD ? a[c] : 1 / Math.sqrt(a[c] + eps);
                return r;
            }

            public double[] storedMean() {
                return m.clone();
            }

            public double[] storedSpread() {
                double[] r = a.clone();
                if (storage == StatStorage.LOG10_STD) for (int c = 0; c < channels; c++) r[c] = Math.log10(Math.sqrt(a[c]));
                return r;
            }
        };
    }

    /** Per channel of [A, C, B]: mean and biased variance, two passes in double. */
    static double[][] meanAndBiasedVar(float[] x, int A, int C, int B) {
        double[] mean = new double[C], var = new double[C];
        double n = (double) A * B;
        for (int i = 0; i < x.length; i++) mean[(i / B) % C] += x[i];
        for (int c = 0; c < C; c++) mean[c] /= n;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - mean[(i / B) % C];
            var[(i / B) % C] += d * d;
        }
        for (int c = 0; c < C; c++) var[c] /= n;
        return new double[][] {mean, var};
    }

    /** {unused, dx, dGamma, dBeta} of y = (x − mean)·invStd·gamma + beta with fixed statistics (inference). */
    static double[][] affineBackward(float[] x, float[] dPre, int B, int C, double[] mean, double[] invStd, float[] gamma) {
        double[] dx = new double[x.length], dg = new double[C], db = new double[C];
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            dx[i] = dPre[i] * gamma[c] * invStd[c];
            dg[c] += dPre[i] * (x[i] - mean[c]) * invStd[c];
            db[c] += dPre[i];
        }
        return new double[][] {null, dx, dg, db};
    }

    static float[] input(Random r, int[] shape, int ax, double[] mu, double[] sd, int special, boolean constant) {
        int C = shape[ax], B = Shape.product(shape, ax + 1, shape.length);
        float[] x = new float[Shape.size(shape)];
        for (int i = 0; i < x.length; i++) {
            int c = (i / B) % C;
            x[i] = (float) (c == special && constant ? mu[c] : mu[c] + sd[c] * r.nextGaussian());
        }
        return x;
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static double[] activate(Activation act, double[] z) {
        double[] y = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            y[i] = switch (act) {
                case IDENTITY -> z[i];
                case RELU -> Math.max(0, z[i]);
                case SIGMOID -> 1 / (1 + Math.exp(-z[i]));
                case TANH -> Math.tanh(z[i]);
            };
        }
        return y;
    }

    /**
     * dOut·act'(z). For ReLU within 1e-4 of the kink the layer's own output decides the side
     * (float rounding may put it on either); everywhere else the double reference does.
     */
    static float[] activationBackward(Activation act, float[] dOut, double[] z, float[] y) {
        float[] d = new float[dOut.length];
        for (int i = 0; i < d.length; i++) {
            double s = 1 / (1 + Math.exp(-z[i])), t = Math.tanh(z[i]);
            d[i] = (float) switch (act) {
                case IDENTITY -> dOut[i];
                case RELU -> (Math.abs(z[i]) < 1e-4 ? y[i] > 0 : z[i] > 0) ? dOut[i] : 0;
                case SIGMOID -> dOut[i] * s * (1 - s);
                case TANH -> dOut[i] * (1 - t * t);
            };
        }
        return d;
    }

    // ---- LayerNorm, GroupNorm, InstanceNorm, RMSNorm -------------------------------------------

    /**
     * {y, dx, dGamma, dBeta, dx's terms' magnitude} for rows of {@code len} contiguous values, each normalized with its own
     * mean and biased variance ({@code rms}: no mean, the mean square), then
     * {@code y = x̂·gamma[p(i)] + beta[p(i)]}. Backward, per row with g = dy·gamma:
     * {@code dx = invStd·(g − mean(g) − x̂·mean(g·x̂))} (rms: without the mean(g) term).
     */
    static double[][] rowNorm(float[] x, float[] dy, int len, boolean rms, double eps, IntUnaryOperator p, float[] gamma, float[] beta,
                              int params) {
        double[] y = new double[x.length], dx = new double[x.length], dg = new double[params], db = new double[params];
        double[] terms = new double[x.length];
        for (int r = 0; r < x.length / len; r++) {
            int o = r * len;
            double mean = 0, var = 0;
            if (!rms) {
                for (int i = o; i < o + len; i++) mean += x[i];
                mean /= len;
            }
            for (int i = o; i < o + len; i++) var += (x[i] - mean) * (x[i] - mean);
            var /= len;
            double inv = 1 / Math.sqrt(var + eps), sg = 0, sgx = 0;
            for (int i = o; i < o + len; i++) {
                int k = p.applyAsInt(i);
                double xhat = (x[i] - mean) * inv, g = gamma == null ? 1 : gamma[k];
                y[i] = xhat * g + (beta == null ? 0 : beta[k]);
                sg += dy[i] * g;
                sgx += dy[i] * g * xhat;
                dg[k] += dy[i] * xhat;
                db[k] += dy[i];
            }
            for (int i = o; i < o + len; i++) {
                double xhat = (x[i] - mean) * inv, g = gamma == null ? 1 : gamma[p.applyAsInt(i)];
                dx[i] = inv * (dy[i] * g - (rms ? 0 : sg / len) - xhat * sgx / len);
                terms[i] = inv * (Math.abs(dy[i] * g) + (rms ? 0 : Math.abs(sg / len)) + Math.abs(xhat * sgx / len));
            }
        }
        return new double[][] {y, dx, dg, db, terms};
    }

    /** Random values with a random mean and spread per row of {@code len}. */
    static float[] rowInput(Random r, int size, int len) {
        float[] x = new float[size];
        for (int o = 0; o < size; o += len) {
            double mu = -3 + 6 * r.nextDouble(), sd = Math.exp(Math.log(0.1) + Math.log(30) * r.nextDouble());
            if (r.nextInt(10) == 0) sd = 0;   // a constant row
            for (int i = o; i < o + len; i++) x[i] = (float) (mu + sd * r.nextGaussian());
        }
        return x;
    }

    static int dim(Random r) {
        int k = r.nextInt(10);
        return k < 3 ? 1 : k < 8 ? 2 + r.nextInt(4) : 6 + r.nextInt(12);
    }

    static int[] dims(Random r, int n) {
        int[] d = new int[n];
        for (int i = 0; i < n; i++) d[i] = dim(r);
        return d;
    }

    static int[] concat(int[] a, int[] b) {
        int[] s = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, s, a.length, b.length);
        return s;
    }

    static double eps(Random r, double usual) {
        return r.nextBoolean() ? usual : Math.pow(10, -1 - 5 * r.nextDouble());
    }

    static void randomize(Random r, Tensor gamma, Tensor beta) {
        GradCheck.randomize(r, gamma, 1, 0.5);
        GradCheck.randomize(r, beta, 0, 0.5);
    }

    /** Forward and backward in training and in eval mode (the same computation for these layers) against rowNorm. */
    static void checkRows(Random r, org.norm4j.nn.Module m, int[] shape, int len, boolean rms, double eps, IntUnaryOperator p,
                          Tensor gamma, Tensor beta, int params) {
        for (boolean training : new boolean[] {true, false}) {
            if (training) m.train();
            else m.eval();
            float[] x = rowInput(r, Shape.size(shape), len), dy = gaussian(r, x.length);
            m.zeroGrad();
            Tensor xt = Tensor.of(x, shape).requiresGrad(true);
            Tensor y = m.forward(xt);
            double[][] ref = rowNorm(x, dy, len, rms, eps, p, gamma == null ? null : gamma.data(), beta == null ? null : beta.data(), params);
            String mode = training ? "train" : "eval";
            Check.close(mode + " y", y.toArray(), ref[0], 4e-6, 4e-6);
            y.backward(Tensor.of(dy, shape));
            closeScaled(mode + " dx", xt.grad().toArray(), ref[1], ref[4], 1e-5);
            if (gamma != null) Check.close(mode + " dGamma", gamma.grad().toArray(), ref[2], gradTol(ref[2]), 1e-5);
            if (beta != null) Check.close(mode + " dBeta", beta.grad().toArray(), ref[3], gradTol(ref[3]), 1e-5);
        }
        if (Shape.size(shape) <= 40 && !(rms && len == 1)) {
            // finite differences need a spread (rms: a magnitude) per row well above the step h = 1e-2
            Random fr = new Random(r.nextLong());
            float[] x = new float[Shape.size(shape)];
            boolean smooth = true;
            for (int o = 0; o < x.length; o += len) {
                double mu = -2 + 4 * fr.nextDouble(), sd = 1 + 2 * fr.nextDouble(), ms = 0;
                for (int i = o; i < o + len; i++) {
                    x[i] = (float) (mu + sd * fr.nextGaussian());
                    ms += x[i] * x[i] / len;
                }
                double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
                for (int i = o; i < o + len; i++) {
                    lo = Math.min(lo, x[i]);
                    hi = Math.max(hi, x[i]);
                }
                if (rms ? ms < 0.25 : len > 1 && hi - lo < 1) smooth = false;
            }
            if (smooth) GradCheck.check("finite differences", m::forward, Tensor.of(x, shape).requiresGrad(true), gamma, beta);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("layerNormSeeds")
    void layerNorm(long seed) {
        Random r = new Random(seed);
        int[] normalized = dims(r, 1 + r.nextInt(3)), lead = dims(r, 1 + r.nextInt(5 - normalized.length));
        double eps = eps(r, 1e-5);
        boolean affine = r.nextInt(4) != 0;
        int[] shape = concat(lead, normalized);
        String theCase = "LayerNorm(" + Arrays.toString(normalized) + ", eps " + eps + ", affine " + affine + ") on " + Arrays.toString(shape);
        Seeded.check(getClass(), "layerNorm", seed, theCase, () -> {
            LayerNorm ln = new LayerNorm(normalized, eps, affine);
            randomize(r, ln.weight(), ln.bias());
            int len = Shape.size(normalized);
            checkRows(r, ln, shape, len, false, eps, i -> i % len, ln.weight(), ln.bias(), len);
        });
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("rmsNormSeeds")
    void rmsNorm(long seed) {
        Random r = new Random(seed);
        int[] normalized = dims(r, 1 + r.nextInt(3)), lead = dims(r, 1 + r.nextInt(5 - normalized.length));
        double eps = eps(r, RMSNorm.FLOAT_EPS);
        boolean affine = r.nextInt(4) != 0;
        int[] shape = concat(lead, normalized);
        String theCase = "RMSNorm(" + Arrays.toString(normalized) + ", eps " + eps + ", affine " + affine + ") on " + Arrays.toString(shape);
        Seeded.check(getClass(), "rmsNorm", seed, theCase, () -> {
            RMSNorm rms = new RMSNorm(normalized, eps, affine);
            GradCheck.randomize(r, rms.weight(), 1, 0.5);
            int len = Shape.size(normalized);
            checkRows(r, rms, shape, len, true, eps, i -> i % len, rms.weight(), null, len);
        });
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("groupNormSeeds")
    void groupNorm(long seed) {
        Random r = new Random(seed);
        int groups = 1 + r.nextInt(4), perGroup = 1 + r.nextInt(4), C = groups * perGroup;
        int[] shape = concat(new int[] {1 + r.nextInt(4), C}, dims(r, r.nextInt(4)));
        double eps = eps(r, 1e-5);
        boolean affine = r.nextInt(4) != 0;
        String theCase = "GroupNorm(" + groups + ", " + C + ", eps " + eps + ", affine " + affine + ") on " + Arrays.toString(shape);
        Seeded.check(getClass(), "groupNorm", seed, theCase, () -> {
            GroupNorm gn = new GroupNorm(groups, C, eps, affine);
            randomize(r, gn.weight(), gn.bias());
            int B = Shape.product(shape, 2, shape.length);
            checkRows(r, gn, shape, perGroup * B, false, eps, i -> (i / B) % C, gn.weight(), gn.bias(), C);
        });
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("instanceNormSeeds")
    void instanceNorm(long seed) {
        Random r = new Random(seed);
        int C = 1 + r.nextInt(6), N = 1 + r.nextInt(4);
        int[] spatial = dims(r, 1 + r.nextInt(3));
        if (Shape.size(spatial) < 2) spatial[0] = 2 + r.nextInt(3);   // training needs 2 values per instance
        int[] shape = concat(new int[] {N, C}, spatial);
        double eps = eps(r, 1e-5), momentum = r.nextDouble();
        boolean affine = r.nextBoolean(), track = r.nextBoolean();
        int steps = 1 + r.nextInt(3);
        String theCase = "InstanceNorm(" + C + ", eps " + eps + ", momentum " + momentum + ", affine " + affine + ", track " + track
                + ") on " + Arrays.toString(shape) + ", " + steps + " steps";
        Seeded.check(getClass(), "instanceNorm", seed, theCase, () -> {
            InstanceNorm in = new InstanceNorm(C, eps, momentum, affine, track);
            randomize(r, in.weight(), in.bias());
            int B = Shape.size(spatial);
            if (!track) {
                checkRows(r, in, shape, B, false, eps, i -> (i / B) % C, in.weight(), in.bias(), C);
                return;
            }
            // tracked: training updates the running statistics (batch average of the per-instance
            // mean and unbiased variance, new weight = momentum); inference normalizes with them
            double[] rm = new double[C], rv = new double[C];
            Arrays.fill(rv, 1);
            float[] gamma = affine ? in.weight().data() : null, beta = affine ? in.bias().data() : null;
            for (int step = 1; step <= steps; step++) {
                float[] x = rowInput(r, Shape.size(shape), B), dy = gaussian(r, x.length);
                in.zeroGrad();
                Tensor xt = Tensor.of(x, shape).requiresGrad(true);
                Tensor y = in.forward(xt);
                double[][] ref = rowNorm(x, dy, B, false, eps, i -> (i / B) % C, gamma, beta, C);
                Check.close("train y step " + step, y.toArray(), ref[0], 4e-6, 4e-6);
                y.backward(Tensor.of(dy, shape));
                closeScaled("train dx step " + step, xt.grad().toArray(), ref[1], ref[4], 1e-5);
                double[] meanAvg = new double[C], varAvg = new double[C];
                for (int n = 0; n < N; n++) {
                    for (int c = 0; c < C; c++) {
                        double[][] s = meanAndBiasedVar(Arrays.copyOfRange(x, (n * C + c) * B, (n * C + c + 1) * B), 1, 1, B);
                        meanAvg[c] += s[0][0] / N;
                        varAvg[c] += s[1][0] * B / (B - 1) / N;
                    }
                }
                for (int c = 0; c < C; c++) {
                    rm[c] = momentum * meanAvg[c] + (1 - momentum) * rm[c];
                    rv[c] = momentum * varAvg[c] + (1 - momentum) * rv[c];
                }
                Check.close("running mean step " + step, in.runningMean().toArray(), rm, 1e-6, 1e-6);
                Check.close("running var step " + step, in.runningVar().toArray(), rv, 1e-6, 1e-6);
            }
            in.eval();
            int[] evalShape = concat(new int[] {1 + r.nextInt(3), C}, dims(r, spatial.length));
            int Be = Shape.product(evalShape, 2, evalShape.length);
            float[] x = rowInput(r, Shape.size(evalShape), Be), dy = gaussian(r, x.length);
            in.zeroGrad();
            Tensor xt = Tensor.of(x, evalShape).requiresGrad(true);
            Tensor y = in.forward(xt);
            double[] invStd = new double[C], z = new double[x.length];
            for (int c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(in.runningVar().data()[c] + eps);
            double[] mean = Check.toDouble(in.runningMean().toArray());
            float[] g = gamma != null ? gamma : ones(C);
            for (int i = 0; i < x.length; i++) {
                int c = (i / Be) % C;
                z[i] = (x[i] - mean[c]) * invStd[c] * g[c] + (beta == null ? 0 : beta[c]);
            }
            Check.close("eval y", y.toArray(), z, 4e-6, 4e-6);
            y.backward(Tensor.of(dy, evalShape));
            double[][] ref = affineBackward(x, dy, Be, C, mean, invStd, g);
            Check.close("eval dx", xt.grad().toArray(), ref[1], gradTol(ref[1]), 1e-5);
            if (affine) Check.close("eval dGamma", in.weight().grad().toArray(), ref[2], gradTol(ref[2]), 1e-5);
        });
    }

    static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }
}
