package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Dropout;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.MaxPool2d;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Softmax;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;

/**
 * What must fail, fails clearly: malformed files (every truncation, random byte flips) are an
 * OnnxFormatException naming the file and offset or, where the damage leaves a valid model norm4j
 * cannot represent, an UnsupportedOnnxException; never another exception, never a network that
 * then fails to run. Unsupported operators and attribute values name the operator, the attribute
 * and the node. A failed export leaves an existing file as it was.
 */
class OnnxErrorsTest {
    static final Path FILE = Path.of("fuzzed.onnx");

    // ---- malformed files ------------------------------------------------------------------------

    @Test
    void everyTruncationIsAFormatError() throws Exception {
        byte[] full = Files.readAllBytes(PyTorchOnnxTest.resource("zoo.onnx"));
        for (int len = 0; len < full.length; len++) {
            IOException e = importFails(Arrays.copyOf(full, len), "truncated to " + len + " bytes");
            assertTrue(e instanceof OnnxFormatException, "truncated to " + len + ": " + e);
        }
    }

    @Test
    void truncatedLeNetNamesTheOffset() throws Exception {
        byte[] full = Files.readAllBytes(PyTorchOnnxTest.resource("lenet_bn.onnx"));
        Rng rng = new Rng(1);
        for (int i = 0; i < 100; i++) {
            int len = rng.nextInt(full.length);
            IOException e = importFails(Arrays.copyOf(full, len), "truncated to " + len);
            assertTrue(e instanceof OnnxFormatException f && f.offset() >= 0 && f.offset() <= len, e.toString());
        }
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImport.fromBytes(Arrays.copyOf(full, 1000), FILE));
        assertTrue(e.getMessage().startsWith("fuzzed.onnx: ") && e.getMessage().contains("(at byte "), e.getMessage());
    }

    /** Random byte flips: a clear exception, or a model that runs (flips in weights are harmless). */
    @Test
    void flippedBytesFuzz() throws Exception {
        fuzz(Files.readAllBytes(PyTorchOnnxTest.resource("zoo.onnx")), 3000, 1);
        fuzz(OnnxExport.encode(everyLayer(), new int[] {1, 1, 8, 8}), 2000, 2);
    }

    private static void fuzz(byte[] original, int iterations, long seed) throws Exception {
        Rng rng = new Rng(seed);
        int imported = 0, format = 0, unsupported = 0;
        for (int it = 0; it < iterations; it++) {
            byte[] b = original.clone();
            int flips = 1 + rng.nextInt(3);
            StringBuilder what = new StringBuilder();
            for (int f = 0; f < flips; f++) {
                int at = rng.nextInt(b.length);
                byte v = rng.nextInt(2) == 0 ? (byte) (b[at] ^ (1 << rng.nextInt(8))) : (byte) rng.nextInt(256);
                what.append(" [").append(at).append("] ").append(b[at]).append("→").append(v);
                b[at] = v;
            }
            try {
                OnnxImport.Imported imp = OnnxImport.fromBytes(b, FILE);
                imported++;
                runs(imp, what.toString());
            } catch (OnnxFormatException e) {
                format++;
                assertTrue(e.getMessage().startsWith("fuzzed.onnx: "), e.getMessage());
            } catch (UnsupportedOnnxException e) {
                unsupported++;
                assertTrue(e.getMessage().startsWith("fuzzed.onnx: "), e.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("flips" + what + ": " + t, t);
            }
        }
        System.out.printf("fuzz (%d bytes): %d imported, %d format errors, %d unsupported%n", original.length, imported, format, unsupported);
        assertTrue(format > 0 && imported > 0, "the fuzz exercises both outcomes");
    }

    /** A network the import accepted runs on an input of its shape (small ones only: a flip can make the input huge). */
    private static void runs(OnnxImport.Imported imp, String what) {
        int[] s = imp.inputShape().clone();
        s[0] = 2;
        long n = 1;
        for (int d : s) n *= d;
        if (n > 200_000) return;
        try (var g = Autograd.noGrad()) {
            imp.model().forward(Tensor.zeros(s));
        } catch (RuntimeException e) {
            throw new AssertionError("imported after flips" + what + " but does not run on " + Arrays.toString(s) + ": " + e, e);
        }
    }

    /** Every exportable layer with tiny weights: most of the file is structure, not float data. */
    private static Sequential everyLayer() {
        Rng rng = new Rng(3);
        Sequential net = new Sequential(new Conv2d(1, 2, 3, 3, new Convolution.Geometry(1, 1, 1, 1, 1, 1, 1), true, rng),
                BatchNorm.builder(Convention.LASAGNE, 2).build(), new ReLU(), new MaxPool2d(2),
                new Conv2d(2, 2, 3, 3, new Convolution.Geometry(1, 1, 1, 1, 1, 1, 2), false, rng),
                BatchNorm.builder(Convention.DL4J, 2).activation(org.norm4j.kernels.Activation.TANH).build(), new AvgPool2d(2, 2, 1),
                new Flatten(), new Linear(18, 3, true, rng), BatchNorm.of(Convention.PYTORCH, 3), new Sigmoid(), new Linear(3, 2, true, rng),
                new Softmax());
        net.eval();
        return net;
    }

    private static Sequential smallExport() {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.LASAGNE, 0);
        net.eval();
        return net;
    }

    private static IOException importFails(byte[] bytes, String what) {
        try {
            OnnxImport.fromBytes(bytes, FILE);
        } catch (OnnxFormatException | UnsupportedOnnxException e) {
            assertTrue(e.getMessage().startsWith("fuzzed.onnx: "), e.getMessage());
            return e;
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
        return fail(what + ": imported");
    }

    @Test
    void notAnOnnxFile() {
        byte[] text = "just some text, not protobuf".getBytes(StandardCharsets.UTF_8);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImport.fromBytes(text, FILE));
        assertTrue(e.getMessage().contains("fuzzed.onnx"), e.getMessage());
        assertThrows(OnnxFormatException.class, () -> OnnxImport.fromBytes(new byte[0], FILE), "empty file: no graph");
    }

    /** Inconsistent but well-formed: weights that do not fit, data that does not match dims, dangling inputs, no opset. */
    @Test
    void inconsistentModels() {
        Graphs g = new Graphs(1, 8);
        g.op("Gemm", List.of(g.weight("W", 4, 7)), OnnxProto.intAttr("transB", 1));
        assertFormat(g, "(8 features)", "Gemm node \"n0\"");

        Graphs d = new Graphs(1, 8);
        d.inits.add(new OnnxProto.TensorProto("W", OnnxProto.FLOAT, new long[] {4, 8}, null, null, new byte[12], false, false, 0));
        d.op("Gemm", List.of("W"), OnnxProto.intAttr("transB", 1));
        assertFormat(d, "raw_data has 12 bytes", "\"W\"");

        Graphs huge = new Graphs(1, 8);
        huge.inits.add(new OnnxProto.TensorProto("W", OnnxProto.FLOAT, new long[] {1L << 40, 1L << 40}, null, null, new byte[4], false, false, 0));
        huge.op("Gemm", List.of("W"), OnnxProto.intAttr("transB", 1));
        assertFormat(huge, "more than 2^31 elements", "\"W\"");

        Graphs dangling = new Graphs(1, 8);
        dangling.op("Gemm", List.of("nowhere"), OnnxProto.intAttr("transB", 1));
        assertFormat(dangling, "\"nowhere\"", "no initializer or earlier node");

        Graphs noOpset = new Graphs(1, 8);
        noOpset.op("Relu");
        OnnxProto.Model m = noOpset.model();
        byte[] b = OnnxProto.encode(new OnnxProto.Model(8, "", "", m.graph(), List.of()));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImport.fromBytes(b, FILE));
        assertTrue(e.getMessage().contains("opset"), e.getMessage());
    }

    private static void assertFormat(Graphs g, String... fragments) {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImport.fromBytes(g.bytes(), FILE));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "expected \"" + f + "\" in: " + e.getMessage());
    }

    // ---- unsupported operators and attributes ---------------------------------------------------

    @Test
    void unsupportedOperatorsAreNamed() {
        Graphs lstm = new Graphs(1, 5, 3);
        lstm.op("LSTM", List.of(lstm.weight("W", 1, 16, 3), lstm.weight("R", 1, 16, 4)), OnnxProto.intAttr("hidden_size", 4));
        UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> OnnxImport.fromBytes(lstm.bytes(), FILE));
        assertEquals("LSTM", e.opType());
        assertEquals("n0", e.nodeName());
        assertTrue(e.getMessage().contains("operator LSTM") && e.getMessage().contains("\"n0\"") && e.getMessage().contains("Conv, Gemm"), e.getMessage());

        Graphs gather = new Graphs(1, 10);
        gather.op("Relu").op("Gather", List.of(gather.ints("idx", 0, 3)), OnnxProto.intAttr("axis", 1));
        e = assertThrows(UnsupportedOnnxException.class, () -> OnnxImport.fromBytes(gather.bytes(), FILE));
        assertEquals("Gather", e.opType());
        assertEquals("n1", e.nodeName());

        Graphs custom = new Graphs(1, 4);
        custom.node(new OnnxProto.Node("fused", "FusedGemm", "com.microsoft", List.of("x"), List.of("y"), List.of(), 0));
        e = assertThrows(UnsupportedOnnxException.class, () -> OnnxImport.fromBytes(custom.bytes(), FILE));
        assertTrue(e.getMessage().contains("com.microsoft:FusedGemm"), e.getMessage());
    }

    static Stream<Arguments> unsupportedAttributes() {
        List<Arguments> cases = new ArrayList<>();
        Graphs g;

        g = new Graphs(1, 2, 8, 8);
        g.op("Conv", List.of(g.weight("W", 3, 2, 3, 3)), OnnxProto.stringAttr("auto_pad", "SAME_UPPER"));
        cases.add(Arguments.of("Conv auto_pad SAME_UPPER", g, "Conv", "auto_pad"));

        g = new Graphs(1, 2, 8, 8);
        g.op("Conv", List.of(g.weight("W", 3, 2, 3, 3)), OnnxProto.intsAttr("pads", 0, 0, 1, 1));
        cases.add(Arguments.of("Conv asymmetric pads", g, "Conv", "pads"));

        g = new Graphs(1, 2, 8, 8);
        g.op("AveragePool", OnnxProto.intsAttr("kernel_shape", 3, 3), OnnxProto.intsAttr("pads", 1, 1, 1, 1),
                OnnxProto.intAttr("count_include_pad", 0));
        cases.add(Arguments.of("AveragePool count_include_pad 0 with pads", g, "AveragePool", "count_include_pad"));

        g = new Graphs(1, 2, 7, 7);
        g.op("MaxPool", OnnxProto.intsAttr("kernel_shape", 2, 2), OnnxProto.intsAttr("strides", 2, 2), OnnxProto.intAttr("ceil_mode", 1));
        cases.add(Arguments.of("MaxPool ceil_mode changing the size", g, "MaxPool", "ceil_mode"));

        g = new Graphs(1, 2, 8, 8);
        g.op("MaxPool", OnnxProto.intsAttr("kernel_shape", 2, 3));
        cases.add(Arguments.of("MaxPool non-square kernel", g, "MaxPool", "kernel_shape"));

        g = new Graphs(1, 6);
        g.op("Gemm", List.of(g.weight("W", 6, 4)), OnnxProto.intAttr("transA", 1));
        cases.add(Arguments.of("Gemm transA", g, "Gemm", "transA"));

        g = new Graphs(1, 6);
        g.op("Gemm", List.of(g.weight("W", 6, 4)), OnnxProto.floatAttr("alpha", 2f));
        cases.add(Arguments.of("Gemm alpha 2", g, "Gemm", "alpha"));

        g = new Graphs(1, 3, 4, 4);
        g.op("Softmax", OnnxProto.intAttr("axis", 1));
        cases.add(Arguments.of("Softmax over channels", g, "Softmax", "axis"));

        g = new Graphs(1, 3, 4, 4);
        g.opset = 12;
        g.op("Softmax");   // opset < 13: default axis 1 coerces [N, 3·4·4]: not the last axis of [N, 3, 4, 4]
        cases.add(Arguments.of("Softmax-1 default axis on rank 4", g, "Softmax", "axis"));

        g = new Graphs(1, 3, 4, 4);
        g.op("Flatten", OnnxProto.intAttr("axis", 2));
        cases.add(Arguments.of("Flatten axis 2", g, "Flatten", "axis"));

        g = new Graphs(1, 3, 4);
        g.op("BatchNormalization", List.of(g.positive("s", 3), g.weight("b", 3), g.weight("m", 3), g.positive("v", 3)),
                OnnxProto.intAttr("training_mode", 1));
        cases.add(Arguments.of("BatchNormalization training_mode 1", g, "BatchNormalization", "training_mode"));

        g = new Graphs(1, 2, 8, 8);
        g.op("Pad", List.of(g.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)), OnnxProto.stringAttr("mode", "reflect"));
        cases.add(Arguments.of("Pad reflect", g, "Pad", "mode"));

        g = new Graphs(1, 2, 8, 8);
        g.op("Conv", List.of(g.weight("W", 3, 2, 3, 3)), OnnxProto.intAttr("some_future_attribute", 1));
        cases.add(Arguments.of("an attribute norm4j does not know", g, "Conv", "some_future_attribute"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedAttributes")
    void unsupportedAttributesAreNamed(String label, Graphs g, String op, String attribute) {
        UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> OnnxImport.fromBytes(g.bytes(), FILE), label);
        assertEquals(op, e.opType(), e.getMessage());
        assertEquals(attribute, e.attribute(), e.getMessage());
        assertNotNull(e.nodeName());
        assertTrue(e.getMessage().contains(attribute) && e.getMessage().contains(op + " node \"" + e.nodeName() + "\""), e.getMessage());
    }

    static Stream<Arguments> unsupportedGraphs() {
        List<Arguments> cases = new ArrayList<>();
        Graphs g;

        g = new Graphs(1, 4);   // a residual: y = relu(x) + x
        g.op("Relu");
        g.node(OnnxProto.node("add", "Add", List.of("v0", "x"), List.of("y")));
        g.current = "y";
        cases.add(Arguments.of("a residual Add", g, "Add"));

        g = new Graphs(1, 4);   // two consumers of x
        g.op("Relu");
        g.node(OnnxProto.node("branch", "Sigmoid", List.of("x"), List.of("y")));
        g.current = "y";
        cases.add(Arguments.of("a branch", g, "Sigmoid"));

        g = new Graphs(1, 3, 4, 4);
        g.op("Reshape", List.of(g.ints("shape", -1, 16)));
        cases.add(Arguments.of("Reshape that mixes the batch", g, "Reshape"));

        g = new Graphs(1, 2, 5);
        g.op("Conv", List.of(g.weight("W", 3, 2, 3)));
        cases.add(Arguments.of("1-D Conv", g, "Conv"));

        g = new Graphs(1, 2, 6, 6);
        g.nodes.add(OnnxProto.node("mp", "MaxPool", List.of("x"), List.of("v0", "idx"), OnnxProto.intsAttr("kernel_shape", 2, 2)));
        g.nodes.add(OnnxProto.node("use", "Relu", List.of("idx"), List.of("y")));
        g.current = "y";
        cases.add(Arguments.of("MaxPool indices used", g, "MaxPool"));

        g = new Graphs(1, 4);
        g.opset = 7;
        g.op("Relu");
        cases.add(Arguments.of("opset 7", g, null));

        g = new Graphs(1, 4);
        g.extraInputs.add(new OnnxProto.ValueInfo("z", OnnxProto.FLOAT, List.of(OnnxProto.Dim.of(4)), 0));
        g.op("Relu");
        cases.add(Arguments.of("two inputs", g, null));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedGraphs")
    void unsupportedGraphsAreRefused(String label, Graphs g, String op) {
        UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> OnnxImport.fromBytes(g.bytes(), FILE), label);
        assertEquals(op, e.opType(), e.getMessage());
        assertTrue(e.getMessage().startsWith("fuzzed.onnx: "), e.getMessage());
    }

    // ---- export failures ----------------------------------------------------------------------

    @Test
    void unsupportedLayerLeavesTheOldFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.onnx");
        Files.writeString(file, "the old model");
        Sequential net = new Sequential(new Linear(4, 3, true, new Rng(0)), new LayerNorm(3));
        net.eval();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(net, new int[] {1, 4}, file));
        assertTrue(e.getMessage().contains("layer 1") && e.getMessage().contains("LayerNorm"), e.getMessage());
        assertEquals("the old model", Files.readString(file));
        assertEquals(List.of(file), listDir(dir), "no temporary file left behind");
    }

    @Test
    void trainingModeAndChannelsLastAreRefused(@TempDir Path dir) throws Exception {
        Sequential training = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExport.write(training, new int[] {1, 1, 28, 28}, dir.resolve("a.onnx")));
        assertTrue(e.getMessage().contains("layer 1") && e.getMessage().contains("eval()"), e.getMessage());

        Sequential keras = new Sequential(BatchNorm.of(Convention.KERAS, 3));   // axis -1 of [N, 3, 4, 4] is W, not C
        keras.eval();
        e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(keras, new int[] {1, 3, 4, 4}, dir.resolve("b.onnx")));
        assertTrue(e.getMessage().contains("axis -1") && e.getMessage().contains("axis 1"), e.getMessage());
        Sequential dropout = new Sequential(new Linear(4, 2, true, new Rng(0)), new Dropout(0.5));   // modules start in training mode
        e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(dropout, new int[] {1, 4}, dir.resolve("d.onnx")));
        assertTrue(e.getMessage().contains("layer 1 (Dropout(p=0.5))") && e.getMessage().contains("eval()"), e.getMessage());
        dropout.eval();
        OnnxExport.write(dropout, new int[] {1, 4}, dir.resolve("d.onnx"));
        assertEquals(1, OnnxImport.read(dir.resolve("d.onnx")).size(), "eval-mode Dropout exports as nothing");

        Sequential wrongShape = new Sequential(new Linear(5, 2, true, new Rng(0)));
        e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(wrongShape, new int[] {1, 4}, dir.resolve("c.onnx")));
        assertTrue(e.getMessage().contains("Linear(5, 2)") && e.getMessage().contains("[1, 4]"), e.getMessage());
    }

    /** A write that fails halfway (disk full, say) leaves the old file and no temporary file. */
    @Test
    void failedWriteLeavesTheOldFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.onnx");
        Files.writeString(file, "the old model");
        byte[] bytes = OnnxExport.encode(smallExport(), new int[] {1, 1, 28, 28});
        IOException e = assertThrows(IOException.class, () -> OnnxExport.writeAtomically(file, bytes, bytes.length / 2));
        assertTrue(e.getMessage().contains("simulated"), e.getMessage());
        assertEquals("the old model", Files.readString(file));
        assertEquals(List.of(file), listDir(dir));
        OnnxExport.writeAtomically(file, bytes, -1);
        assertTrue(Arrays.equals(bytes, Files.readAllBytes(file)));
    }

    private static List<Path> listDir(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
