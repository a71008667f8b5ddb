package org.norm4j.nn.norm;

import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Moments;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.ops.ChannelNorm;
import org.norm4j.ops.Statistics;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * Instance normalization, as torch.nn.InstanceNorm1d/2d/3d: input [N, C, *]; statistics per
 * (sample, channel) over the spatial axes, biased variance. Defaults as PyTorch: eps 1e-5,
 * momentum 0.1, {@code affine=false}, {@code trackRunningStats=false}.
 *
 * <p>With {@code trackRunningStats}, training updates running mean and variance with the batch
 * average of the per-instance statistics (unbiased per-instance variance, weight of the new value
 * = momentum), and inference normalizes with them, exactly as PyTorch. PyTorch's InstanceNorm
 * never increments num_batches_tracked, so neither does this layer.
 */
public final class InstanceNorm extends Module {
    private final int numFeatures;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Tensor runningMean;
    private final Tensor runningVar;

    public InstanceNorm(int numFeatures) {
        this(numFeatures, 1e-5, 0.1, false, false);
    }

    public InstanceNorm(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        if (numFeatures < 1) throw new IllegalArgumentException("InstanceNorm(numFeatures=" + numFeatures + "): must be at least 1");
        if (!(eps >= 0)) throw new IllegalArgumentException("InstanceNorm: eps must be ≥ 0, got " + eps);
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("InstanceNorm: momentum must be in [0, 1], got " + momentum);
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = affine ? registerParameter("weight", GroupNorm.ones(numFeatures)) : null;
        this.bias = affine ? registerParameter("bias", new Parameter(new float[numFeatures], numFeatures)) : null;
        if (trackRunningStats) {
            this.runningMean = registerBuffer("runningMean", Tensor.zeros(numFeatures));
            this.runningVar = registerBuffer("runningVar", Tensor.full(1f, numFeatures));
        } else {
            this.runningMean = null;
            this.runningVar = null;
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        int[] shape = x.shape();
        GroupNorm.checkChannelsFirst(describe(), shape, numFeatures);
        int N = shape[0], C = numFeatures, B = Shape.product(shape, 2, shape.length);
        boolean useRunning = runningMean != null && !isTraining();
        if (useRunning) {
            double[] mean = new double[C], invStd = new double[C];
            for (int c = 0; c < C; c++) {
                mean[c] = runningMean.data()[c];
                invStd[c] = 1 / Math.sqrt(runningVar.data()[c] + eps);
            }
            return ChannelNorm.forward(x, weight, bias, new ChannelNorm.Layout(N, C, B, 0, 1), mean, invStd, false,
                    Activation.IDENTITY, false);
        }
        if (B < 2 && isTraining()) {
            throw new IllegalArgumentException(describe() + ": expected more than 1 spatial element per channel when training, "
                    + "got input shape " + Shape.str(shape));
        }
        ChannelNorm.Layout layout = new ChannelNorm.Layout(N, C, B, C, 1);
        Moments m;
        Tensor y;
        if (ChannelNorm.rowStatsInCache(B)) {   // each plane's statistics, then its output, while it is in cache
            m = new Moments(N * C);
            y = ChannelNorm.forwardRowStats(x, weight, bias, layout, eps, m, new double[N * C]);
        } else {
            m = Statistics.perRow(x, N * C, B);
            double[] invStd = new double[N * C];
            for (int s = 0; s < invStd.length; s++) invStd[s] = 1 / Math.sqrt(m.varBiased(s) + eps);
            y = ChannelNorm.forward(x, weight, bias, layout, m.mean, invStd, true, Activation.IDENTITY, false);
        }
        if (runningMean != null && isTraining()) {
            float[] rm = runningMean.data(), rv = runningVar.data();
            float[] newMean = new float[C], newVar = new float[C];
            for (int c = 0; c < C; c++) {
                double meanAvg = 0, varAvg = 0;
                for (int n = 0; n < N; n++) {
                    meanAvg += m.mean[n * C + c];
                    varAvg += m.varUnbiased(n * C + c);
                }
                newMean[c] = (float) (momentum * meanAvg / N + (1 - momentum) * rm[c]);
                newVar[c] = (float) (momentum * varAvg / N + (1 - momentum) * rv[c]);
            }
            System.arraycopy(newMean, 0, rm, 0, C);
            System.arraycopy(newVar, 0, rv, 0, C);
        }
        return y;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    @Override
    public String describe() {
        return "InstanceNorm(numFeatures=" + numFeatures + ")";
    }
}
