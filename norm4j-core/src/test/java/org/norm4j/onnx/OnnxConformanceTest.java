package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX's own backend node tests (Debian's libonnx-testdata; {@code $NORM4J_ONNX_TESTDATA}
 * overrides the location): every test of the operators issue 8 lists passes at ONNX's tolerances,
 * and no test of the whole suite fails — each either passes or is refused as unsupported, naming
 * the operator. Skipped, with a message, where the suite is not installed (CI installs it).
 */
class OnnxConformanceTest {
    /** The operators held to conformance: every one of their node tests passes. */
    static final List<String> CONFORMANCE = List.of("BatchNormalization", "InstanceNormalization", "LayerNormalization",
            "MeanVarianceNormalization", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Add", "Mul",
            "Relu", "Sigmoid", "Tanh", "Flatten", "Reshape", "Softmax", "LogSoftmax");

    /** The node tests per operator in libonnx-testdata 1.12 (Debian bookworm/trixie): a newer suite may only add. */
    static final Map<String, Integer> AT_LEAST = new TreeMap<>(Map.ofEntries(Map.entry("BatchNormalization", 4),
            Map.entry("InstanceNormalization", 2), Map.entry("LayerNormalization", 19), Map.entry("MeanVarianceNormalization", 1),
            Map.entry("Conv", 6), Map.entry("ConvTranspose", 10), Map.entry("MaxPool", 15), Map.entry("AveragePool", 13),
            Map.entry("GlobalAveragePool", 2), Map.entry("Gemm", 11), Map.entry("MatMul", 3), Map.entry("Add", 3), Map.entry("Mul", 4),
            Map.entry("Relu", 1), Map.entry("Sigmoid", 2), Map.entry("Tanh", 2), Map.entry("Flatten", 9), Map.entry("Reshape", 10),
            Map.entry("Softmax", 7), Map.entry("LogSoftmax", 7)));

    static Path suite() {
        Path dir = OnnxConformance.defaultDir();
        Assumptions.assumeTrue(Files.isDirectory(dir), "ONNX backend tests not found at " + dir + " (install Debian's libonnx-testdata, "
                + "bin/setup does, or set " + OnnxConformance.DATA_ENV + "): skipping the conformance tests");
        return dir;
    }

    /** The node tests of the conformance operators: models of one operator from the list (plus Constant). */
    static List<Path> conformanceCases() throws IOException {
        List<Path> r = new ArrayList<>();
        for (Path c : OnnxConformance.cases(suite())) {
            List<String> ops = new ArrayList<>(OnnxConformance.operators(c));
            ops.remove("Constant");
            if (ops.size() == 1 && CONFORMANCE.contains(ops.get(0))) r.add(c);
        }
        return r;
    }

    @TestFactory
    Stream<DynamicTest> everyNodeTestOfTheListedOperatorsPasses() throws IOException {
        return conformanceCases().stream().map(c -> DynamicTest.dynamicTest(c.getFileName().toString(), () -> {
            OnnxConformance.Result r = OnnxConformance.run(c);
            assertEquals(OnnxConformance.Status.PASS, r.status(), r.line());
        }));
    }

    @Test
    void everyListedOperatorHasItsNodeTests() throws IOException {
        Map<String, Integer> count = new TreeMap<>();
        for (Path c : conformanceCases()) {
            List<String> ops = new ArrayList<>(OnnxConformance.operators(c));
            ops.remove("Constant");
            count.merge(ops.get(0), 1, Integer::sum);
        }
        for (Map.Entry<String, Integer> e : AT_LEAST.entrySet()) {
            assertTrue(count.getOrDefault(e.getKey(), 0) >= e.getValue(), e.getKey() + ": " + count.get(e.getKey()) + " node tests, expected at least "
                    + e.getValue() + " (all: " + count + ")");
        }
    }

    /** Never a wrong answer: across the whole suite, a test norm4j runs passes; anything else is refused by name. */
    @Test
    void noTestOfTheSuiteFails() throws IOException {
        List<String> failed = new ArrayList<>();
        int passed = 0, unsupported = 0;
        for (Path c : OnnxConformance.cases(suite())) {
            OnnxConformance.Result r = OnnxConformance.run(c);
            switch (r.status()) {
                case PASS -> passed++;
                case UNSUPPORTED -> {
                    unsupported++;
                    assertTrue(r.detail().startsWith("operator ") || r.detail().contains("is not a tensor") || r.detail().contains(" is "),
                            "an unsupported test says what: " + r.line());
                }
                case FAIL -> failed.add(r.line());
            }
        }
        System.out.printf("ONNX backend node tests: %d passed, %d failed, %d unsupported%n", passed, failed.size(), unsupported);
        assertEquals(List.of(), failed, "failed tests");
        assertTrue(passed >= AT_LEAST.values().stream().mapToInt(Integer::intValue).sum(), passed + " passed");
    }

    @Test
    void anUnsupportedOperatorIsNamedWithItsNode() throws IOException {
        Path lstm = suite().resolve("test_lstm_defaults");
        Assumptions.assumeTrue(Files.isDirectory(lstm), "no test_lstm_defaults in this suite");
        UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> OnnxGraph.load(lstm.resolve("model.onnx")));
        assertEquals("LSTM", e.opType());
        assertTrue(e.getMessage().contains("LSTM node \"" + e.nodeName() + "\""), e.getMessage());
        OnnxConformance.Result r = OnnxConformance.run(lstm);
        assertEquals(OnnxConformance.Status.UNSUPPORTED, r.status());
        assertTrue(r.line().contains("operator LSTM"), r.line());
    }

    /** The comparison itself fails a wrong answer, names the element, and is not fooled by NaN. */
    @Test
    void aWrongAnswerFailsWithTheWorstElement() throws IOException {
        Path c = suite().resolve("test_relu");
        Assumptions.assumeTrue(Files.isDirectory(c), "no test_relu in this suite");
        OnnxTensor want = OnnxTensor.read(c.resolve("test_data_set_0/output_0.pb"));
        float[] bad = want.floats().clone();
        bad[7] += 0.5f;
        bad[3] = Float.NaN;
        OnnxConformance.Diff d = OnnxConformance.compare(OnnxTensor.ofFloats(bad, want.shape()), want, 1e-3, 1e-7);
        assertNotEquals(null, d.problem());
        assertTrue(d.problem().startsWith("2 of " + want.size() + " elements"), d.problem());
        assertEquals(null, OnnxConformance.compare(want, want, 0, 0).problem(), "equal to itself at zero tolerance");
    }
}
