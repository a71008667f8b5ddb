package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Dim;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.ValueInfo;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

/**
 * {@link OnnxGraph} on hand-built graphs, against references that are not its own code: plain
 * double formulas written here (broadcasting, BatchNormalization's training update from the ONNX
 * specification), norm4j's im2col Conv2d, the adjoint identity ⟨conv(x), y⟩ = ⟨x, convT(y)⟩ for
 * ConvTranspose; and its refusals, each naming the operator, the attribute and the node. ONNX's own
 * backend tests are in {@link OnnxConformanceTest}.
 */
class OnnxGraphTest {
    private static final Path FILE = Path.of("t.onnx");

    /** A graph of any shape: float inputs with fixed shapes, named outputs. */
    static final class G {
        final List<Node> nodes = new ArrayList<>();
        final List<ValueInfo> inputs = new ArrayList<>();
        final List<ValueInfo> outputs = new ArrayList<>();
        final List<OnnxProto.TensorProto> inits = new ArrayList<>();
        long opset = 17;

        G input(String name, int type, long... dims) {
            List<Dim> d = new ArrayList<>();
            for (long v : dims) d.add(Dim.of(v));
            inputs.add(new ValueInfo(name, type, d, 0));
            return this;
        }

        G output(String name) {
            outputs.add(new ValueInfo(name, OnnxProto.FLOAT, null, 0));
            return this;
        }

        G node(String name, String op, List<String> in, List<String> out, Attribute... attrs) {
            nodes.add(OnnxProto.node(name, op, in, out, attrs));
            return this;
        }

        byte[] bytes() {
            OnnxProto.Graph g = new OnnxProto.Graph("g", nodes, inits, inputs, outputs, List.of());
            return OnnxProto.encode(new OnnxProto.Model(8, "test", "", g, List.of(new OnnxProto.OpsetId("", opset))));
        }

        OnnxGraph load() throws IOException {
            return OnnxGraph.fromBytes(bytes(), FILE);
        }
    }

    static float[] random(int n, long seed) {
        Rng r = new Rng(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.normal(0, 1);
        return v;
    }

    // ---- elementwise and broadcasting ----------------------------------------------------------

    @Test
    void addAndMulBroadcastLikeNumpy() throws IOException {
        G g = new G().input("a", OnnxProto.FLOAT, 2, 3, 4).input("b", OnnxProto.FLOAT, 3, 1).input("c", OnnxProto.FLOAT, 4)
                .node("add", "Add", List.of("a", "b"), List.of("s")).node("mul", "Mul", List.of("s", "c"), List.of("y")).output("y");
        float[] a = random(24, 1), b = random(3, 2), c = random(4, 3);
        OnnxTensor y = g.load().run(List.of(OnnxTensor.ofFloats(a, 2, 3, 4), OnnxTensor.ofFloats(b, 3, 1), OnnxTensor.ofFloats(c, 4))).get(0);
        assertArrayEquals(new int[] {2, 3, 4}, y.shape());
        double[] want = new double[24];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) {
            want[(i * 3 + j) * 4 + k] = (double) (a[(i * 3 + j) * 4 + k] + b[j]) * c[k];
        }
        Check.close("(a + b)·c", y.floats(), want, 1e-6, 1e-6);
    }

    @Test
    void integerAdditionWrapsAroundItsType() throws IOException {
        G g = new G().input("a", OnnxProto.UINT8, 3).input("b", OnnxProto.UINT8, 3).node("add", "Add", List.of("a", "b"), List.of("y")).output("y");
        OnnxTensor y = g.load().run(List.of(OnnxTensor.ofIntegers(OnnxProto.UINT8, new long[] {250, 1, 128}, 3),
                OnnxTensor.ofIntegers(OnnxProto.UINT8, new long[] {10, 2, 128}, 3))).get(0);
        assertEquals(OnnxProto.UINT8, y.dataType());
        assertArrayEquals(new long[] {4, 3, 0}, y.longs(), "uint8: 250 + 10 = 260 mod 256");
    }

