package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.MaxPool2d;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Softmax;
import org.norm4j.nn.Tanh;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.Convolution;
import org.norm4j.tensor.Rng;

/**
 * Files that norm4j exports, run by ONNX Runtime (test scope only): the same outputs as norm4j to
 * 1e-5 relative (to each row's largest output), for LeNet-BN trained briefly in every convention
 * (stored var, Lasagne's inv_std, DL4J's log10 std), its folded form, and a network with every
 * exportable layer and the awkward geometries.
 */
class OnnxRuntimeTest {
    static final double REL = 1e-5;

    @ParameterizedTest
    @EnumSource(Convention.class)
    void lenetBnMatchesOnnxRuntime(Convention conv, @TempDir Path dir) throws Exception {
        Sequential net = OnnxTesting.trainedLeNet(conv, 7);
        float[] x = OnnxTesting.uniform(5 * 784, 11);
        float[] want = OnnxTesting.norm4j(net, x, 5, 1, 28, 28);

        Path file = dir.resolve("lenet.onnx");
        OnnxExport.write(net, new int[] {1, 1, 28, 28}, file);
        OnnxTesting.assertRowsClose(conv + " unfolded, ONNX Runtime", OnnxTesting.ort(file, x, 5, 1, 28, 28), want, 10, REL);

        Sequential folded = Folding.fold(net).model();
        Path foldedFile = dir.resolve("folded.onnx");
        OnnxExport.write(folded, new int[] {1, 1, 28, 28}, foldedFile);
        OnnxTesting.assertRowsClose(conv + " folded, ONNX Runtime", OnnxTesting.ort(foldedFile, x, 5, 1, 28, 28), want, 10, REL);
        OnnxTesting.assertRowsClose(conv + " folded, norm4j", OnnxTesting.norm4j(folded, x, 5, 1, 28, 28), want, 10, REL);

        OnnxProto.Graph g = decode(foldedFile).graph();
        assertEquals(List.of("Conv", "Sigmoid", "AveragePool", "Conv", "Sigmoid", "AveragePool", "Flatten", "Gemm", "Sigmoid", "Gemm",
                "Sigmoid", "Gemm"), ops(g), "folded: Conv/Gemm only, no BatchNormalization");
        assertEquals(4, ops(decode(file).graph()).stream().filter("BatchNormalization"::equals).count());
    }

