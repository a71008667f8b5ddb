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
 * Group normalization, as torch.nn.GroupNorm: input [N, C, *]; statistics per (sample, group of
 * C/G channels) with the biased variance; per-channel affine (gamma ones, beta zeros). Training
 * and inference compute the same thing. GroupNorm(1, C) is LayerNorm over (C, *) with per-channel
 * affine; GroupNorm(C, C) is InstanceNorm.
 */
public final class GroupNorm extends Module {
    private final int numGroups;
    private final int numChannels;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public GroupNorm(int numGroups, int numChannels) {
        this(numGroups, numChannels, 1e-5, true);
    }

    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine) {
        if (numGroups < 1 || numChannels < 1 || numChannels % numGroups != 0) {
            throw new IllegalArgumentException("GroupNorm(numGroups=" + numGroups + ", numChannels=" + numChannels
                    + "): numChannels must be a positive multiple of numGroups");
        }
        if (!(eps >= 0)) throw new IllegalArgumentException("GroupNorm: eps must be ≥ 0, got " + eps);
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        this.weight = affine ? registerParameter("weight", ones(numChannels)) : null;
        this.bias = affine ? registerParameter("bias", new Parameter(new float[numChannels], numChannels)) : null;
    }

    static Parameter ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return new Parameter(v, n);
    }

    @Override
    public Tensor forward(Tensor x) {
        int[] shape = x.shape();
        checkChannelsFirst(describe(), shape, numChannels);
        int A = shape[0], C = numChannels, B = Shape.product(shape, 2, shape.length), cpg = C / numGroups;
        long perGroup = (long) cpg * B;
        ChannelNorm.Layout layout = new ChannelNorm.Layout(A, C, B, numGroups, cpg);
        if (ChannelNorm.rowStatsInCache(perGroup)) {   // each group's statistics, then its output, while it is in cache
            return ChannelNorm.forwardRowStats(x, weight, bias, layout, eps, new Moments(A * numGroups), new double[A * numGroups]);
        }
        Moments m = Statistics.perRow(x, A * numGroups, (int) perGroup);
        double[] invStd = new double[m.groups()];
        for (int s = 0; s < invStd.length; s++) invStd[s] = 1 / Math.sqrt(m.varBiased(s) + eps);
        return ChannelNorm.forward(x, weight, bias, layout, m.mean, invStd, true, Activation.IDENTITY, false);
    }

    /** Checks an [N, C, *] input of rank 2 to 5 with C channels, or throws naming the layer and shape. */
    static void checkChannelsFirst(String who, int[] shape, int channels) {
        if (shape.length < 2 || shape.length > 5) {
            throw new IllegalArgumentException(who + ": expected an input [N, C, *] of rank 2 to 5, got rank " + shape.length
                    + " (input shape " + Shape.str(shape) + ")");
        }
        if (shape[1] != channels) {
            throw new IllegalArgumentException(who + ": input has " + shape[1] + " channels at axis 1, expected " + channels
                    + " (input shape " + Shape.str(shape) + ")");
        }
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public String describe() {
        return "GroupNorm(numGroups=" + numGroups + ", numChannels=" + numChannels + ")";
    }
}
