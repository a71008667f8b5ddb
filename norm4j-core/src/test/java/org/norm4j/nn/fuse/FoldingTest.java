package org.norm4j.nn.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.GradCheck;

class FoldingTest {
    final Random rnd = new Random(11);

    /** Trains the model's BN statistics on a few random batches (forward and backward, for DL4J), then eval. */
    private void trainStats(Module model, int... shape) {
        for (int k = 0; k < 4; k++) {
            Tensor x = GradCheck.random(rnd, shape);
            Tensor y = model.forward(x);
            y.backward(Tensor.zeros(y.shape()));
        }
        for (Module m : model.modules()) {
            if (m instanceof BatchNorm bn) {
                GradCheck.randomize(rnd, bn.weight(), 1, 0.4);
                GradCheck.randomize(rnd, bn.bias(), 0, 0.5);
            }
        }
        model.eval();
    }

    private void assertFoldsExactly(String label, Sequential model, int... shape) {
        Folding.Result r = Folding.fold(model);
        assertEquals(1, r.foldedCount(), label + ": " + r.report());
        Tensor x = GradCheck.random(rnd, shape);
        try (var g = Autograd.noGrad()) {
            float[] want = model.forward(x).toArray(), got = r.model().forward(x).toArray();
            double scale = 0;
            for (float v : want) scale = Math.max(scale, Math.abs(v));
            Check.close(label + " folded = unfolded", got, Check.toDouble(want), 1e-5 * scale, 1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(Convention.class)
    void linearWithAndWithoutBias(Convention conv) {
        for (boolean bias : new boolean[] {true, false}) {
            Sequential m = new Sequential(new Linear(7, 5, bias, new Rng(1)), BatchNorm.builder(conv, 5).axis(1).build());
            trainStats(m, 16, 7);
            assertFoldsExactly(conv + " Linear bias=" + bias, m, 9, 7);
        }
    }

    @ParameterizedTest
    @EnumSource(Convention.class)
    void convWithGroupsStridesPadding(Convention conv) {
        Convolution.Geometry g = new Convolution.Geometry(2, 1, 1, 2, 1, 1, 2);
        for (boolean bias : new boolean[] {true, false}) {
            Sequential m = new Sequential(new Conv2d(4, 6, 3, 2, g, bias, new Rng(2)), BatchNorm.builder(conv, 6).axis(1).build());
            trainStats(m, 4, 4, 7, 6);
            assertFoldsExactly(conv + " Conv2d bias=" + bias, m, 3, 4, 7, 6);
        }
    }

    @Test
    void activationBetweenBlocksTheFoldAndIsNamed() {
        Sequential m = new Sequential(new Linear(4, 3), new ReLU(), BatchNorm.of(Convention.PYTORCH, 3));
        trainStats(m, 8, 4);
        Folding.Result r = Folding.fold(m);
        assertEquals(0, r.foldedCount());
        Folding.Entry e = r.report().get(0);
        assertFalse(e.folded());
        assertTrue(e.detail().contains("1: ReLU()") && e.detail().contains("activation") && e.layer().contains("BatchNorm"), e.toString());
        try (var g = Autograd.noGrad()) {
            Tensor x = GradCheck.random(rnd, 5, 4);
            Check.close("kept model unchanged", r.model().forward(x).toArray(), m.forward(x).toArray(), 0, 0);
        }
    }

    @Test
    void trainingModeIsRefused() {
        Sequential m = new Sequential(new Linear(4, 3), BatchNorm.of(Convention.PYTORCH, 3));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Folding.fold(m));
        assertTrue(e.getMessage().contains("training mode") && e.getMessage().contains("eval()"), e.getMessage());
    }

    @Test
    void fusedActivationBecomesALayer() {
        Sequential m = new Sequential(new Linear(4, 3), BatchNorm.builder(Convention.PYTORCH, 3).activation(Activation.TANH).build());
        trainStats(m, 8, 4);
        assertFoldsExactly("BN+tanh", m, 6, 4);
        assertEquals(2, Folding.fold(m).model().size());
    }

    /** Lasagne's batch_norm(layer): act(BN(W x)) without the layer's bias; it folds back to one layer. */
    @Test
    void lasagneBatchNormHelper() {
        Linear l = new Linear(5, 4, true, new Rng(3));
        float[] w = l.weight().toArray();
        Sequential block = BatchNormHelper.batchNorm(l, new ReLU(), Convention.LASAGNE);
        assertEquals(3, block.size());
        Linear nb = (Linear) block.get(0);
        assertEquals(null, nb.bias(), "the bias is gone: beta replaces it");
        Check.close("weights copied", nb.weight().toArray(), w, 0, 0);
        Check.close("original untouched", l.weight().toArray(), w, 0, 0);
        assertTrue(block.get(1) instanceof BatchNorm && block.get(2) instanceof ReLU);
        Sequential net = new Sequential(block, new Linear(4, 2));
        trainStats(net, 8, 5);
        assertFoldsExactly("batchNorm(layer) then fold", net, 6, 5);
        assertThrows(IllegalArgumentException.class, () -> BatchNormHelper.batchNorm(new ReLU(), null, Convention.PYTORCH));
    }
}
