package org.norm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.Fixture;

/**
 * norm4j against PyTorch 1.13 output (fixtures from tools/make_fixtures.py): three training steps
 * (output, dx, dweight, dbias, running statistics, num_batches_tracked), then one eval step.
 *
 * <p>Tolerance: "float32 rounding" of the quantities involved. PyTorch computes y as x·a + b in
 * float and sums gradients in float; norm4j subtracts the mean first and sums in double, so the two
 * differ by a few float ulps of the largest term: atol 2e-6, rtol 2e-6 (values are O(1)).
 */
class PyTorchFixtureTest {
    static final double ATOL = 2e-6, RTOL = 2e-6;

    @ParameterizedTest
    @ValueSource(strings = {"bn1d_2d", "bn1d_2d_none", "bn1d_3d", "bn2d", "bn2d_none", "bn2d_m03_eps1e-3", "bn2d_noaffine",
            "bn2d_notrack", "bn3d", "ln_last", "ln_chw", "ln_noaffine", "gn", "gn_noaffine", "gn_1d", "in2d",
            "in2d_affine_track", "in1d_affine"})
    void matchesPyTorch(String name) {
        Fixture f = Fixture.load(name);
        Module m = build(f);
        Parameter w = m.namedParameters().get("weight"), b = m.namedParameters().get("bias");
        if (f.has("weight")) w.copyFrom(f.get("weight"));
        if (f.has("bias")) b.copyFrom(f.get("bias"));
        Tensor rm = m.namedBuffers().get("runningMean"), rv = m.namedBuffers().get("runningVar");
        if (f.has("running_mean.init")) {
            rm.copyFrom(f.get("running_mean.init"));
            rv.copyFrom(f.get("running_var.init"));
        }
        for (int k = 0; k < f.steps(); k++) {
            m.train();
            step(f, m, String.valueOf(k), w, b);
            if (f.has("running_mean." + k)) {
                Check.close(name + " running_mean." + k, rm.toArray(), f.get("running_mean." + k), ATOL, RTOL);
                Check.close(name + " running_var." + k, rv.toArray(), f.get("running_var." + k), ATOL, RTOL);
                if (m instanceof BatchNorm bn) {
                    assertEquals((long) f.get("num_batches_tracked." + k)[0], bn.numBatchesTracked(), name + " num_batches_tracked." + k);
                }
            }
        }
        m.eval();
        float[] rmBefore = rm == null ? null : rm.toArray();
        step(f, m, "eval", w, b);
        if (rm != null) Check.close(name + " running_mean unchanged by eval", rm.toArray(), rmBefore, 0, 0);
    }

    private static void step(Fixture f, Module m, String k, Parameter w, Parameter b) {
        String name = f.name;
        m.zeroGrad();
        Tensor x = Tensor.of(f.get("x." + k), f.shape("x." + k)).requiresGrad(true);
        Tensor y = m.forward(x);
        Check.close(name + " y." + k, y.toArray(), f.get("y." + k), ATOL, RTOL);
        y.backward(Tensor.of(f.get("dy." + k), f.shape("dy." + k)));
        Check.close(name + " dx." + k, x.grad().toArray(), f.get("dx." + k), ATOL, RTOL);
        if (w != null) Check.close(name + " dweight." + k, w.grad().toArray(), f.get("dweight." + k), ATOL, RTOL);
        if (b != null) Check.close(name + " dbias." + k, b.grad().toArray(), f.get("dbias." + k), ATOL, RTOL);
    }

    static Module build(Fixture f) {
        String layer = f.cfg("layer");
        double eps = Double.parseDouble(f.cfg("eps"));
        boolean affine = "1".equals(f.cfg("affine"));
        boolean track = "1".equals(f.cfg("track_running_stats"));
        if (layer.startsWith("BatchNorm")) {
            String mom = f.cfg("momentum");
            return BatchNorm.builder(Convention.PYTORCH, Integer.parseInt(f.cfg("num_features")))
                    .eps(eps).momentum(mom.equals("None") ? null : Double.valueOf(mom))
                    .affine(affine).trackRunningStats(track).build();
        }
        if (layer.startsWith("InstanceNorm")) {
            return new InstanceNorm(Integer.parseInt(f.cfg("num_features")), eps, Double.parseDouble(f.cfg("momentum")), affine, track);
        }
        if (layer.equals("LayerNorm")) {
            int[] shape = Arrays.stream(f.cfg("normalized_shape").split(",")).mapToInt(Integer::parseInt).toArray();
            return new LayerNorm(shape, eps, affine);
        }
        if (layer.equals("GroupNorm")) {
            return new GroupNorm(Integer.parseInt(f.cfg("num_groups")), Integer.parseInt(f.cfg("num_channels")), eps, affine);
        }
        throw new IllegalStateException("unknown layer " + layer);
    }
}
