package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.LeNet;

/**
 * ONNX files written by PyTorch's torch.onnx.export (tools/export_onnx.py; fixtures in
 * src/test/resources/onnx/) imported by norm4j give PyTorch's outputs to 1e-5 relative.
 */
class PyTorchOnnxTest {
    static Path resource(String name) throws URISyntaxException {
        return Path.of(PyTorchOnnxTest.class.getResource("/onnx/" + name).toURI());
    }

    static Map<String, SafeTensors.Entry> io(String name) throws Exception {
        return SafeTensors.read(resource(name));
    }

    /** The d2l LeNet-BN with its four BatchNormalization nodes: the d2l layers, in order, with PyTorch's outputs. */
    @Test
    void lenetBn() throws Exception {
        OnnxImport.Imported imp = OnnxImport.load(resource("lenet_bn.onnx"));
        assertArrayEquals(new int[] {-1, 1, 28, 28}, imp.inputShape());
        assertEquals("pytorch 1.13.0", imp.producer());
        assertEquals(15, imp.opset());
        assertEquals(List.of("Conv2d", "BatchNorm", "Sigmoid", "AvgPool2d", "Conv2d", "BatchNorm", "Sigmoid", "AvgPool2d", "Flatten",
                "Linear", "BatchNorm", "Sigmoid", "Linear", "BatchNorm", "Sigmoid", "Linear"), kinds(imp.model()));
        // the same network as norm4j's LeNet-BN: its state loads strictly into LeNet.build
        Sequential lenet = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        StateDict.load(lenet, StateDict.entries(imp.model()));
        Map<String, SafeTensors.Entry> io = io("lenet_bn_io.safetensors");
        float[] x = io.get("input").floats();
        float[] want = io.get("logits").floats();
        OnnxTesting.assertRowsClose("PyTorch LeNet-BN", OnnxTesting.norm4j(imp.model(), x, 8, 1, 28, 28), want, 10, 1e-5);
        lenet.eval();
        OnnxTesting.assertRowsClose("PyTorch LeNet-BN in LeNet.build", OnnxTesting.norm4j(lenet, x, 8, 1, 28, 28), want, 10, 1e-5);
    }

    /** PyTorch's default export (TrainingMode.EVAL) folds the BNs after the convolutions itself. */
    @Test
    void lenetBnFoldedByPyTorch() throws Exception {
        Sequential net = OnnxImport.read(resource("lenet_bn_eval.onnx"));
        assertEquals(List.of("Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten", "Linear", "BatchNorm", "Sigmoid",
                "Linear", "BatchNorm", "Sigmoid", "Linear"), kinds(net));
        Map<String, SafeTensors.Entry> io = io("lenet_bn_io.safetensors");
        OnnxTesting.assertRowsClose("PyTorch LeNet-BN (EVAL export)", OnnxTesting.norm4j(net, io.get("input").floats(), 8, 1, 28, 28),
                io.get("logits").floats(), 10, 1e-5);
    }

    /** Pad + AveragePool, Constant + Reshape, MatMul + Add, MatMul alone, MaxPool, Relu, Tanh, Softmax as PyTorch writes them. */
    @Test
    void zoo() throws Exception {
        Sequential net = OnnxImport.read(resource("zoo.onnx"));
        assertEquals(List.of("Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Tanh", "Flatten", "Linear", "Sigmoid", "Linear", "Softmax"), kinds(net));
        assertEquals("AvgPool2d(kernel=3, stride=1, padding=1)", net.get(3).describe());
        Map<String, SafeTensors.Entry> io = io("zoo_io.safetensors");
        OnnxTesting.assertRowsClose("PyTorch zoo", OnnxTesting.norm4j(net, io.get("input").floats(), 4, 1, 16, 16), io.get("probs").floats(), 5, 1e-5);
    }

    static List<String> kinds(Sequential net) {
        List<String> k = new ArrayList<>();
        for (Module m : net.layers()) k.add(m.getClass().getSimpleName());
        return k;
    }
}
