package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.autograd.Autograd;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxImport;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;

/**
 * {@code norm4j export}: a LeNet checkpoint in any stored form becomes an ONNX file whose network
 * (read back by norm4j's importer; ONNX Runtime runs the same files in norm4j-core's
 * OnnxRuntimeTest) computes the checkpoint's outputs; --fold leaves no BatchNormalization; errors
 * are one line and leave an existing file alone.
 */
class ExportCommandTest {
    /** A LeNet-BN checkpoint as norm4j train writes it: running statistics moved by a few training forwards, then saved. */
    static Path checkpoint(Path dir, Convention conv) throws Exception {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, conv, 3);
        net.train();
        Rng rng = new Rng(1);
        for (int step = 0; step < 3; step++) {
            float[] x = new float[16 * 784];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.uniform();
            Tensor y = net.forward(Tensor.of(x, 16, 1, 28, 28).requiresGrad(true));
            y.backward(Tensor.full(0.1f, y.shape()));   // DL4J updates its statistics in backward
        }
        for (Module m : net.modules()) {
            if (m instanceof BatchNorm bn && bn.weight() != null) {
                for (int i = 0; i < bn.weight().data().length; i++) bn.weight().data()[i] = (float) rng.normal(1, 0.3);
            }
        }
        Path f = dir.resolve("model-" + conv + ".safetensors");
        StateDict.save(net, f, Map.of("norm", "batch", "convention", conv.name()));
        return f;
    }

    static float[] outputs(Sequential net, float[] x) {
        net.eval();
        try (var g = Autograd.noGrad()) {
            return net.forward(Tensor.of(x, x.length / 784, 1, 28, 28)).toArray();
        }
    }

    static float[] input() {
        Rng rng = new Rng(9);
        float[] x = new float[4 * 784];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.uniform();
        return x;
    }

    static void assertClose(String label, float[] got, float[] want) {
        assertEquals(want.length, got.length, label);
        for (int r = 0; r < want.length / 10; r++) {
            double scale = 0;
            for (int k = 0; k < 10; k++) scale = Math.max(scale, Math.abs(want[r * 10 + k]));
            for (int k = 0; k < 10; k++) {
                double d = Math.abs(got[r * 10 + k] - want[r * 10 + k]);
                assertTrue(d <= 1e-5 * scale, label + ": row " + r + " logit " + k + " differs by " + d + " (scale " + scale + ")");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Convention.class, names = {"PYTORCH", "LASAGNE", "DL4J"})
    void exportsEveryStoredForm(Convention conv, @TempDir Path dir) throws Exception {
        Path ck = checkpoint(dir, conv);
        Path onnx = dir.resolve("sub/model.onnx");
        TrainCommandTest.Run r = TrainCommandTest.run("export", "--checkpoint", ck.toString(), "--onnx", onnx.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("wrote " + onnx) && r.out().contains("opset 15"), r.out());

        Sequential want = LeNet.build(LeNet.Norm.BATCH, conv, 0);
        StateDict.load(want, ck);
        float[] x = input();
        assertClose(conv + " exported", outputs(OnnxImport.read(onnx), x), outputs(want, x));
    }

    @Test
    void foldExportsConvAndGemmOnly(@TempDir Path dir) throws Exception {
        Path ck = checkpoint(dir, Convention.LASAGNE);
        Path onnx = dir.resolve("folded.onnx");
        TrainCommandTest.Run r = TrainCommandTest.run("export", "--checkpoint", ck.toString(), "--onnx", onnx.toString(), "--fold");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("folded 4 of 4"), r.out());
        Sequential imported = OnnxImport.read(onnx);
        assertEquals(12, imported.size());
        for (Module m : imported.layers()) assertFalse(m instanceof BatchNorm, imported.describe());
        Sequential want = LeNet.build(LeNet.Norm.BATCH, Convention.LASAGNE, 0);
        StateDict.load(want, ck);
        float[] x = input();
        assertClose("folded", outputs(imported, x), outputs(want, x));

        // a checkpoint that norm4j fold wrote (norm: none) exports as it is
        Path folded = dir.resolve("folded.safetensors");
        assertEquals(0, TrainCommandTest.run("fold", "--checkpoint", ck.toString(), "--out", folded.toString()).exit());
        Path onnx2 = dir.resolve("from-fold.onnx");
        r = TrainCommandTest.run("export", "--checkpoint", folded.toString(), "--onnx", onnx2.toString());
        assertEquals(0, r.exit(), r.err());
        assertClose("norm4j fold, then export", outputs(OnnxImport.read(onnx2), x), outputs(want, x));
    }

    @Test
    void errorsAreOneLineAndLeaveTheTarget(@TempDir Path dir) throws Exception {
        Path onnx = dir.resolve("model.onnx");
        Files.writeString(onnx, "the old model");

        TrainCommandTest.Run r = TrainCommandTest.run("export", "--checkpoint", dir.resolve("missing.safetensors").toString(), "--onnx", onnx.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--checkpoint: no file"), r.err());

        Sequential ln = LeNet.build(LeNet.Norm.LAYER, Convention.PYTORCH, 0);
        Path lnCk = dir.resolve("ln.safetensors");
        StateDict.save(ln, lnCk, Map.of("norm", "layer"));
        r = TrainCommandTest.run("export", "--checkpoint", lnCk.toString(), "--onnx", onnx.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("norm4j export: ") && r.err().contains("opset 17") && r.err().strip().lines().count() == 1, r.err());

        Path wrong = dir.resolve("wrong.safetensors");
        StateDict.save(LeNet.build(LeNet.Norm.NONE, Convention.PYTORCH, 0), wrong, Map.of("norm", "batch"));
        r = TrainCommandTest.run("export", "--checkpoint", wrong.toString(), "--onnx", onnx.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("is not a checkpoint of LeNet with batch norm") && r.err().strip().lines().count() == 1, r.err());

        assertEquals("the old model", Files.readString(onnx));
        try (var s = Files.list(dir)) {
            assertEquals(0, s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count());
        }
    }
}
