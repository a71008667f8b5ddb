package org.norm4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.norm4j.nn.Parameter;

/** Optimizer updates against the PyTorch update rules worked by hand. */
class OptimizerTest {
    static Parameter param(float v, float grad) {
        Parameter p = new Parameter(new float[] {v}, 1);
        p.gradBuffer()[0] = grad;
        return p;
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        Parameter p = param(1f, 0.5f);
        SGD sgd = new SGD(List.of(p), 0.1, 0.9, 0, 0.01, false);
        sgd.step();                          // d = 0.5 + 0.01 = 0.51; buf = 0.51; p = 1 − 0.051
        assertEquals(0.949, p.data()[0], 1e-6);
        sgd.step();                          // d = 0.5 + 0.00949; buf = 0.9·0.51 + 0.50949; p −= 0.1·buf
        assertEquals(0.949 - 0.1 * (0.9 * 0.51 + 0.50949), p.data()[0], 1e-6);
        Parameter q = param(1f, 2f);
        new SGD(List.of(q), 0.5).step();
        assertEquals(0f, q.data()[0], 0f);
    }

    /** torch.optim.SGD's steps bit for bit: plain, momentum with weight decay, dampening, Nesterov (tools/make_sgd_fixture.py). */
    @Test
    void sgdIsPyTorchsBitForBit() {
        org.norm4j.testing.Fixture f = org.norm4j.testing.Fixture.load("sgd");
        for (int k = 0; k < Integer.parseInt(f.cfg("cases")); k++) {
            String c = "c" + k + ".";
            float[] init = f.get(c + "p.init");
            Parameter p = new Parameter(init.clone(), init.length);
            SGD sgd = new SGD(List.of(p), Double.parseDouble(f.cfg(c + "lr")), Double.parseDouble(f.cfg(c + "momentum")),
                    Double.parseDouble(f.cfg(c + "dampening")), Double.parseDouble(f.cfg(c + "weight_decay")), f.cfg(c + "nesterov").equals("1"));
            for (int s = 0; s < f.steps(); s++) {
                System.arraycopy(f.get(c + "g." + s), 0, p.gradBuffer(), 0, init.length);
                sgd.step();
                org.junit.jupiter.api.Assertions.assertArrayEquals(f.get(c + "p." + s), p.data(), "case " + k + " step " + s);
            }
        }
    }

    @Test
    void adamFirstStepMovesByLr() {
        // m̂ = g, v̂ = g² at step 1, so the step is lr·g/(|g| + eps).
        Parameter p = param(1f, -3f);
        Adam.adam(List.of(p), 0.01).step();
        assertEquals(1.01, p.data()[0], 1e-6);
        Parameter q = param(1f, 0.2f);
        Adam w = Adam.adamW(List.of(q), 0.1);
        w.step();                            // p·(1 − 0.1·0.01) − 0.1·sign(g)
        assertEquals(1 * (1 - 0.001) - 0.1, q.data()[0], 1e-6);
    }

    @Test
    void frozenAndGradientlessParametersAreSkipped() {
        Parameter frozen = param(1f, 1f);
        frozen.requiresGrad(false);
        Parameter noGrad = new Parameter(new float[] {2f}, 1);
        new SGD(List.of(frozen, noGrad), 1).step();
        assertEquals(1f, frozen.data()[0]);
        assertEquals(2f, noGrad.data()[0]);
    }

    @Test
    void schedules() {
        assertEquals(0.1, LrSchedule.step(1, 2, 0.1).lr(2), 1e-12);
        assertEquals(1, LrSchedule.step(1, 2, 0.1).lr(1), 1e-12);
        assertEquals(0.5, LrSchedule.cosine(1, 10, 0).lr(5), 1e-12);
        assertEquals(0, LrSchedule.cosine(1, 10, 0).lr(10), 1e-12);
    }

    @Test
    void stateRoundTripContinuesExactly() {
        Parameter a = param(1f, 0.3f), b = param(1f, 0.3f);
        Adam one = Adam.adam(List.of(a), 0.1);
        one.step();
        Adam two = Adam.adam(List.of(b), 0.1);
        b.data()[0] = a.data()[0];
        two.loadState(one.state(), one.steps());
        one.step();
        two.step();
        assertEquals(a.data()[0], b.data()[0], 0f, "restored Adam continues as the original");
        SGD sgd = new SGD(List.of(param(1f, 1f)), 0.1, 0.9, 0, 0, false);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> sgd.loadState(java.util.Map.of("0.momentum", new float[3]), 1), "wrong size refused");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> sgd.loadState(java.util.Map.of("0.expAvg", new float[1]), 1), "unknown slot refused");
    }
}