    // ---- BatchNormalization: Convention.ONNX --------------------------------------------------

    @Test
    void batchNormalizationTrainingModeFollowsTheOnnxSpecification() throws IOException {
        int n = 4, c = 3, h = 2, w = 5;
        float momentum = 0.8f, eps = 1e-3f;
        G g = new G().input("x", OnnxProto.FLOAT, n, c, h, w);
        for (String p : List.of("scale", "b", "mean", "var")) g.input(p, OnnxProto.FLOAT, c);
        g.node("bn", "BatchNormalization", List.of("x", "scale", "b", "mean", "var"), List.of("y", "rm", "rv"),
                OnnxProto.intAttr("training_mode", 1), OnnxProto.floatAttr("momentum", momentum), OnnxProto.floatAttr("epsilon", eps));
        g.output("y").output("rm").output("rv");
        float[] x = random(n * c * h * w, 5), scale = {0.5f, 1.5f, -1f}, b = {0.1f, -0.2f, 0.3f}, mean = {0.2f, -0.1f, 1f}, var = {1f, 2f, 0.5f};
        List<OnnxTensor> out = g.load().run(List.of(OnnxTensor.ofFloats(x, n, c, h, w), OnnxTensor.ofFloats(scale, c), OnnxTensor.ofFloats(b, c),
                OnnxTensor.ofFloats(mean, c), OnnxTensor.ofFloats(var, c)));
        // the specification's reference: saved_mean/var over all axes but 1 (np.var: biased);
        // running = input·momentum + saved·(1 − momentum); y normalized with the batch statistics
        double[] y = new double[x.length], rm = new double[c], rv = new double[c];
        int per = n * h * w;
        for (int ch = 0; ch < c; ch++) {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < h * w; k++) m += x[(i * c + ch) * h * w + k];
            m /= per;
            for (int i = 0; i < n; i++) for (int k = 0; k < h * w; k++) v += Math.pow(x[(i * c + ch) * h * w + k] - m, 2);
            v /= per;
            rm[ch] = mean[ch] * 0.8 + m * (1 - 0.8);
            rv[ch] = var[ch] * 0.8 + v * (1 - 0.8);
            for (int i = 0; i < n; i++) for (int k = 0; k < h * w; k++) {
                int at = (i * c + ch) * h * w + k;
                y[at] = scale[ch] * (x[at] - m) / Math.sqrt(v + 1e-3) + b[ch];
            }
        }
        Check.close("y", out.get(0).floats(), y, 1e-6, 1e-6);
        Check.close("running mean", out.get(1).floats(), rm, 1e-7, 1e-6);
        Check.close("running var", out.get(2).floats(), rv, 1e-7, 1e-6);