    /** The file's structure: IR 8, opset 15, input [N, 1, 28, 28], the d2l state-dict names, shapes in value_info. */
    @Test
    void exportedStructure(@TempDir Path dir) throws Exception {
        Sequential net = OnnxTesting.trainedLeNet(Convention.PYTORCH, 3);
        Path file = dir.resolve("lenet.onnx");
        OnnxExport.write(net, new int[] {1, 1, 28, 28}, file);
        OnnxProto.Model m = decode(file);
        assertEquals(8, m.irVersion());
        assertEquals("norm4j", m.producerName());
        assertEquals(List.of(new OnnxProto.OpsetId("", 15)), m.opsets());
        OnnxProto.Graph g = m.graph();
        assertEquals("[N, 1, 28, 28]", g.inputs().get(0).dims().toString());
        assertEquals("[N, 10]", g.outputs().get(0).dims().toString());
        List<String> inits = new ArrayList<>();
        for (OnnxProto.TensorProto t : g.initializers()) inits.add(t.name());
        assertTrue(inits.containsAll(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "15.weight")), inits.toString());
        assertEquals(ops(g).size() - 1, g.valueInfo().size(), "a shape for every intermediate value");
        assertEquals("[N, 6, 24, 24]", g.valueInfo().get(0).dims().toString());
        OnnxProto.Node bn = g.nodes().get(1);
        assertEquals("BatchNormalization", bn.opType());
        assertEquals(1e-5f, bn.attribute("epsilon").f());
        OnnxProto.Node gemm = g.nodes().get(9);
        assertEquals(1, gemm.attribute("transB").i());
    }

    /**
     * Every exportable layer, with the geometries that go wrong first: a grouped, strided,
     * dilated, asymmetrically padded convolution without bias on a non-square input; BN without
     * gamma (TF_CONTRIB), with a fused activation (KERAS's values at axis 1), after a Linear on
     * [N, C] (LASAGNE), without affine and with a log10-std store (DL4J); padded max and average
     * pooling (count_include_pad); ReLU, Tanh, Sigmoid, Softmax.
     */
    @Test
    void everyLayerMatchesOnnxRuntime(@TempDir Path dir) throws Exception {
        Rng rng = new Rng(5);
        Sequential net = new Sequential(
                new Conv2d(3, 6, 3, 3, new Convolution.Geometry(2, 1, 1, 2, 1, 2, 3), false, rng),
                BatchNorm.builder(Convention.TF_CONTRIB, 6).axis(1).build(),
                new ReLU(),
                new MaxPool2d(3, 2, 1),
                new Conv2d(6, 4, 1, 1, new Convolution.Geometry(1, 1, 0, 0, 1, 1, 1), true, rng),
                BatchNorm.builder(Convention.KERAS, 4).axis(1).activation(Activation.TANH).build(),
                new AvgPool2d(2, 1, 1),
                new Tanh(),
                new Flatten(),
                new Linear(96, 7, true, rng),
                BatchNorm.builder(Convention.LASAGNE, 7).build(),
                new Sigmoid(),
                new Linear(7, 5, false, rng),
                BatchNorm.builder(Convention.DL4J, 5).affine(false).build(),
                new Softmax());
        OnnxTesting.train(net, new int[] {3, 11, 9}, 5, 9);
        float[] x = OnnxTesting.uniform(4 * 3 * 11 * 9, 12);
        float[] want = OnnxTesting.norm4j(net, x, 4, 3, 11, 9);

        Path file = dir.resolve("all.onnx");
        OnnxExport.write(net, new int[] {1, 3, 11, 9}, file);
        assertEquals(List.of("Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Tanh", "AveragePool", "Tanh",
                "Flatten", "Gemm", "BatchNormalization", "Sigmoid", "Gemm", "BatchNormalization", "Softmax"), ops(decode(file).graph()));
        OnnxTesting.assertRowsClose("every layer, ONNX Runtime", OnnxTesting.ort(file, x, 4, 3, 11, 9), want, 5, REL);

        // and back: the imported network computes the same
        Sequential back = OnnxImport.read(file);
        OnnxTesting.assertRowsClose("every layer, exported and imported", OnnxTesting.norm4j(back, x, 4, 3, 11, 9), want, 5, REL);

        Sequential folded = Folding.fold(net).model();
        Path foldedFile = dir.resolve("folded.onnx");
        OnnxExport.write(folded, new int[] {1, 3, 11, 9}, foldedFile);
        OnnxTesting.assertRowsClose("every layer folded, ONNX Runtime", OnnxTesting.ort(foldedFile, x, 4, 3, 11, 9), want, 5, REL);
    }

    /** A batch of one and a large batch run through the same file (the batch dimension is symbolic). */
    @Test
    void symbolicBatch(@TempDir Path dir) throws Exception {
        Sequential net = OnnxTesting.trainedLeNet(Convention.PYTORCH, 4);
        Path file = dir.resolve("lenet.onnx");
        OnnxExport.write(net, new int[] {1, 1, 28, 28}, file);
        for (int n : new int[] {1, 64}) {
            float[] x = OnnxTesting.uniform(n * 784, n);
            OnnxTesting.assertRowsClose("batch " + n, OnnxTesting.ort(file, x, n, 1, 28, 28), OnnxTesting.norm4j(net, x, n, 1, 28, 28), 10, REL);
        }
    }

    static OnnxProto.Model decode(Path file) throws Exception {
        return OnnxProto.decodeModel(Files.readAllBytes(file), file);
    }

    static List<String> ops(OnnxProto.Graph g) {
        List<String> ops = new ArrayList<>();
        for (OnnxProto.Node n : g.nodes()) ops.add(n.opType());
        return ops;
    }
}
