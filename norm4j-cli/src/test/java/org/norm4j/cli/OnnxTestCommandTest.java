package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Tanh;
import org.norm4j.onnx.OnnxConformance;
import org.norm4j.onnx.OnnxExport;
import org.norm4j.onnx.OnnxTensor;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;

/**
 * {@code norm4j onnx-test}: test directories laid out as ONNX's backend tests (a passing one, one
 * whose expected output is off by 0.5 in one element, one with an LSTM), their one-line results and
 * the summary line; and, where Debian's libonnx-testdata is installed, its BatchNormalization tests.
 */
class OnnxTestCommandTest {

    /** A backend-test directory: Linear(4, 3) + Tanh exported by norm4j, an input and the expected output. */
    private static Path makeCase(Path root, String name, float shift) throws IOException {
        Path dir = root.resolve(name), set = dir.resolve("test_data_set_0");
        Files.createDirectories(set);
        Sequential net = new Sequential(new Linear(4, 3, true, new Rng(1)), new Tanh());
        net.eval();
        OnnxExport.write(net, new int[] {2, 4}, dir.resolve("model.onnx"));
        float[] x = {0.5f, -1f, 2f, 0.25f, 1f, 1f, -0.5f, 0f};
        float[] y;
        try (var g = Autograd.noGrad()) {
            y = net.forward(Tensor.of(x, 2, 4)).toArray();
        }
        y[4] += shift;
        OnnxTensor.ofFloats(x, 2, 4).write(set.resolve("input_0.pb"), "input");
        OnnxTensor.ofFloats(y, 2, 3).write(set.resolve("output_0.pb"), "output");
        return dir;
    }

    @Test
    void oneLinePerTestAndTheSummary(@TempDir Path root) throws IOException {
        makeCase(root, "test_linear_tanh", 0f);
        makeCase(root, "test_linear_tanh_wrong", 0.5f);
        Path lstm = root.resolve("test_lstm");
        Files.createDirectories(lstm.resolve("test_data_set_0"));
        Files.copy(Path.of("..", "norm4j-core", "src", "test", "resources", "onnx", "bad-onnx", "unsupported-lstm.onnx"), lstm.resolve("model.onnx"));

        TrainCommandTest.Run r = TrainCommandTest.run("onnx-test", root.toString());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[0].matches("pass\\s+test_linear_tanh\\s+Gemm\\+Tanh\\s+max \\|diff\\| .*"), lines[0]);
        assertTrue(lines[1].startsWith("fail") && lines[1].contains("test_linear_tanh_wrong")
                && lines[1].contains("output 0 \"output\": 1 of 6 elements exceed") && lines[1].contains("at [1, 1]"), lines[1]);
        assertTrue(lines[2].startsWith("unsupported") && lines[2].contains("operator LSTM") && lines[2].contains("LSTM node \""), lines[2]);
        assertEquals("1 passed, 1 failed, 1 unsupported", lines[3]);
        assertEquals(1, r.exit(), "a failed test fails the command");

        TrainCommandTest.Run one = TrainCommandTest.run("onnx-test", root.resolve("test_linear_tanh").toString(), lstm.toString());
        assertEquals(0, one.exit(), one.out() + one.err());
        assertTrue(one.out().endsWith("1 passed, 0 failed, 1 unsupported\n"), one.out());
        TrainCommandTest.Run strict = TrainCommandTest.run("onnx-test", "--strict", root.resolve("test_linear_tanh").toString(), lstm.toString());
        assertEquals(1, strict.exit(), "--strict: an unsupported test fails the command");

        TrainCommandTest.Run loose = TrainCommandTest.run("onnx-test", "--atol", "0.6", "--ops", "Gemm,Tanh", "--by-operator", root.toString());
        assertEquals(0, loose.exit(), loose.out() + loose.err());
        assertTrue(loose.out().contains("(1 tests skipped: they use operators outside --ops Gemm,Tanh)"), loose.out());
        assertTrue(loose.out().contains("(graphs of several operators)"), loose.out());
        assertTrue(loose.out().endsWith("2 passed, 0 failed, 0 unsupported\n"), loose.out());
    }

    @Test
    void missingDirectoriesAreOneLineErrors(@TempDir Path root) {
        TrainCommandTest.Run r = TrainCommandTest.run("onnx-test", root.resolve("nowhere").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no directory " + root.resolve("nowhere")), r.err());
        TrainCommandTest.Run empty = TrainCommandTest.run("onnx-test", root.toString());
        assertEquals(2, empty.exit());
        assertTrue(empty.err().contains("holds no ONNX test"), empty.err());
    }

    @Test
    void debiansBatchNormalizationTestsPass() {
        Path node = OnnxConformance.defaultDir();
        Assumptions.assumeTrue(Files.isDirectory(node.resolve("test_batchnorm_example_training_mode")),
                "libonnx-testdata not installed at " + node + ": skipping (bin/setup installs it)");
        String[] dirs = Arrays.stream(new String[] {"test_batchnorm_example", "test_batchnorm_epsilon", "test_batchnorm_example_training_mode",
            "test_batchnorm_epsilon_training_mode"}).map(d -> node.resolve(d).toString()).toArray(String[]::new);
        String[] args = new String[dirs.length + 2];
        args[0] = "onnx-test";
        args[1] = "--strict";
        System.arraycopy(dirs, 0, args, 2, dirs.length);
        TrainCommandTest.Run r = TrainCommandTest.run(args);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().endsWith("4 passed, 0 failed, 0 unsupported\n"), r.out());
    }
}
