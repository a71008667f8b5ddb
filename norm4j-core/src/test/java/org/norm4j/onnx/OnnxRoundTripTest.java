package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;
import org.norm4j.train.LeNet;

/** Export then import, and hand-built graphs in the forms other exporters write, against plain double references. */
class OnnxRoundTripTest {
    static final Path FILE = Path.of("hand.onnx");

    /** Any convention's BN comes back as a PyTorch BN with the variance it stands for: same outputs, d2l keys. */
    @ParameterizedTest
    @EnumSource(Convention.class)
    void exportThenImport(Convention conv, @TempDir Path dir) throws Exception {
        Sequential net = OnnxTesting.trainedLeNet(conv, 21);
        Path file = dir.resolve("lenet.onnx");
        OnnxExport.write(net, new int[] {1, 1, 28, 28}, file);
        OnnxImport.Imported imp = OnnxImport.load(file);
        assertArrayEquals(new int[] {-1, 1, 28, 28}, imp.inputShape());
        assertEquals("input", imp.inputName());
        assertEquals("output", imp.outputName());
        assertEquals(StateDict.keys(LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0)), StateDict.keys(imp.model()));
        BatchNorm bn = (BatchNorm) imp.model().get(1);
        assertEquals(((BatchNorm) net.get(1)).eps(), bn.eps(), 0.0, "eps survives float storage as its decimal");
        float[] x = OnnxTesting.uniform(6 * 784, 4);
        OnnxTesting.assertRowsClose(conv + " round trip", OnnxTesting.norm4j(imp.model(), x, 6, 1, 28, 28),
                OnnxTesting.norm4j(net, x, 6, 1, 28, 28), 10, 1e-5);
    }

    /**
     * x [N, 6] → Gemm(W [6, 4], transB 0, C [1, 4]) → Identity → Relu → MatMul(W2 [4, 3]) →
     * Add(b2, ·) with the bias first → Softmax (axis 1 at opset 12 on [N, 3]: the last axis).
     */
    @Test
    void otherExportersForms() throws Exception {
        Graphs g = new Graphs(1, 6);
        g.opset = 12;
        g.op("Gemm", List.of(g.weight("W", 6, 4), g.weight("C", 1, 4)));
        g.op("Identity").op("Relu").op("MatMul", List.of(g.weight("W2", 4, 3)));
        String mm = g.current;
        g.node(OnnxProto.node("bias", "Add", List.of(g.weight("b2", 3), mm), List.of("added")));
        g.current = "added";
        g.op("Softmax", OnnxProto.intAttr("axis", 1));
        Sequential net = OnnxImport.fromBytes(g.bytes(), FILE).model();
        assertEquals(List.of("Linear", "ReLU", "Linear", "Softmax"), PyTorchOnnxTest.kinds(net));

        float[] w = data(g, "W"), c = data(g, "C"), w2 = data(g, "W2"), b2 = data(g, "b2");
        int n = 5;
        float[] x = OnnxTesting.uniform(n * 6, 8);
        for (int i = 0; i < x.length; i++) x[i] = 4 * x[i] - 2;
        float[] want = new float[n * 3];
        for (int r = 0; r < n; r++) {
            double[] h = new double[4];
            for (int j = 0; j < 4; j++) {
                double s = c[j];
                for (int k = 0; k < 6; k++) s += (double) x[r * 6 + k] * w[k * 4 + j];
                h[j] = Math.max(0, s);
            }
            double[] z = new double[3];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < 3; j++) {
                z[j] = b2[j];
                for (int k = 0; k < 4; k++) z[j] += h[k] * w2[k * 3 + j];
                max = Math.max(max, z[j]);
            }
            for (int j = 0; j < 3; j++) sum += Math.exp(z[j] - max);
            for (int j = 0; j < 3; j++) want[r * 3 + j] = (float) (Math.exp(z[j] - max) / sum);
        }
        OnnxTesting.assertRowsClose("Gemm/MatMul+Add/Softmax vs double", OnnxTesting.norm4j(net, x, n, 6), want, 3, 1e-5);
    }

    /** Pad (zeros on H, W) before a Conv becomes the Conv's padding; Constant value_ints + Reshape [0, -1] flattens. */
    @Test
    void padIntoConvAndConstantReshape() throws Exception {
        Graphs g = new Graphs(1, 2, 5, 6);
        g.op("Pad", List.of(g.ints("pads", 0, 0, 1, 2, 0, 0, 1, 2)));
        g.op("Conv", List.of(g.weight("W", 3, 2, 3, 3), g.weight("B", 3)), OnnxProto.intsAttr("pads", 1, 0, 1, 0),
                OnnxProto.intsAttr("strides", 1, 2));
        g.node(OnnxProto.node("shape", "Constant", List.of(), List.of("s"), OnnxProto.intsAttr("value_ints", 0, -1)));
        g.op("Reshape", List.of("s"));
        Sequential net = OnnxImport.fromBytes(g.bytes(), FILE).model();
        assertEquals(List.of("Conv2d", "Flatten"), PyTorchOnnxTest.kinds(net));
        Conv2d conv = (Conv2d) net.get(0);
        assertEquals(new Convolution.Geometry(1, 2, 2, 2, 1, 1, 1), conv.geometry());

        Conv2d ref = new Conv2d(2, 3, 3, 3, new Convolution.Geometry(1, 2, 2, 2, 1, 1, 1), true, new Rng(0));
        ref.weight().copyFrom(data(g, "W"));
        ref.bias().copyFrom(data(g, "B"));
        float[] x = OnnxTesting.uniform(2 * 2 * 5 * 6, 3);
        float[] want = OnnxTesting.norm4j(new Sequential(ref), x, 2, 2, 5, 6);
        assertArrayEquals(want, OnnxTesting.norm4j(net, x, 2, 2, 5, 6));
        assertEquals(2 * 3 * 7 * 4, want.length);
    }

    private static float[] data(Graphs g, String name) throws Exception {
        for (OnnxProto.TensorProto t : g.inits) if (t.name().equals(name)) return OnnxProto.floatData(t, FILE);
        throw new AssertionError(name);
    }
}