        // the same numbers from BatchNorm in Convention.ONNX, the convention the node runs in
        BatchNorm bn = BatchNorm.builder(Convention.ONNX, c).eps(1e-3).momentum(0.8).build();
        bn.weight().copyFrom(scale);
        bn.bias().copyFrom(b);
        bn.runningMean().copyFrom(mean);
        bn.runningVar().copyFrom(var);
        try (var ng = Autograd.noGrad()) {
            assertArrayEquals(bn.forward(Tensor.of(x, n, c, h, w)).toArray(), out.get(0).floats());
        }
        assertArrayEquals(bn.runningMean().toArray(), out.get(1).floats());
        assertArrayEquals(bn.runningVar().toArray(), out.get(2).floats());
    }

    @Test
    void batchNormalizationRefusesWhatItCannotReproduce() {
        G spatial = new G().input("x", OnnxProto.FLOAT, 2, 3).node("bn0", "BatchNormalization", List.of("x", "s", "b", "m", "v"), List.of("y"),
                OnnxProto.intAttr("spatial", 0));
        for (String p : List.of("s", "b", "m", "v")) spatial.input(p, OnnxProto.FLOAT, 3);
        spatial.opset = 7;
        UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> spatial.output("y").load());
        assertNamed(e, "BatchNormalization", "bn0", "spatial");

        G oldTraining = new G().input("x", OnnxProto.FLOAT, 2, 3)
                .node("bn1", "BatchNormalization", List.of("x", "s", "b", "m", "v"), List.of("y", "mean", "var"));
        for (String p : List.of("s", "b", "m", "v")) oldTraining.input(p, OnnxProto.FLOAT, 3);
        oldTraining.opset = 9;
        e = assertThrows(UnsupportedOnnxException.class, () -> oldTraining.output("y").load());
        assertNamed(e, "BatchNormalization", "bn1", null);
    }

    // ---- Conv and ConvTranspose -----------------------------------------------------------------

    @Test
    void convEqualsNorm4jsConv2d() throws IOException {
        int n = 2, c = 4, h = 7, w = 6, m = 6, group = 2, k = 3;
        G g = new G().input("x", OnnxProto.FLOAT, n, c, h, w).input("w", OnnxProto.FLOAT, m, c / group, k, k).input("b", OnnxProto.FLOAT, m)
                .node("conv", "Conv", List.of("x", "w", "b"), List.of("y"), OnnxProto.intsAttr("strides", 2, 1), OnnxProto.intsAttr("pads", 1, 2, 1, 2),
                        OnnxProto.intsAttr("dilations", 1, 2), OnnxProto.intAttr("group", group))
                .output("y");
        float[] x = random(n * c * h * w, 7), wt = random(m * (c / group) * k * k, 8), b = random(m, 9);
        OnnxTensor y = g.load().run(List.of(OnnxTensor.ofFloats(x, n, c, h, w), OnnxTensor.ofFloats(wt, m, c / group, k, k),
                OnnxTensor.ofFloats(b, m))).get(0);
        Conv2d ref = new Conv2d(c, m, k, k, new Convolution.Geometry(2, 1, 1, 2, 1, 2, group), true, new Rng(0));
        ref.weight().copyFrom(wt);
        ref.bias().copyFrom(b);
        try (var ng = Autograd.noGrad()) {
            Tensor r = ref.forward(Tensor.of(x, n, c, h, w));
            assertArrayEquals(r.shape(), y.shape());
            Check.close("Conv vs Conv2d", y.floats(), r.toArray(), 1e-5, 1e-5);
        }
    }

    /** ConvTranspose is Conv's adjoint: ⟨Conv(x; W), u⟩ = ⟨x, ConvTranspose(u; W)⟩ for every x, u. */
    @Test
    void convTransposeIsTheAdjointOfConv() throws IOException {
        int n = 2, c = 3, m = 2;
        long[][] geometries = {{2, 3, 0, 1, 1, 0, 1, 1}, {3, 2, 1, 1, 1, 1, 2, 1}, {1, 1, 2, 0, 0, 2, 1, 3}};   // strides, pads (4), dilations
        for (long[] geo : geometries) {
            Attribute[] attrs = {OnnxProto.intsAttr("strides", geo[0], geo[1]), OnnxProto.intsAttr("pads", geo[2], geo[3], geo[4], geo[5]),
                OnnxProto.intsAttr("dilations", geo[6], geo[7])};
            int h = 9, w = 8;
            G conv = new G().input("x", OnnxProto.FLOAT, n, c, h, w).input("w", OnnxProto.FLOAT, m, c, 3, 2)
                    .node("conv", "Conv", List.of("x", "w"), List.of("y"), attrs).output("y");
            float[] x = random(n * c * h * w, 11), wt = random(m * c * 3 * 2, 12);
            OnnxTensor y = conv.load().run(List.of(OnnxTensor.ofFloats(x, n, c, h, w), OnnxTensor.ofFloats(wt, m, c, 3, 2))).get(0);
            int[] ys = y.shape();
            float[] u = random(y.size(), 13);
            // ConvTranspose from m channels back to c, with output_shape = x's spatial size
            G convT = new G().input("u", OnnxProto.FLOAT, ys[0], ys[1], ys[2], ys[3]).input("w", OnnxProto.FLOAT, m, c, 3, 2)
                    .node("convT", "ConvTranspose", List.of("u", "w"), List.of("z"), attrs[0], attrs[2], OnnxProto.intsAttr("pads", geo[2], geo[3], geo[4], geo[5]),
                            OnnxProto.intsAttr("output_padding", outputPadding(h, ys[2], 3, geo[0], geo[2] + geo[4], geo[6]),
                                    outputPadding(w, ys[3], 2, geo[1], geo[3] + geo[5], geo[7])))
                    .output("z");
            OnnxTensor z = convT.load().run(List.of(OnnxTensor.ofFloats(u, ys), OnnxTensor.ofFloats(wt, m, c, 3, 2))).get(0);
            assertArrayEquals(new int[] {n, c, h, w}, z.shape(), "ConvTranspose gives x's shape back");
            double lhs = 0, rhs = 0;
            for (int i = 0; i < u.length; i++) lhs += (double) y.floats()[i] * u[i];
            for (int i = 0; i < x.length; i++) rhs += (double) x[i] * z.floats()[i];
            assertEquals(lhs, rhs, 1e-4 * Math.abs(lhs) + 1e-4, "adjoint identity for geometry " + java.util.Arrays.toString(geo));
        }
    }

    /** The output_padding that makes ConvTranspose's output as large as the Conv's input. */
    private static long outputPadding(int in, int out, int k, long s, long pads, long d) {
        return in - ((out - 1) * s + (k - 1) * d + 1 - pads);
    }

    // ---- pooling --------------------------------------------------------------------------------

    @Test
    void maxPoolIndicesInBothStorageOrders() throws IOException {
        float[] x = new float[25];
        for (int i = 0; i < 25; i++) x[i] = i % 7;   // maxima not in the window's last corner
        for (long order : new long[] {0, 1}) {
            G g = new G().input("x", OnnxProto.FLOAT, 1, 1, 5, 5).node("pool", "MaxPool", List.of("x"), List.of("y", "i"),
                    OnnxProto.intsAttr("kernel_shape", 2, 2), OnnxProto.intsAttr("strides", 2, 2), OnnxProto.intAttr("storage_order", order))
                    .output("y").output("i");
            List<OnnxTensor> out = g.load().run(List.of(OnnxTensor.ofFloats(x, 1, 1, 5, 5)));
            float[] y = new float[4];
            long[] idx = new long[4];
            for (int oh = 0; oh < 2; oh++) for (int ow = 0; ow < 2; ow++) {
                float best = Float.NEGATIVE_INFINITY;
                for (int dh = 0; dh < 2; dh++) for (int dw = 0; dw < 2; dw++) {
                    int hh = 2 * oh + dh, ww = 2 * ow + dw;
                    if (x[hh * 5 + ww] > best) {
                        best = x[hh * 5 + ww];
                        idx[oh * 2 + ow] = order == 0 ? hh * 5 + ww : ww * 5 + hh;
                    }
                }
                y[oh * 2 + ow] = best;
            }
            assertArrayEquals(y, out.get(0).floats());
            assertArrayEquals(idx, out.get(1).longs(), "storage_order " + order);
        }
    }

    // ---- refusals: operator, attribute and node named ----------------------------------------------

    private static void assertNamed(UnsupportedOnnxException e, String op, String node, String attribute) {
        assertEquals(op, e.opType(), e.getMessage());
        assertEquals(node, e.nodeName(), e.getMessage());
        assertEquals(attribute, e.attribute(), e.getMessage());
        assertTrue(e.getMessage().startsWith(FILE + ": "), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(op) && e.getMessage().contains("\"" + node + "\""), e.getMessage());
        if (attribute != null) assertTrue(e.getMessage().contains(attribute), e.getMessage());
    }

    @Test
    void unknownOperatorsAndAttributesAreRefusedByName() {
        G lstm = new G().input("x", OnnxProto.FLOAT, 1, 2, 3).node("rnn/LSTM_0", "LSTM", List.of("x"), List.of("y")).output("y");
        assertNamed(assertThrows(UnsupportedOnnxException.class, lstm::load), "LSTM", "rnn/LSTM_0", null);

        G attr = new G().input("x", OnnxProto.FLOAT, 1, 2, 3).node("act", "Relu", List.of("x"), List.of("y"), OnnxProto.intAttr("consumed_inputs", 1))
                .output("y");
        assertNamed(assertThrows(UnsupportedOnnxException.class, attr::load), "Relu", "act", "consumed_inputs");

        G autoPad = new G().input("x", OnnxProto.FLOAT, 1, 1, 4, 4).input("w", OnnxProto.FLOAT, 1, 1, 3, 3)
                .node("c0", "Conv", List.of("x", "w"), List.of("y"), OnnxProto.stringAttr("auto_pad", "SAME_MIDDLE")).output("y");
        assertNamed(assertThrows(UnsupportedOnnxException.class, autoPad::load), "Conv", "c0", "auto_pad");

        G stash = new G().input("x", OnnxProto.FLOAT, 2, 3).input("s", OnnxProto.FLOAT, 3)
                .node("ln", "LayerNormalization", List.of("x", "s"), List.of("y"), OnnxProto.intAttr("stash_type", 11)).output("y");
        assertNamed(assertThrows(UnsupportedOnnxException.class, stash::load), "LayerNormalization", "ln", "stash_type");

        G domain = new G().input("x", OnnxProto.FLOAT, 2).output("y");
        domain.nodes.add(new Node("custom0", "Gelu", "com.example", List.of("x"), List.of("y"), List.of(), 0));
        assertNamed(assertThrows(UnsupportedOnnxException.class, domain::load), "Gelu", "custom0", null);
    }

    @Test
    void aSeparateSoftmaxAxisPerOpset() throws IOException {
        float[] x = random(24, 21);
        for (long opset : new long[] {11, 13}) {
            G g = new G().input("x", OnnxProto.FLOAT, 2, 3, 4).node("sm", "Softmax", List.of("x"), List.of("y"), OnnxProto.intAttr("axis", 1)).output("y");
            g.opset = opset;
            float[] y = g.load().run(List.of(OnnxTensor.ofFloats(x, 2, 3, 4))).get(0).floats();
            double[] want = new double[24];
            for (int a = 0; a < 2; a++) {
                // opset 11: x coerced to [2, 12], softmax over the 12; opset 13: over axis 1 (3 values) per (a, k)
                for (int k = 0; k < (opset >= 13 ? 4 : 1); k++) {
                    int len = opset >= 13 ? 3 : 12, stride = opset >= 13 ? 4 : 1;
                    double sum = 0;
                    for (int i = 0; i < len; i++) sum += Math.exp(x[a * 12 + k + i * stride]);
                    for (int i = 0; i < len; i++) want[a * 12 + k + i * stride] = Math.exp(x[a * 12 + k + i * stride]) / sum;
                }
            }
            Check.close("Softmax opset " + opset, y, want, 1e-7, 1e-6);
        }
    }

    @Test
    void badInputsAndValuesNoOneProducesAreNamed() throws IOException {
        G g = new G().input("x", OnnxProto.FLOAT, 2, 3).node("r", "Relu", List.of("x"), List.of("y")).output("y");
        OnnxGraph graph = g.load();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> graph.run(List.of(OnnxTensor.ofFloats(new float[4], 2, 2))));
        assertTrue(e.getMessage().contains("\"x\"") && e.getMessage().contains("[2, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> graph.run(Map.of("z", OnnxTensor.ofFloats(new float[6], 2, 3))));
        assertTrue(e.getMessage().contains("no input \"z\""), e.getMessage());

        G dangling = new G().input("x", OnnxProto.FLOAT, 2).node("m", "Mul", List.of("x", "nowhere"), List.of("y")).output("y");
        OnnxFormatException f = assertThrows(OnnxFormatException.class, dangling::load);
        assertTrue(f.getMessage().contains("Mul node \"m\" reads \"nowhere\""), f.getMessage());

        G shapes = new G().input("a", OnnxProto.FLOAT, 2, 3).input("b", OnnxProto.FLOAT, 4).node("add0", "Add", List.of("a", "b"), List.of("y")).output("y");
        e = assertThrows(IllegalArgumentException.class,
                () -> shapes.load().run(List.of(OnnxTensor.ofFloats(new float[6], 2, 3), OnnxTensor.ofFloats(new float[4], 4))));
        assertTrue(e.getMessage().contains("Add node \"add0\"") && e.getMessage().contains("do not broadcast"), e.getMessage());
    }

    // ---- PyTorch's exports, and damaged files -------------------------------------------------------

    /** PyTorch 1.13's LeNet-BN exports (tools/export_onnx.py) run through the graph give PyTorch's logits. */
    @Test
    void pyTorchsLeNetExportsGivePyTorchsOutputs() throws Exception {
        Map<String, org.norm4j.io.SafeTensors.Entry> io = PyTorchOnnxTest.io("lenet_bn_io.safetensors");
        float[] x = io.get("input").floats();
        for (String name : List.of("lenet_bn.onnx", "lenet_bn_eval.onnx")) {
            OnnxGraph g = OnnxGraph.load(PyTorchOnnxTest.resource(name));
            OnnxTensor y = g.run(List.of(OnnxTensor.ofFloats(x.clone(), 8, 1, 28, 28))).get(0);
            OnnxTesting.assertRowsClose("OnnxGraph " + name, y.floats(), io.get("logits").floats(), 10, 1e-5);
        }
    }

    /** Damaged files are a format error or an unsupported model naming what, or a graph that runs or refuses its input; nothing else. */
    @Test
    void flippedBytesNeverGiveAnythingElse() throws Exception {
        byte[] good = java.nio.file.Files.readAllBytes(PyTorchOnnxTest.resource("lenet_bn.onnx"));
        java.util.Random rnd = new java.util.Random(8);
        OnnxTensor x = OnnxTensor.ofFloats(random(784, 3), 1, 1, 28, 28);
        int ran = 0, refused = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = good.clone();
            for (int k = 0; k < 3; k++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            try {
                OnnxGraph g = OnnxGraph.fromBytes(b, FILE);
                try {
                    g.run(List.of(x));
                    ran++;
                } catch (IllegalArgumentException | UnsupportedOnnxException e) {
                    assertTrue(e.getMessage().startsWith(FILE + ": "), "names the file: " + e.getMessage());
                    refused++;
                }
            } catch (OnnxFormatException | UnsupportedOnnxException e) {
                assertTrue(e.getMessage().startsWith(FILE + ": "), "names the file: " + e.getMessage());
                refused++;
            }
        }
        assertEquals(300, ran + refused);
    }

    // ---- the backend tests' file format ------------------------------------------------------------

    @Test
    void tensorFilesRoundTrip(@TempDir Path dir) throws IOException {
        OnnxTensor f = OnnxTensor.ofFloats(new float[] {1.5f, -0f, Float.NaN, 3e-39f}, 2, 2);
        OnnxTensor u8 = OnnxTensor.ofIntegers(OnnxProto.UINT8, new long[] {0, 255, 7}, 3);
        OnnxTensor i64 = OnnxTensor.ofInt64(new long[] {-1, Long.MAX_VALUE}, 2, 1);
        OnnxTensor i32 = OnnxTensor.ofIntegers(OnnxProto.INT32, new long[] {-5, Integer.MIN_VALUE}, 2);
        for (OnnxTensor t : List.of(f, u8, i64, i32)) {
            Path p = dir.resolve("t.pb");
            t.write(p, "value");
            OnnxTensor r = OnnxTensor.read(p);
            assertEquals(t.dataType(), r.dataType());
            assertArrayEquals(t.shape(), r.shape());
            for (int i = 0; i < t.size(); i++) assertEquals(Double.doubleToLongBits(t.get(i)), Double.doubleToLongBits(r.get(i)), t + " element " + i);
        }
    }
}
