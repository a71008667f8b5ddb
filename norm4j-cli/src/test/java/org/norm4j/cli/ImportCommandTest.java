package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxImport;
import org.norm4j.train.LeNet;

/**
 * {@code norm4j import}: PyTorch's d2l LeNet-BN export (norm4j-core's fixture, made by
 * tools/export_onnx.py) becomes norm4j's LeNet; its layers are listed, the test accuracy printed
 * when Fashion-MNIST is installed and equal to what {@code norm4j eval} says of the written
 * checkpoint; malformed and unsupported files are one-line errors.
 */
class ImportCommandTest {
    static Path lenet;

    @BeforeAll
    static void fixture() {
        lenet = Path.of("..", "norm4j-core", "src", "test", "resources", "onnx", "lenet_bn.onnx").toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(lenet), "missing fixture " + lenet);
    }

    @Test
    void importsPyTorchsLeNetAndWritesACheckpoint(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("imported.safetensors");
        TrainCommandTest.Run r = TrainCommandTest.run("import", lenet.toString(), "--out", ck.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("pytorch 1.13.0, opset 15, input \"input\" [N, 1, 28, 28], output \"logits\""), r.out());
        assertTrue(r.out().contains(" 1  BatchNorm(numFeatures=6, convention=PYTORCH)") && r.out().contains("15  Linear(84, 10)"), r.out());
        assertTrue(r.out().contains("norm4j's LeNet with norm batch"), r.out());
        Map<String, String> meta = SafeTensors.readHeader(ck).metadata();
        assertEquals("batch", meta.get("norm"));
        assertEquals("PYTORCH", meta.get("convention"));
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        StateDict.load(net, ck);

        Path data = FashionMnist.resolveDir(null);
        if (Files.isDirectory(data)) {
            Matcher m = Pattern.compile("test accuracy (0\\.\\d{4})").matcher(r.out());
            assertTrue(m.find(), r.out());
            TrainCommandTest.Run e = TrainCommandTest.run("eval", "--checkpoint", ck.toString(), "--out", dir.toString());
            assertEquals(0, e.exit(), e.err());
            assertTrue(e.out().contains("test accuracy " + m.group(1)), "import said " + m.group(1) + ", eval: " + e.out());
        }

        // and out again: the exported file imports to the same layers
        Path back = dir.resolve("back.onnx");
        assertEquals(0, TrainCommandTest.run("export", "--checkpoint", ck.toString(), "--onnx", back.toString()).exit());
        assertEquals(OnnxImport.read(lenet).describe(), OnnxImport.read(back).describe());
    }

    @Test
    void missingDataAskedForIsAnError(@TempDir Path dir) {
        TrainCommandTest.Run r = TrainCommandTest.run("import", lenet.toString(), "--data", dir.resolve("nothing").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("norm4j import: "), r.err());
    }

    @Test
    void malformedAndUnsupportedFilesAreOneLine(@TempDir Path dir) throws Exception {
        byte[] bytes = Files.readAllBytes(lenet);
        Path truncated = dir.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 3));
        TrainCommandTest.Run r = TrainCommandTest.run("import", truncated.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("norm4j import: " + truncated) && r.err().contains("(at byte ") && r.err().strip().lines().count() == 1, r.err());

        // the first Sigmoid renamed Hardmax (same length: still valid protobuf)
        String s = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = s.indexOf("\"\u0007Sigmoid");
        assertTrue(at > 0);
        byte[] renamed = bytes.clone();
        System.arraycopy("Hardmax".getBytes(StandardCharsets.US_ASCII), 0, renamed, at + 2, 7);
        Path unsupported = dir.resolve("hardmax.onnx");
        Files.write(unsupported, renamed);
        r = TrainCommandTest.run("import", unsupported.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("operator Hardmax") && r.err().contains("/2/Sigmoid") && r.err().strip().lines().count() == 1, r.err());

        r = TrainCommandTest.run("import", dir.resolve("none.onnx").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no file"), r.err());
    }
}
