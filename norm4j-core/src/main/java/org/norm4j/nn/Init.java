package org.norm4j.nn;

import org.norm4j.tensor.Rng;

/**
 * Weight initializers by fan-in and fan-out, as torch.nn.init. For a weight [out, in, k...]:
 * fanIn = in·Πk, fanOut = out·Πk.
 */
public final class Init {
    private Init() {}

    /** Glorot/Xavier uniform: U(−a, a), a = gain·sqrt(6/(fanIn + fanOut)) (d2l initializes LeNet with it). */
    public static void xavierUniform(Parameter p, int fanIn, int fanOut, Rng rng) {
        uniform(p, Math.sqrt(6.0 / (fanIn + fanOut)), rng);
    }

    public static void xavierNormal(Parameter p, int fanIn, int fanOut, Rng rng) {
        normal(p, Math.sqrt(2.0 / (fanIn + fanOut)), rng);
    }

    /** He/Kaiming uniform for ReLU: U(−a, a), a = sqrt(6/fanIn). */
    public static void kaimingUniform(Parameter p, int fanIn, Rng rng) {
        uniform(p, Math.sqrt(6.0 / fanIn), rng);
    }

    public static void kaimingNormal(Parameter p, int fanIn, Rng rng) {
        normal(p, Math.sqrt(2.0 / fanIn), rng);
    }

    /** PyTorch's default for Linear and Conv2d weights and biases: U(−1/sqrt(fanIn), 1/sqrt(fanIn)). */
    public static void torchDefault(Parameter p, int fanIn, Rng rng) {
        uniform(p, 1 / Math.sqrt(fanIn), rng);
    }

    public static void uniform(Parameter p, double bound, Rng rng) {
        float[] v = p.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.uniform(-bound, bound);
    }

    public static void normal(Parameter p, double std, Rng rng) {
        float[] v = p.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.normal(0, std);
    }

    /** Fan-in and fan-out of a weight of shape [out, in, k...]. */
    public static int[] fans(int[] shape) {
        int receptive = 1;
        for (int i = 2; i < shape.length; i++) receptive *= shape[i];
        return new int[] {shape[1] * receptive, shape[0] * receptive};
    }
}
