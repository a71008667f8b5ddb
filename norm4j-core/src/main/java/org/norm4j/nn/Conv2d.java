package org.norm4j.nn;

import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Shape;
import org.norm4j.tensor.Tensor;

/**
 * 2-D convolution of [N, Cin, H, W], as torch.nn.Conv2d: square or rectangular kernel, stride,
 * zero padding, dilation, groups, optional bias, PyTorch's default initialization.
 */
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final Convolution.Geometry geometry;
    private final Parameter weight;
    private final Parameter bias;

    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, kernelSize, new Convolution.Geometry(stride, stride, padding, padding, 1, 1, 1),
                true, new Rng(0));
    }

    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, Convolution.Geometry geometry, boolean bias, Rng rng) {
        int groups = geometry.groups();
        if (inChannels < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1 || groups < 1
                || inChannels % groups != 0 || outChannels % groups != 0
                || geometry.strideH() < 1 || geometry.strideW() < 1 || geometry.padH() < 0 || geometry.padW() < 0
                || geometry.dilH() < 1 || geometry.dilW() < 1) {
            throw new IllegalArgumentException("Conv2d(" + inChannels + ", " + outChannels + ", kernel " + kernelH + "x" + kernelW
                    + ", " + geometry + "): channels must be positive multiples of groups, kernel/stride/dilation ≥ 1, padding ≥ 0");
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.geometry = geometry;
        int cig = inChannels / groups;
        this.weight = registerParameter("weight",
                new Parameter(new float[outChannels * cig * kernelH * kernelW], outChannels, cig, kernelH, kernelW));
        this.bias = bias ? registerParameter("bias", new Parameter(new float[outChannels], outChannels)) : null;
        int fanIn = cig * kernelH * kernelW;
        Init.torchDefault(weight, fanIn, rng);
        if (this.bias != null) Init.torchDefault(this.bias, fanIn, rng);
    }

    @Override
    public Tensor forward(Tensor x) {
        int[] s = x.shape();
        if (s.length != 4 || s[1] != inChannels) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + inChannels + ", H, W], got " + Shape.str(s));
        }
        int effH = geometry.dilH() * (kernelH - 1) + 1, effW = geometry.dilW() * (kernelW - 1) + 1;
        if (s[2] + 2 * geometry.padH() < effH || s[3] + 2 * geometry.padW() < effW) {
            throw new IllegalArgumentException(describe() + ": input " + Shape.str(s) + " is smaller than the kernel (" + effH + "x" + effW
                    + " with dilation) after padding");
        }
        return Convolution.forward(x, weight, bias, geometry);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Convolution.Geometry geometry() {
        return geometry;
    }

    public int outChannels() {
        return outChannels;
    }

    @Override
    public String describe() {
        return "Conv2d(" + inChannels + ", " + outChannels + ", kernel=" + kernelH + "x" + kernelW + ")";
    }
}
