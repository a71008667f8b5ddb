package org.norm4j.nn.norm;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Moments;
import org.norm4j.nn.Initializer;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.ops.BackwardHook;
import org.norm4j.ops.ChannelNorm;
import org.norm4j.ops.Statistics;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * Batch normalization over any feature axis of a rank-2 to rank-5 input, in any framework's
 * convention: {@code y = gamma·(x − mean)/sqrt(var + eps) + beta} per feature, with the biased
 * batch variance in training and the running estimates in inference.
 *
 * <p>Three independent switches: <em>use averages</em> (normalize with the running estimates),
 * <em>update averages</em> (fold this batch into them), and <em>trainable</em> (gamma and beta get
 * gradients). {@link #train()} sets use = false, update = true; {@link #eval()} the opposite, as
 * PyTorch; {@link #useAverages(boolean)} and {@link #updateAverages(boolean)} override them
 * separately, as Lasagne's {@code batch_norm_use_averages}/{@code batch_norm_update_averages}.
 *
 * <p>A failed call changes nothing: the input is validated and the statistics are computed before
 * any running estimate is written.
 *
 * <p>Threads: a forward that only reads the running estimates (eval mode, or use-averages without
 * update) keeps no state and may run from any number of threads at once. A forward that updates
 * them (training mode) is one thread's at a time: a second thread that starts one while another
 * runs gets an {@link IllegalStateException} and changes nothing. Switching modes while another
 * thread runs a forward is not supported.
 */
public final class BatchNorm extends Module {
    private final Convention convention;
    private final int numFeatures;
    private final int axis;
    private final double eps;
    private final RunningAverage meanAverage;
    private final RunningAverage spreadAverage;
    private final VarianceEstimator runningVariance;
    private final StatStorage storage;
    private final boolean trackRunningStats;
    private final boolean inplace;
    private final boolean checkFinite;
    private final boolean updateInBackward;
    private final Activation activation;
    private final Parameter weight;
    private final Parameter bias;
    private final Tensor runningMean;
    private final Tensor runningSpread;   // var, inv_std or log10 std, as `storage` says
    private final double[] biasedMean;    // zero-debiased accumulators (TF1), or null
    private final double[] biasedSpread;
    private final long[] numBatchesTracked = new long[1];
    private boolean useAverages;
    private boolean updateAverages = true;
    private boolean trainable = true;
    private long estimateCount = -1;   // ≥ 0 while estimating population statistics
    /** Held while a forward (or DL4J's backward hook) updates the running estimates; one CAS per training forward. */
    private final AtomicBoolean updating = new AtomicBoolean();

    private BatchNorm(Builder b) {
        this.convention = b.convention;
        this.numFeatures = b.numFeatures;
        this.axis = b.axis;
        this.eps = b.eps;
        this.meanAverage = b.zeroDebiasMovingMean ? RunningAverage.zeroDebiased(1 - b.runningAverage.weightOfNew(1)) : b.runningAverage;
        this.spreadAverage = b.runningAverage;
        this.runningVariance = b.runningVariance;
        this.storage = b.storage;
        this.trackRunningStats = b.trackRunningStats;
        this.inplace = b.inplace;
        this.checkFinite = b.checkFinite;
        this.updateInBackward = b.updateInBackward;
        this.activation = b.activation;
        Rng rng = new Rng(b.seed);
        int c = numFeatures;
        this.weight = b.scale ? registerParameter("weight", new Parameter(init(b, b.gammaInit, rng), c).l2(b.gammaL2)) : null;
        this.bias = b.center ? registerParameter("bias", new Parameter(init(b, b.betaInit, rng), c).l2(b.betaL2)) : null;
        if (trackRunningStats) {
            this.runningMean = registerBuffer("runningMean", Tensor.wrap(init(b, b.movingMeanInit, rng), c));
            Initializer spreadInit = b.movingSpreadInit != null ? b.movingSpreadInit
                    : Initializer.constant(storage == StatStorage.LOG10_STD ? 0 : 1);
            this.runningSpread = registerBuffer(switch (storage) {
                case VAR -> "runningVar";
                case INV_STD -> "runningInvStd";
                case LOG10_STD -> "runningLog10Std";
            }, Tensor.wrap(init(b, spreadInit, rng), c));
        } else {
            this.runningMean = null;
            this.runningSpread = null;
        }
        if (trackRunningStats) registerCounter("numBatchesTracked", numBatchesTracked);
        this.biasedMean = trackRunningStats && meanAverage instanceof RunningAverage.ZeroDebiased ? new double[c] : null;
        this.biasedSpread = trackRunningStats && spreadAverage instanceof RunningAverage.ZeroDebiased ? new double[c] : null;
    }

    private static float[] init(Builder b, Initializer init, Rng rng) {
        float[] v = new float[b.numFeatures];
        if (!b.empty) init.fill(v, rng);
        return v;
    }

    /** A batch norm over {@code numFeatures} features with every default of {@code convention}. */
    public static BatchNorm of(Convention convention, int numFeatures) {
        return builder(convention, numFeatures).build();
    }

    public static Builder builder(Convention convention, int numFeatures) {
        return new Builder(convention, numFeatures);
    }

    // ---- forward -------------------------------------------------------------------------

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, activation);
    }

    /**
     * The forward pass followed by {@code then} in the same pass, as if the next layer were that
     * activation: the same values and gradients bit for bit, one output array and one pass fewer.
     * {@link org.norm4j.nn.Sequential} uses it for a batch norm followed by Sigmoid, ReLU or Tanh.
     * Only for a layer built without its own activation.
     */
    public Tensor forwardThen(Tensor x, Activation then) {
        if (activation != Activation.IDENTITY) {
            throw new IllegalStateException(describe() + ": already applies " + activation + "; forwardThen(" + then + ") would apply two");
        }
        return forward(x, then, false);
    }

    /**
     * {@link #forwardThen} followed by a 2×2, stride-2 average pooling (AvgPool2d(2)) in the same
     * op: the same values and gradients bit for bit, without the full-size gradient between the
     * pooling and this layer in backward. {@link org.norm4j.nn.Sequential} uses it for LeNet's
     * BatchNorm2d → Sigmoid → AvgPool2d(2) where {@link #fusesPool} says the input allows it.
     */
    public Tensor forwardThenPool(Tensor x, Activation then) {
        if (activation != Activation.IDENTITY) {
            throw new IllegalStateException(describe() + ": already applies " + activation + "; forwardThenPool(" + then + ") would apply two");
        }
        if (!fusesPool(x)) {
            throw new IllegalArgumentException(describe() + ": pooling fuses only into a channels-first batch norm of [N, C, H, W] with "
                    + "H, W ≥ 2, got input shape " + Shape.str(x.shape()));
        }
        return forward(x, then, true);
    }

    /** Whether {@link #forwardThenPool} serves this input: [N, C, H, W] normalized over axis 1, H and W at least 2, no own activation. */
    public boolean fusesPool(Tensor x) {
        int[] s = x.shape();
        return activation == Activation.IDENTITY && s.length == 4 && (axis == 1 || axis == -3) && s[1] == numFeatures && s[2] >= 2 && s[3] >= 2
                && !inplace;
    }

    private Tensor forward(Tensor x, Activation act) {
        return forward(x, act, false);
    }

    private Tensor forward(Tensor x, Activation act, boolean pool) {
        int[] shape = x.shape();
        if (shape.length < 2 || shape.length > 5) {
            throw new IllegalArgumentException(describe() + ": expected an input of rank 2 to 5, got rank " + shape.length
                    + " (input shape " + Shape.str(shape) + ")");
        }
        int ax = axis < 0 ? axis + shape.length : axis;
        if (ax < 0 || ax >= shape.length) {
            throw new IllegalArgumentException(describe() + ": feature axis " + axis + " does not exist in an input of rank "
                    + shape.length + " (input shape " + Shape.str(shape) + ")");
        }
        if (shape[ax] != numFeatures) {
            throw new IllegalArgumentException(describe() + ": input has " + shape[ax] + " features at axis " + ax + ", expected "
                    + numFeatures + " (input shape " + Shape.str(shape) + ")");
        }
        int A = Shape.product(shape, 0, ax), C = numFeatures, B = Shape.product(shape, ax + 1, shape.length);
        boolean estimating = estimateCount >= 0;
        boolean useBatch = estimating || !trackRunningStats || !effectiveUseAverages();
        boolean update = trackRunningStats && (estimating || effectiveUpdateAverages());
        if (inplace && (useBatch || Autograd.needsGrad(x, weight, bias))) {
            throw new IllegalStateException(describe() + ": in-place forward is for inference only (running statistics, "
                    + "no gradient): call eval() and run it inside Autograd.noGrad(), or build without inplace");
        }
        if ((useBatch || update) && (long) A * B < 2) {
            throw new IllegalArgumentException(describe() + ": expected more than 1 value per channel when computing batch "
                    + "statistics, got input shape " + Shape.str(shape) + " (use eval() or a larger batch)");
        }
        boolean writes = estimating || (update && !updateInBackward);
        if (!writes) return normalize(x, shape, A, C, B, useBatch, update, false, act, pool);
        enterUpdate();
        try {
            return normalize(x, shape, A, C, B, useBatch, update, estimating, act, pool);
        } finally {
            updating.set(false);
        }
    }

    /** Statistics, the normalization itself, and (when asked) the update of the running estimates. */
    private Tensor normalize(Tensor x, int[] shape, int A, int C, int B, boolean useBatch, boolean update, boolean estimating,
                             Activation activation, boolean pool) {
        double[] mean = new double[C], invStd = new double[C];
        Moments batch;
        Tensor y;
        if (useBatch && !inplace && ChannelNorm.batchStatsPerChannel(A, B)) {   // each channel's statistics, then its output, while it is in cache
            batch = new Moments(C);
            y = ChannelNorm.forwardBatchStats(x, weight, bias, A, C, B, eps, activation, pool, batch, mean, invStd);
            if (checkFinite) checkFinite(mean, invStd, batch, shape, true);   // before any state changes: y is dropped
        } else {
            batch = useBatch || update ? Statistics.perChannel(x, A, C, B) : null;
            for (int c = 0; c < C; c++) {
                if (useBatch) {
                    mean[c] = batch.mean[c];
                    invStd[c] = 1 / Math.sqrt(batch.varBiased(c) + eps);
                } else {
                    mean[c] = runningMean.data()[c];
                    invStd[c] = storage.invStd(runningSpread.data()[c], eps);
                }
            }
            if (checkFinite) checkFinite(mean, invStd, batch, shape, useBatch);
            y = ChannelNorm.forward(x, weight, bias, new ChannelNorm.Layout(A, C, B, 0, 1), mean, invStd, useBatch,
                    activation, inplace, pool);
        }
        if (estimating) {
            estimateCount++;
            RunningAverage cumulative = RunningAverage.cumulative();
            commitRunningStats(batch, cumulative, cumulative, estimateCount, false);
        } else if (update && updateInBackward) {
            Moments b = batch;
            return BackwardHook.attach(y, () -> {
                enterUpdate();
                try {
                    commitRunningStats(b);
                } finally {
                    updating.set(false);
                }
            });
        } else if (update) {
            commitRunningStats(batch);
        }
        return y;
    }

    /** Takes the update guard, or refuses: two threads folding batches in at once would lose updates. */
    private void enterUpdate() {
        if (!updating.compareAndSet(false, true)) {
            throw new IllegalStateException(describe() + " is being trained from another thread; a training-mode forward "
                    + "updates the running statistics, so run training from one thread (eval-mode forwards may run concurrently)");
        }
    }

    private void checkFinite(double[] mean, double[] invStd, Moments batch, int[] shape, boolean useBatch) {
        for (int c = 0; c < mean.length; c++) {
            boolean bad = !Double.isFinite(mean[c]) || !Double.isFinite(invStd[c])
                    || (batch != null && (!Double.isFinite(batch.mean[c]) || !Double.isFinite(batch.m2[c])));
            if (bad) {
                throw new IllegalArgumentException(describe() + ": non-finite statistics at feature " + c + " ("
                        + (useBatch ? "batch" : "running") + " mean " + mean[c] + ", invStd " + invStd[c] + ") for input shape "
                        + Shape.str(shape));
            }
        }
    }

    /** Folds one batch into the running estimates with the layer's own rules. */
    private void commitRunningStats(Moments batch) {
        commitRunningStats(batch, meanAverage, spreadAverage, numBatchesTracked[0] + 1, true);
    }

    /** Folds one batch in as the n-th update; computes everything before writing anything. */
    private void commitRunningStats(Moments batch, RunningAverage meanAverage, RunningAverage spreadAverage, long n, boolean count) {
        int C = numFeatures;
        float[] newMean = new float[C], newSpread = new float[C];
        double[] newBiasedMean = biasedMean == null ? null : biasedMean.clone();
        double[] newBiasedSpread = biasedSpread == null ? null : biasedSpread.clone();
        for (int c = 0; c < C; c++) {
            double var = runningVariance == VarianceEstimator.UNBIASED ? batch.varUnbiased(c) : batch.varBiased(c);
            newMean[c] = (float) average(meanAverage, n, runningMean.data()[c], batch.mean[c], newBiasedMean, c);
            double old = storage.averagedFromStored(runningSpread.data()[c]);
            double fed = storage.averagedFromBatchVariance(var, eps);
            newSpread[c] = (float) storage.storedFromAveraged(average(spreadAverage, n, old, fed, newBiasedSpread, c));
        }
        System.arraycopy(newMean, 0, runningMean.data(), 0, C);
        System.arraycopy(newSpread, 0, runningSpread.data(), 0, C);
        if (newBiasedMean != null) System.arraycopy(newBiasedMean, 0, biasedMean, 0, C);
        if (newBiasedSpread != null) System.arraycopy(newBiasedSpread, 0, biasedSpread, 0, C);
        if (count) numBatchesTracked[0] = n;
    }

    private static double average(RunningAverage rule, long n, double old, double batch, double[] biased, int c) {
        if (rule instanceof RunningAverage.ZeroDebiased z) {
            biased[c] = z.decay() * biased[c] + (1 - z.decay()) * batch;
            return biased[c] / (1 - Math.pow(z.decay(), n));
        }
        double w = rule.weightOfNew(n);
        return w * batch + (1 - w) * old;
    }

    // ---- population statistics (precise BN) -------------------------------------------------

    /** The running statistics and counters, copied: what {@link #restoreRunningState} puts back. */
    public record RunningState(float[] mean, float[] spread, double[] biasedMean, double[] biasedSpread, long numBatchesTracked) {}

    public RunningState runningState() {
        return new RunningState(runningMean == null ? null : runningMean.toArray(), runningSpread == null ? null : runningSpread.toArray(),
                biasedMean == null ? null : biasedMean.clone(), biasedSpread == null ? null : biasedSpread.clone(), numBatchesTracked[0]);
    }

    public void restoreRunningState(RunningState s) {
        if (runningMean != null) runningMean.copyFrom(s.mean());
        if (runningSpread != null) runningSpread.copyFrom(s.spread());
        if (biasedMean != null) System.arraycopy(s.biasedMean(), 0, biasedMean, 0, biasedMean.length);
        if (biasedSpread != null) System.arraycopy(s.biasedSpread(), 0, biasedSpread, 0, biasedSpread.length);
        numBatchesTracked[0] = s.numBatchesTracked();
    }

    /**
     * Starts re-estimating the population statistics: until {@link #endPopulationEstimate()}, every
     * forward normalizes with its batch statistics and folds them into the running estimates as a
     * cumulative average (the k-th batch with weight 1/k, in the convention's own variance
     * estimator and storage), in the forward pass whatever the convention, without touching
     * numBatchesTracked. The first batch replaces the old estimates entirely.
     */
    public void beginPopulationEstimate() {
        if (!trackRunningStats) throw new IllegalStateException(describe() + ": keeps no running statistics to re-estimate");
        estimateCount = 0;
    }

    /** Ends the re-estimation; returns how many batches it averaged. */
    public long endPopulationEstimate() {
        long k = Math.max(estimateCount, 0);
        estimateCount = -1;
        return k;
    }

    // ---- switches ------------------------------------------------------------------------

    @Override
    public BatchNorm train() {
        super.train();
        return this;
    }

    @Override
    public BatchNorm eval() {
        super.eval();
        return this;
    }

    @Override
    protected void setTraining(boolean training) {
        super.setTraining(training);
        useAverages = !training;
        updateAverages = training;
    }

    /** Normalize with the running estimates (true) or the batch statistics (false), whatever the mode. */
    public BatchNorm useAverages(boolean use) {
        this.useAverages = use;
        return this;
    }

    /** Fold each forward batch into the running estimates, whatever the mode. */
    public BatchNorm updateAverages(boolean update) {
        this.updateAverages = update;
        return this;
    }

    /**
     * Freezes (false) or unfreezes gamma and beta. In the KERAS convention a frozen layer also runs
     * in inference mode (TF2 semantics); elsewhere the statistics switches are untouched.
     */
    public BatchNorm trainable(boolean trainable) {
        this.trainable = trainable;
        if (weight != null) weight.requiresGrad(trainable);
        if (bias != null) bias.requiresGrad(trainable);
        return this;
    }

    public boolean isTrainable() {
        return trainable;
    }

    private boolean frozenInference() {
        return !trainable && convention.frozenRunsInference;
    }

    public boolean effectiveUseAverages() {
        return useAverages || frozenInference();
    }

    public boolean effectiveUpdateAverages() {
        return updateAverages && !frozenInference();
    }

    // ---- state ---------------------------------------------------------------------------

    /** gamma, or null when the layer has no scale. */
    public Parameter weight() {
        return weight;
    }

    /** beta, or null when the layer has no center. */
    public Parameter bias() {
        return bias;
    }

    public Tensor runningMean() {
        return runningMean;
    }

    /** The running variance, or null when the convention stores another form (or none). */
    public Tensor runningVar() {
        return storage == StatStorage.VAR ? runningSpread : null;
    }

    /** Lasagne's running inv_std = 1/sqrt(var + eps), or null. */
    public Tensor runningInvStd() {
        return storage == StatStorage.INV_STD ? runningSpread : null;
    }

    /** DL4J's running log10(std), or null. */
    public Tensor runningLog10Std() {
        return storage == StatStorage.LOG10_STD ? runningSpread : null;
    }

    /** The variance each stored running statistic stands for, whatever the storage; null without running stats. */
    public double[] populationVariance() {
        if (runningSpread == null) return null;
        double[] v = new double[numFeatures];
        for (int c = 0; c < numFeatures; c++) v[c] = storage.variance(runningSpread.data()[c], eps);
        return v;
    }

    /** 1/sqrt(var + eps) that inference uses, per feature; null without running stats. */
    public double[] inferenceInvStd() {
        if (runningSpread == null) return null;
        double[] v = new double[numFeatures];
        for (int c = 0; c < numFeatures; c++) v[c] = storage.invStd(runningSpread.data()[c], eps);
        return v;
    }

    /** Training forward passes folded into the running estimates (PyTorch's num_batches_tracked). */
    public long numBatchesTracked() {
        return numBatchesTracked[0];
    }

    public void numBatchesTracked(long n) {
        if (n < 0) throw new IllegalArgumentException(describe() + ": numBatchesTracked must be ≥ 0, got " + n);
        this.numBatchesTracked[0] = n;
    }

    public Convention convention() {
        return convention;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public double eps() {
        return eps;
    }

    public int axis() {
        return axis;
    }

    public StatStorage storage() {
        return storage;
    }

    public RunningAverage runningAverage() {
        return spreadAverage;
    }

    public RunningAverage meanRunningAverage() {
        return meanAverage;
    }

    public VarianceEstimator runningVariance() {
        return runningVariance;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public String describe() {
        return "BatchNorm(numFeatures=" + numFeatures + ", convention=" + convention + ")";
    }

    @Override
    public String toString() {
        return describe() + "[eps=" + eps + ", axis=" + axis + ", average=" + spreadAverage + ", runningVariance=" + runningVariance
                + ", storage=" + storage + ", affine=" + (weight != null) + "/" + (bias != null) + "]";
    }

    /** Options, each defaulting to the convention's value. */
    public static final class Builder {
        private final Convention convention;
        private final int numFeatures;
        private double eps;
        private RunningAverage runningAverage;
        private boolean zeroDebiasMovingMean;
        private VarianceEstimator runningVariance;
        private StatStorage storage;
        private boolean center;
        private boolean scale;
        private int axis;
        private Initializer gammaInit;
        private Initializer betaInit = Initializer.zeros();
        private Initializer movingMeanInit = Initializer.zeros();
        private Initializer movingSpreadInit;
        private double gammaL2;
        private double betaL2;
        private boolean empty;
        private boolean inplace;
        private boolean trackRunningStats = true;
        private boolean checkFinite;
        private boolean updateInBackward;
        private Activation activation = Activation.IDENTITY;
        private long seed;

        private Builder(Convention convention, int numFeatures) {
            if (convention == null) throw new IllegalArgumentException("BatchNorm: convention must not be null");
            if (numFeatures < 1) {
                throw new IllegalArgumentException("BatchNorm(numFeatures=" + numFeatures + "): numFeatures must be at least 1");
            }
            this.convention = convention;
            this.numFeatures = numFeatures;
            this.eps = convention.eps;
            this.runningAverage = convention.runningAverage;
            this.runningVariance = convention.runningVariance;
            this.storage = convention.storage;
            this.center = convention.center;
            this.scale = convention.scale;
            this.axis = convention.axis;
            this.gammaInit = convention.gammaInit;
            this.updateInBackward = convention.updateInBackward;
        }

        private String who() {
            return "BatchNorm(numFeatures=" + numFeatures + ", convention=" + convention + ")";
        }

        public Builder eps(double eps) {
            if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException(who() + ": eps must be finite and ≥ 0, got " + eps);
            this.eps = eps;
            return this;
        }

        /**
         * The convention's own momentum-like parameter: PyTorch's momentum and Lasagne's alpha weigh
         * the new value, Keras's momentum and TF/DL4J/d2l's decay the old one, PuzzleLib's is
         * minFactor. {@code null} means a cumulative average (PyTorch's {@code momentum=None}).
         */
        public Builder momentum(Double momentum) {
            this.runningAverage = momentum == null ? RunningAverage.cumulative() : convention.momentum(momentum);
            return this;
        }

        /** The running-average rule, stated explicitly. */
        public Builder runningAverage(RunningAverage rule) {
            if (rule == null) throw new IllegalArgumentException(who() + ": running-average rule must not be null");
            this.runningAverage = rule;
            return this;
        }

        /** TF1's zero_debias_moving_mean: the moving mean (only) is zero-debiased with the rule's decay. */
        public Builder zeroDebiasMovingMean(boolean on) {
            this.zeroDebiasMovingMean = on;
            return this;
        }

        public Builder runningVariance(VarianceEstimator estimator) {
            this.runningVariance = estimator;
            return this;
        }

        public Builder storage(StatStorage storage) {
            this.storage = storage;
            return this;
        }

        /** PyTorch's affine: gamma and beta together. */
        public Builder affine(boolean affine) {
            this.center = affine;
            this.scale = affine;
            return this;
        }

        /** Keras's center: a learned beta. */
        public Builder center(boolean center) {
            this.center = center;
            return this;
        }

        /** Keras's scale: a learned gamma. */
        public Builder scale(boolean scale) {
            this.scale = scale;
            return this;
        }

        /** The feature axis; negative counts from the end (-1 = channels-last). */
        public Builder axis(int axis) {
            if (axis < -5 || axis > 4) throw new IllegalArgumentException(who() + ": axis must be in -5..4 (rank ≤ 5), got " + axis);
            this.axis = axis;
            return this;
        }

        public Builder gammaInit(Initializer init) {
            this.gammaInit = init;
            return this;
        }

        public Builder betaInit(Initializer init) {
            this.betaInit = init;
            return this;
        }

        public Builder movingMeanInit(Initializer init) {
            this.movingMeanInit = init;
            return this;
        }

        /** Initializer of the stored spread (var, inv_std or log10 std, as the storage says). */
        public Builder movingVarianceInit(Initializer init) {
            this.movingSpreadInit = init;
            return this;
        }

        /** PuzzleLib's sscale: gamma ~ normal(1, sscale). */
        public Builder sscale(double sscale) {
            this.gammaInit = Initializer.normal(1.0, sscale);
            return this;
        }

        public Builder gammaL2(double lambda) {
            this.gammaL2 = lambda;
            return this;
        }

        public Builder betaL2(double lambda) {
            this.betaL2 = lambda;
            return this;
        }

        /** PuzzleLib's empty: allocate without running the initializers (everything zero), for loading. */
        public Builder empty(boolean empty) {
            this.empty = empty;
            return this;
        }

        /** PuzzleLib's inplace: inference writes y over x. Refused in training or when gradients are recorded. */
        public Builder inplace(boolean inplace) {
            this.inplace = inplace;
            return this;
        }

        /** PyTorch's track_running_stats: false keeps no running estimates and always uses batch statistics. */
        public Builder trackRunningStats(boolean track) {
            this.trackRunningStats = track;
            return this;
        }

        /** Refuse non-finite statistics with an error naming the feature (off by default: it costs a pass over C). */
        public Builder checkFinite(boolean check) {
            this.checkFinite = check;
            return this;
        }

        /**
         * DL4J's rule: the running estimates absorb a batch when its gradient is back-propagated, not
         * in the forward pass (a training forward without backward leaves them as they were).
         */
        public Builder updateInBackward(boolean on) {
            this.updateInBackward = on;
            return this;
        }

        /** An activation applied after the normalization, in the same pass. */
        public Builder activation(Activation activation) {
            this.activation = activation == null ? Activation.IDENTITY : activation;
            return this;
        }

        /** Seed of the initializers' random source (PuzzleLib's normal gamma). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public BatchNorm build() {
            if (Arrays.asList(runningVariance, storage, gammaInit, betaInit, movingMeanInit).contains(null)) {
                throw new IllegalArgumentException(who() + ": estimator, storage and initializers must not be null");
            }
            if (!(gammaL2 >= 0) || !(betaL2 >= 0)) throw new IllegalArgumentException(who() + ": L2 coefficients must be ≥ 0");
            if (zeroDebiasMovingMean && !(runningAverage instanceof RunningAverage.WeightOfOld
                    || runningAverage instanceof RunningAverage.WeightOfNew)) {
                throw new IllegalArgumentException(who() + ": zeroDebiasMovingMean needs a constant-decay rule, got " + runningAverage);
            }
            return new BatchNorm(this);
        }
    }
}
