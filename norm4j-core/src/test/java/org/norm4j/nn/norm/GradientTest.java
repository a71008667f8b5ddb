package org.norm4j.nn.norm;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.Module;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.GradCheck;

/** Finite-difference gradient checks for every normalization layer and mode. */
class GradientTest {
    final Random rnd = new Random(42);

    private void check(String label, Module m, int... shape) {
        Tensor w = m.namedParameters().get("weight"), b = m.namedParameters().get("bias");
        GradCheck.randomize(rnd, w, 1, 0.3);
        GradCheck.randomize(rnd, b, 0, 0.5);
        GradCheck.check(label, m::forward, GradCheck.random(rnd, shape), w, b);
    }

    @Test
    void batchNormTrainingChannelsFirst() {
        check("BN train [4,3,2,3]", BatchNorm.of(Convention.PYTORCH, 3), 4, 3, 2, 3);
        check("BN train [5,3] (2-D)", BatchNorm.of(Convention.PYTORCH, 3), 5, 3);
        check("BN train rank 5", BatchNorm.of(Convention.D2L, 2), 2, 2, 2, 2, 3);
    }

    @Test
    void batchNormTrainingChannelsLastAndOtherAxes() {
        check("BN Keras channels-last [3,2,2,4]", BatchNorm.of(Convention.KERAS, 4), 3, 2, 2, 4);
        check("BN axis 2 of rank 4", BatchNorm.builder(Convention.PYTORCH, 3).axis(2).build(), 2, 2, 3, 2);
        check("BN axis 0", BatchNorm.builder(Convention.PYTORCH, 3).axis(0).build(), 3, 4, 2);
    }

    @Test
    void batchNormInference() {
        BatchNorm bn = BatchNorm.of(Convention.PYTORCH, 3);
        bn.runningMean().copyFrom(new float[] {0.3f, -0.2f, 1f});
        bn.runningVar().copyFrom(new float[] {0.5f, 2f, 1.3f});
        check("BN eval", bn.eval(), 4, 3, 5);
        check("Lasagne use averages while training", BatchNorm.of(Convention.LASAGNE, 3).useAverages(true).updateAverages(false), 4, 3, 5);
        BatchNorm dl = BatchNorm.of(Convention.DL4J, 3);
        dl.runningLog10Std().copyFrom(new float[] {0.1f, -0.3f, 0.2f});
        check("DL4J eval (log10 std)", dl.eval(), 4, 3, 5);
    }

    @Test
    void batchNormFusedActivation() {
        check("BN+sigmoid", BatchNorm.builder(Convention.PYTORCH, 3).activation(Activation.SIGMOID).build(), 4, 3, 5);
        check("BN+tanh channels-last", BatchNorm.builder(Convention.KERAS, 3).activation(Activation.TANH).build(), 4, 5, 3);
    }

    @Test
    void batchNormWithoutAffineOrWithScaleOnly() {
        check("BN no affine", BatchNorm.builder(Convention.PYTORCH, 3).affine(false).build(), 4, 3, 5);
        check("TF contrib (beta only)", BatchNorm.of(Convention.TF_CONTRIB, 3), 4, 5, 3);
    }

    @Test
    void groupNorm() {
        check("GN(3,6) [2,6,3,2]", new GroupNorm(3, 6), 2, 6, 3, 2);
        check("GN(2,4) 2-D [3,4]", new GroupNorm(2, 4), 3, 4);
        check("GN(1,4)", new GroupNorm(1, 4), 2, 4, 5);
    }

    @Test
    void instanceNorm() {
        check("IN affine [2,3,7]", new InstanceNorm(3, 1e-5, 0.1, true, false), 2, 3, 7);
        check("IN tracked, training [2,3,2,3]", new InstanceNorm(3, 1e-5, 0.1, true, true), 2, 3, 2, 3);
        InstanceNorm in = new InstanceNorm(3, 1e-5, 0.1, true, true);
        in.eval();
        check("IN tracked, eval", in, 2, 3, 4);
    }

    @Test
    void layerNormAndRmsNorm() {
        check("LN(5) [3,4,5]", new LayerNorm(5), 3, 4, 5);
        check("LN(3,4) [2,3,4]", new LayerNorm(3, 4), 2, 3, 4);
        check("LN no affine", new LayerNorm(new int[] {6}, 1e-5, false), 4, 6);
        check("RMSNorm(7) [3,7]", new RMSNorm(7), 3, 7);
        check("RMSNorm(2,3) [2,2,3]", new RMSNorm(2, 3), 2, 2, 3);
    }
}
