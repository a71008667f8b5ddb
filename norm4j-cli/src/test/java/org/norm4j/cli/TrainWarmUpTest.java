package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Rng;
import org.norm4j.train.LeNet;
import org.norm4j.train.PreciseBn;
import org.norm4j.train.Trainer;

/** The first epoch's JIT warm-up (an evaluation and a precise-BN pass on a little data) changes nothing of the model. */
class TrainWarmUpTest {

    static Dataset noise(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] images = new float[n * 28 * 28];
        for (int i = 0; i < images.length; i++) images[i] = (float) rng.uniform();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(10);
        return new Dataset("noise", images, labels, 28, 28, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    }

    @Test
    void warmUpLeavesWeightsBuffersStatisticsAndModeAsTheyWere() {
        for (LeNet.Norm norm : LeNet.Norm.values()) for (Convention convention : Convention.values()) {
            String what = norm + " " + convention;
            Sequential model = LeNet.build(norm, convention, 5);
            DataLoader loader = new DataLoader(noise(96, 1), 32, true, 5);
            Trainer.trainEpoch(model, loader, new SGD(model.parameters(), 0.5), 1, new Trainer.Listener() {});   // statistics off their initial values
            Map<String, SafeTensors.Entry> before = StateDict.entries(model);
            Map<BatchNorm, BatchNorm.RunningState> statsBefore = PreciseBn.snapshot(model);

            TrainCommand.warmUpBetweenEpochs(model, noise(64, 2), loader, 32, true);

            assertTrue(model.isTraining(), what + ": still in training mode");
            Map<String, SafeTensors.Entry> after = StateDict.entries(model);
            assertEquals(before.keySet(), after.keySet());
            for (String k : before.keySet()) assertArrayEquals(before.get(k).data(), after.get(k).data(), what + ": " + k);
            Map<BatchNorm, BatchNorm.RunningState> statsAfter = PreciseBn.snapshot(model);
            assertEquals(norm == LeNet.Norm.BATCH ? 4 : 0, statsBefore.size(), what + ": BN layers");
            statsBefore.forEach((bn, s) -> {
                BatchNorm.RunningState t = statsAfter.get(bn);
                assertArrayEquals(s.mean(), t.mean(), what + ": " + bn);
                assertArrayEquals(s.spread(), t.spread(), what + ": " + bn);
                assertArrayEquals(s.biasedMean(), t.biasedMean(), what + ": " + bn);
                assertArrayEquals(s.biasedSpread(), t.biasedSpread(), what + ": " + bn);
                assertEquals(s.numBatchesTracked(), t.numBatchesTracked(), what + ": " + bn);
            });
        }
    }

    @Test
    void warmUpEvaluatesAFullBatchAndTheShortLastOne() {
        Dataset test = noise(100, 3);
        assertEquals(32 + 4, TrainCommand.warmUpImages(test, 32).size());   // 100 = 3·32 + 4
        assertEquals(50, TrainCommand.warmUpImages(noise(50, 3), 25).size());   // no short batch: two full ones
        assertEquals(100, TrainCommand.warmUpImages(test, 256).size());   // the whole set, smaller than a batch
        assertEquals(100, TrainCommand.warmUpImages(test, Integer.MAX_VALUE).size());   // no overflow
    }

    @Test
    void warmUpComesEarlyInTheEpochButNeverPastItsMiddle() {
        assertEquals(TrainCommand.WARM_UP_BATCH, TrainCommand.warmUpBatch(235));   // the default recipe: 60000 / 256
        assertEquals(5, TrainCommand.warmUpBatch(10));
        assertEquals(1, TrainCommand.warmUpBatch(1));
    }
}
