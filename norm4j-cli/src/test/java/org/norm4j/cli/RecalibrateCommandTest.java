package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;

class RecalibrateCommandTest {
    /**
     * The recalibrated first BN layer holds the average over the K batches of the per-channel
     * mean and unbiased variance of the first convolution's output, computed here directly.
     */
    @Test
    void recomputesTheStatisticsOfTheTrainingBatches(@TempDir Path dir) throws Exception {
        Path data = FashionMnist.resolveDir(null);
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST not installed in " + data);
        Path run = dir.resolve("run");
        assertEquals(0, TrainCommandTest.run("train", "--data", data.toString(), "--limit", "1500", "--epochs", "1", "--precise-bn", "0",
                "--out", run.toString(), "--no-progress").exit());
        Path out = dir.resolve("recal.safetensors");
        TrainCommandTest.Run r = TrainCommandTest.run("recalibrate", "--checkpoint", run.resolve("model.safetensors").toString(),
                "--out", out.toString(), "--batches", "3", "--batch-size", "100", "--seed", "5", "--data", data.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("recomputed over 3 batches of 100"), r.out());

        Sequential model = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        StateDict.load(model, run.resolve("model.safetensors"));
        DataLoader loader = new DataLoader(FashionMnist.load(data, true), 100, true, 5);
        int c = 6;
        double[] mean = new double[c], var = new double[c];
        int k = 0;
        try (var g = Autograd.noGrad()) {
            for (DataLoader.Batch b : loader.epoch(0)) {
                if (k++ == 3) break;
                Tensor conv = model.get(0).forward(b.x());   // [100, 6, 24, 24]
                float[] v = conv.data();
                int per = 24 * 24, n = 100 * per;
                for (int ch = 0; ch < c; ch++) {
                    double s = 0, q = 0;
                    for (int i = 0; i < 100; i++) for (int p = 0; p < per; p++) s += v[(i * c + ch) * per + p];
                    double m = s / n;
                    for (int i = 0; i < 100; i++) for (int p = 0; p < per; p++) q += Math.pow(v[(i * c + ch) * per + p] - m, 2);
                    mean[ch] += m / 3;
                    var[ch] += q / (n - 1) / 3;
                }
            }
        }
        Map<String, SafeTensors.Entry> got = SafeTensors.read(out);
        float[] gotMean = got.get("1.running_mean").floats(), gotVar = got.get("1.running_var").floats();
        for (int ch = 0; ch < c; ch++) {
            assertEquals(mean[ch], gotMean[ch], 1e-5 * (1 + Math.abs(mean[ch])), "1.running_mean[" + ch + "]");
            assertEquals(var[ch], gotVar[ch], 1e-5 * (1 + var[ch]), "1.running_var[" + ch + "]");
        }
        assertEquals("3", SafeTensors.readHeader(out).metadata().get("precise_bn"));
        Map<String, SafeTensors.Entry> before = SafeTensors.read(run.resolve("model.safetensors"));
        assertTrue(java.util.Arrays.equals(before.get("0.weight").data(), got.get("0.weight").data()), "weights unchanged");
    }
}
