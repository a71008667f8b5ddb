package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.LeNet;

/** A LeNet-BN trained briefly in each convention, folded: the same predictions and logits on the whole test set. */
class FoldCommandTest {
    static Path data;
    static Dataset test;

    @BeforeAll
    static void needData() throws Exception {
        data = FashionMnist.resolveDir(null);
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST not installed in " + data);
        test = FashionMnist.load(data, false);
    }

    @ParameterizedTest
    @EnumSource(Convention.class)
    void foldedAgreesOnTheWholeTestSet(Convention conv, @TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TrainCommandTest.Run t = TrainCommandTest.run("train", "--data", data.toString(), "--limit", "1200", "--epochs", "1", "--batch-size", "100",
                "--convention", conv.name(), "--precise-bn", "0", "--out", run.toString(), "--no-progress");
        assertEquals(0, t.exit(), t.err());
        Path folded = dir.resolve("folded.safetensors");
        TrainCommandTest.Run f = TrainCommandTest.run("fold", "--checkpoint", run.resolve("model.safetensors").toString(), "--out", folded.toString());
        assertEquals(0, f.exit(), f.err());
        assertTrue(f.out().contains("folded 4 of 4"), f.out());

        Sequential bn = LeNet.build(LeNet.Norm.BATCH, conv, 0), plain = LeNet.build(LeNet.Norm.NONE, conv, 0);
        StateDict.load(bn, run.resolve("model.safetensors"));
        StateDict.load(plain, folded);
        bn.eval();
        plain.eval();
        int differentPredictions = 0;
        double worst = 0;
        try (var g = Autograd.noGrad()) {
            for (DataLoader.Batch b : new DataLoader(test, 1000, false, 0).epoch(0)) {
                float[] a = bn.forward(b.x()).data(), c = plain.forward(b.x()).data();
                for (int r = 0; r < a.length / 10; r++) {
                    double scale = 0;
                    int argA = 0, argC = 0;
                    for (int k = 0; k < 10; k++) {
                        scale = Math.max(scale, Math.abs(a[r * 10 + k]));
                        if (a[r * 10 + k] > a[r * 10 + argA]) argA = k;
                        if (c[r * 10 + k] > c[r * 10 + argC]) argC = k;
                    }
                    for (int k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(a[r * 10 + k] - c[r * 10 + k]) / Math.max(scale, 1e-12));
                    if (argA != argC) differentPredictions++;
                }
            }
        }
        assertTrue(worst <= 1e-5, conv + ": logits differ by " + worst + " relative to the largest logit");
        assertEquals(0, differentPredictions, conv + ": predictions differ on " + differentPredictions + " test images");
    }

    /** BN after the sigmoid: nothing folds, the command names the layers and writes nothing; the checkpoint itself evaluates. */
    @org.junit.jupiter.api.Test
    void activationThenNormIsRefusedAndNothingWritten(@TempDir Path dir) {
        Path run = dir.resolve("run");
        assertEquals(0, TrainCommandTest.run("train", "--data", data.toString(), "--limit", "600", "--epochs", "1", "--batch-size", "100",
                "--placement", "act-bn", "--out", run.toString(), "--no-progress").exit());
        Path out = dir.resolve("folded.safetensors");
        TrainCommandTest.Run f = TrainCommandTest.run("fold", "--checkpoint", run.resolve("model.safetensors").toString(), "--out", out.toString());
        assertEquals(1, f.exit());
        assertTrue(f.out().contains("kept     2: BatchNorm(numFeatures=6") && f.out().contains("it follows 1: Sigmoid()"), f.out());
        assertTrue(f.err().contains("4 of 4 batch-norm layers cannot fold") && f.err().contains("--placement bn-act"), f.err());
        assertTrue(!Files.exists(out), "nothing written");
        TrainCommandTest.Run ev = TrainCommandTest.run("eval", "--checkpoint", run.resolve("model.safetensors").toString(), "--data", data.toString());
        assertEquals(0, ev.exit(), ev.err());
        TrainCommandTest.Run bad = TrainCommandTest.run("train", "--placement", "sideways", "--data", data.toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("--placement must be bn-act or act-bn"), bad.err());
    }
}
