package org.norm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Tensor;

class LeNetTest {
    @Test
    void d2lLayoutAndShapes() {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        assertEquals(16, net.size());
        assertTrue(net.get(1) instanceof BatchNorm && net.get(2) instanceof Sigmoid);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2, 10}, net.forward(Tensor.zeros(2, 1, 28, 28)).shape());
        assertEquals(12, LeNet.build(LeNet.Norm.NONE, Convention.PYTORCH, 0).size());
    }

    /** BN after the activation: the sigmoid stands between, so nothing folds, and the report says why. */
    @Test
    void activationThenNormDoesNotFold() {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, LeNet.Placement.ACT_NORM, 0);
        assertTrue(net.get(1) instanceof Sigmoid && net.get(2) instanceof BatchNorm);
        net.forward(Tensor.full(0.5f, 4, 1, 28, 28));
        net.eval();
        Folding.Result r = Folding.fold(net);
        assertEquals(0, r.foldedCount());
        assertEquals(4, r.report().size());
        assertTrue(r.report().get(0).detail().contains("Sigmoid") && r.report().get(0).detail().contains("cannot fold"), r.report().toString());
        Sequential d2l = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        d2l.forward(Tensor.full(0.5f, 4, 1, 28, 28));
        d2l.eval();
        assertEquals(4, Folding.fold(d2l).foldedCount());
    }
}
