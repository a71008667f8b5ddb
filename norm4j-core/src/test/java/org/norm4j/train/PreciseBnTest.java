package org.norm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.VarianceEstimator;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

class PreciseBnTest {
    static List<Tensor> batches(int k, int n, int c, long seed) {
        Random rnd = new Random(seed);
        List<Tensor> out = new ArrayList<>();
        for (int b = 0; b < k; b++) {
            float[] v = new float[n * c];
            for (int i = 0; i < v.length; i++) v[i] = (float) (3 * (i % c) + (1 + b) * rnd.nextGaussian());
            out.add(Tensor.of(v, n, c));
        }
        return out;
    }

    /** The cumulative average of per-batch statistics, in each convention's own estimator and storage. */
    @ParameterizedTest
    @EnumSource(value = Convention.class, names = {"PYTORCH", "LASAGNE", "DL4J", "KERAS", "PUZZLELIB"})
    void averagesTheBatchStatistics(Convention conv) {
        int n = 16, c = 3, k = 5;
        BatchNorm bn = BatchNorm.builder(conv, c).axis(1).build();
        List<Tensor> xs = batches(k, n, c, 1);
        for (Tensor x : xs) bn.forward(x);   // some ordinary training first
        long tracked = bn.numBatchesTracked();
        assertEquals(k, PreciseBn.recompute(bn, batches(k, n, c, 2), 10));
        double[] mean = new double[c], spread = new double[c];
        for (Tensor x : batches(k, n, c, 2)) {
            float[] v = x.data();
            for (int ch = 0; ch < c; ch++) {
                double m = 0, q = 0;
                for (int r = 0; r < n; r++) m += v[r * c + ch] / (double) n;
                for (int r = 0; r < n; r++) q += Math.pow(v[r * c + ch] - m, 2);
                double var = bn.runningVariance() == VarianceEstimator.UNBIASED ? q / (n - 1) : q / n;
                mean[ch] += m / k;
                spread[ch] += (conv == Convention.LASAGNE ? 1 / Math.sqrt(var + bn.eps()) : var) / k;
            }
        }
        if (conv == Convention.DL4J) for (int ch = 0; ch < c; ch++) spread[ch] = Math.log10(Math.sqrt(spread[ch]));
        Check.close(conv + " population mean", bn.runningMean().toArray(), mean, 1e-6, 1e-6);
        Tensor s = bn.runningVar() != null ? bn.runningVar() : bn.runningInvStd() != null ? bn.runningInvStd() : bn.runningLog10Std();
        Check.close(conv + " population spread", s.toArray(), spread, 1e-6, 1e-6);
        assertEquals(tracked, bn.numBatchesTracked(), "numBatchesTracked untouched");
        // afterwards the layer is an ordinary layer again: a training forward uses its own rule
        float[] before = bn.runningMean().toArray();
        bn.forward(xs.get(0)).backward(Tensor.zeros(n, c));
        assertEquals(tracked + 1, bn.numBatchesTracked());
        org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(before, bn.runningMean().toArray()));
    }

    @Test
    void weightsUntouchedAndStateRestoredOnFailure() {
        Sequential m = new Sequential(new Linear(3, 4), BatchNorm.of(Convention.PYTORCH, 4), new Linear(4, 2), BatchNorm.of(Convention.PYTORCH, 2));
        for (Tensor x : batches(3, 8, 3, 5)) m.forward(x);
        var before = PreciseBn.snapshot(m);
        float[] w = m.parameters().get(0).toArray();
        List<Tensor> bad = new ArrayList<>(batches(2, 8, 3, 6));
        bad.add(Tensor.zeros(8, 5));   // wrong feature count: Linear refuses it halfway through
        assertThrows(IllegalArgumentException.class, () -> PreciseBn.recompute(m, bad, 10));
        PreciseBn.snapshot(m).forEach((bn, s) -> {
            Check.close("mean restored", s.mean(), before.get(bn).mean(), 0, 0);
            Check.close("var restored", s.spread(), before.get(bn).spread(), 0, 0);
        });
        Check.close("weights untouched", m.parameters().get(0).toArray(), w, 0, 0);
        PreciseBn.recompute(m, batches(2, 8, 3, 6), 10);   // and it still works afterwards
        assertThrows(IllegalArgumentException.class, () -> PreciseBn.recompute(m, List.of(), 3));
    }
}
