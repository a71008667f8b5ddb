package org.norm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;

/**
 * The training loop under bad settings: a loss that stops being a number, an update that
 * overflows the parameters although the loss was finite, the memory estimate that lets
 * {@code norm4j train} refuse a batch too large for the heap, and a batch size larger than int
 * arithmetic likes.
 */
class TrainerReliabilityTest {
    static Dataset data(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * 4 * 4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(3);
            for (int p = 0; p < 16; p++) x[i * 16 + p] = (float) (y[i] + rnd.nextGaussian());
        }
        return new Dataset("synthetic", x, y, 4, 4, List.of("a", "b", "c"));
    }

    static Sequential model() {
        return new Sequential(new Flatten(), new Linear(16, 8, true, new org.norm4j.tensor.Rng(1)),
                BatchNorm.of(Convention.PYTORCH, 8), new Linear(8, 3, true, new org.norm4j.tensor.Rng(2)));
    }

    static Map<String, float[]> parameters(Sequential m) {
        Map<String, float[]> p = new java.util.LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> p.put(k, v.toArray()));
        return p;
    }

    @Test
    void nonFiniteLossStopsBeforeTheStepWithEpochAndBatch() {
        Sequential m = model();
        DataLoader loader = new DataLoader(data(64, 1), 8, true, 0);
        SGD opt = new SGD(m.parameters(), 1e38);   // overflows float within a few steps
        Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class,
                () -> Trainer.trainEpoch(m, loader, opt, 3, new Trainer.Listener() {}));
        assertTrue(e.getMessage().matches("training diverged: .* at epoch 3, batch \\d+ of 8.*; try a lower learning rate \\(--lr\\)"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    /**
     * lr 1e300: the first loss is finite but the update is infinite. Without the parameter check
     * this epoch would end with infinite weights for the caller to checkpoint (every later loss is
     * NaN, but an epoch of one batch never computes one).
     */
    @Test
    void anUpdateThatOverflowsStopsTheEpochEvenWhenTheLossWasFinite() {
        Sequential m = model();
        DataLoader oneBatch = new DataLoader(data(8, 2), 8, false, 0);
        SGD opt = new SGD(m.parameters(), 1e300);
        Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class,
                () -> Trainer.trainEpoch(m, oneBatch, opt, 1, new Trainer.Listener() {}));
        assertTrue(e.getMessage().startsWith("training diverged: the update made parameter "), e.getMessage());
        assertTrue(e.getMessage().contains("Infinity at element") && e.getMessage().contains("at epoch 1, batch 1 of 1 (loss "),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("try a lower learning rate (--lr)"), e.getMessage());
    }

    @Test
    void aSaneRunIsNotStopped() {
        Sequential m = model();
        DataLoader loader = new DataLoader(data(64, 3), 8, true, 0);
        double[] lossAcc = Trainer.trainEpoch(m, loader, new SGD(m.parameters(), 0.1), 1, new Trainer.Listener() {});
        assertTrue(Double.isFinite(lossAcc[0]) && lossAcc[1] > 0.4, "learns: " + lossAcc[0] + ", " + lossAcc[1]);
    }

    /** LeNet's step at 28x28: the input, the 16 layer outputs and 4 buffers of the largest (6x24x24), in floats. */
    @Test
    void stepBytesOfLeNetCountsEveryActivation() {
        Sequential lenet = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        int outputs = 3 * 3456 + 864 + 3 * 1024 + 2 * 256 + 3 * 120 + 3 * 84 + 10;
        long perImage = (784 + outputs + 4 * 3456) * 4L;
        assertEquals(120_184, perImage);
        Map<String, float[]> before = parameters(lenet);
        float[] runningMean = ((BatchNorm) lenet.get(1)).runningMean().toArray();
        assertEquals(perImage * 256, Trainer.stepBytes(lenet, new int[] {1, 28, 28}, 256));
        assertEquals(perImage * 60_000, Trainer.stepBytes(lenet, new int[] {1, 28, 28}, 60_000), "long arithmetic: 7.2 GB");
        assertTrue(lenet.isTraining(), "mode restored");
        assertArrayEquals(runningMean, ((BatchNorm) lenet.get(1)).runningMean().toArray(), "running statistics untouched");
        assertEquals(0, ((BatchNorm) lenet.get(1)).numBatchesTracked());
        before.forEach((k, v) -> assertArrayEquals(v, parameters(lenet).get(k), k));
        lenet.eval();
        Trainer.stepBytes(lenet, new int[] {1, 28, 28}, 1);
        assertFalse(lenet.isTraining(), "eval mode stays eval");
    }

    /** A batch size near Integer.MAX_VALUE (the CLI accepts any int): one batch of everything, not an overflow. */
    @Test
    void hugeBatchSizeIsOneBatchOfEverything() {
        Dataset d = data(10, 4);
        DataLoader loader = new DataLoader(d, Integer.MAX_VALUE, true, 0);
        assertEquals(1, loader.batchesPerEpoch());
        int batches = 0;
        for (DataLoader.Batch b : loader.epoch(0)) {
            assertEquals(10, b.size());
            batches++;
        }
        assertEquals(1, batches);
        assertEquals(0, new DataLoader(d, Integer.MAX_VALUE, false, 0, true).batchesPerEpoch(), "dropLast: no full batch");
        Tensor x = new DataLoader(d, Integer.MAX_VALUE - 1, false, 0).epoch(0).iterator().next().x();
        assertArrayEquals(new int[] {10, 1, 4, 4}, x.shape());
    }

    /**
     * The step's quick finiteness test: false for a NaN or an infinity wherever it lies (vector
     * lanes and the scalar tail); for finite values so large that float partial sums overflow it
     * may say false, and the value-by-value check then finds nothing.
     */
    @Test
    void quickFinitenessTestMissesNoNonFiniteValue() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (int at = 0; at < 37; at++) {
                float[] v = new float[37];
                java.util.Arrays.fill(v, 0.5f);
                v[at] = bad;
                assertFalse(Trainer.allFinite(List.of(new org.norm4j.nn.Parameter(v, 37))), bad + " at " + at);
            }
            for (int at : new int[] {0, 255, 256, 511, 512, 1023, 1024, 4095, 4096, 4999}) {   // across the vector sum's chunks
                float[] v = new float[5000];
                java.util.Arrays.fill(v, -2.5f);
                v[at] = bad;
                assertFalse(Trainer.allFinite(List.of(new org.norm4j.nn.Parameter(v, 5000))), bad + " at " + at + " of 5000");
            }
        }
        // finite values whose float partial sums overflow: the quick test may say false, the step's check still passes
        Sequential net = new Sequential(new Linear(8, 8));
        java.util.Arrays.fill(net.parameters().get(0).data(), Float.MAX_VALUE);
        assertEquals(null, Trainer.firstNonFinite(net), "all finite");
        assertEquals(null, Trainer.nonFinite(net.parameters(), net), "the step's check: all finite");
        net.parameters().get(1).data()[5] = Float.NEGATIVE_INFINITY;
        assertEquals("parameter 0.bias (-Infinity at element 5)", Trainer.nonFinite(net.parameters(), net));
        float[] fine = new float[64];
        java.util.Arrays.fill(fine, -3.25f);
        assertTrue(Trainer.allFinite(List.of(new org.norm4j.nn.Parameter(fine, 64))));
    }
}
