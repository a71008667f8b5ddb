package org.norm4j.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.norm4j.io.AtomicFile;
import org.norm4j.kernels.Activation;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Dropout;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.MaxPool2d;
import org.norm4j.nn.Module;
import org.norm4j.nn.Pool2d;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Softmax;
import org.norm4j.nn.Tanh;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.ops.Convolution;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Dim;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.TensorProto;
import org.norm4j.onnx.OnnxProto.ValueInfo;

/**
 * Writes an inference-mode {@link Sequential} as an ONNX model (opset {@value #OPSET}, IR version
 * {@value #IR_VERSION}), one node per layer:
 * <pre>
 *   Conv2d      → Conv (kernel_shape, strides, pads, dilations, group; bias when the layer has one)
 *   Linear      → Gemm (transB = 1: the weight stays [out, in] as norm4j and PyTorch keep it)
 *   BatchNorm   → BatchNormalization (inference form: X, scale, B, input_mean, input_var; epsilon)
 *                 with input_var = the variance the stored statistic stands for (var, Lasagne's
 *                 inv_std or DL4J's log10 std converted), scale = 1 without gamma, B = 0 without
 *                 beta; a fused activation becomes the next node
 *   ReLU, Sigmoid, Tanh → Relu, Sigmoid, Tanh;   Softmax → Softmax (axis = -1)
 *   MaxPool2d   → MaxPool;  AvgPool2d → AveragePool (count_include_pad = 1, as norm4j and PyTorch)
 *   Flatten     → Flatten (axis = 1);   Dropout → nothing (identity at inference)
 * </pre>
 * Nested Sequentials are opened up. The graph input is "input" with a symbolic batch dimension
 * "N" and the other dimensions fixed; the output is "output"; every intermediate value has its
 * shape in value_info. Initializers are named by the PyTorch state-dict keys ("0.weight",
 * "1.running_mean", …). The whole file is built in memory first and written atomically, so a
 * model that cannot be exported, or a failed write, leaves an existing file as it was.
 */
public final class OnnxExport {
    /** Opset 15: BatchNormalization-15, Softmax-13 (single axis), Gemm-13; ONNX Runtime ≥ 1.10 runs it. */
    public static final int OPSET = 15;
    /** The IR version that goes with opset 15 (ONNX 1.10). */
    public static final int IR_VERSION = 8;
    static final String PRODUCER = "norm4j";
    static final String BATCH = "N";

    private OnnxExport() {}

    /**
     * Exports {@code model} for inputs of {@code inputShape} (e.g. {@code {1, 1, 28, 28}}); the
     * first dimension is written as the symbolic batch "N".
     *
     * @throws IllegalArgumentException naming the layer, when a layer has no ONNX counterpart here,
     *                                  does not fit the shape, or is in a state that ONNX cannot
     *                                  express (a BatchNorm normalizing with batch statistics)
     * @throws IOException              when writing fails; the target is then as it was
     */
    public static void write(Sequential model, int[] inputShape, Path file) throws IOException {
        byte[] bytes = encode(model, inputShape);
        writeAtomically(file, bytes, -1);
    }

    /** The model's ONNX bytes (what {@link #write} puts in the file). */
    public static byte[] encode(Sequential model, int[] inputShape) {
        return OnnxProto.encode(build(model, inputShape));
    }

    /** Writes bytes through AtomicFile; {@code failAfter ≥ 0} throws after that many bytes (tests: a write failing midway). */
    static void writeAtomically(Path file, byte[] bytes, int failAfter) throws IOException {
        AtomicFile.write(file, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, failAfter >= 0 ? Math.min(failAfter, bytes.length) : bytes.length);
            while (b.hasRemaining()) ch.write(b);
            if (failAfter >= 0) throw new IOException("simulated failure after " + failAfter + " of " + bytes.length + " bytes");
        });
    }

    static OnnxProto.Model build(Sequential model, int[] inputShape) {
        if (inputShape == null || inputShape.length < 2) {
            throw new IllegalArgumentException("ONNX export: input shape must have a batch dimension and at least one more, got "
                    + Arrays.toString(inputShape));
        }
        for (int d : inputShape) {
            if (d < 1) throw new IllegalArgumentException("ONNX export: input shape " + Arrays.toString(inputShape) + " has a dimension < 1");
        }
        Builder b = new Builder(inputShape);
        List<Module> layers = model.flattenedLayers();
        for (int i = 0; i < layers.size(); i++) b.layer(i, layers.get(i));
        return b.finish();
    }

    /** Kernel, stride and padding of a pooling layer. */
    static int[] poolGeometry(Module pool) {
        Pool2d p = (Pool2d) pool;
        return new int[] {p.kernel(), p.stride(), p.padding()};
    }

    /** The graph under construction: nodes, initializers, the current value and its shape. */
    private static final class Builder {
        final List<Node> nodes = new ArrayList<>();
        final List<TensorProto> inits = new ArrayList<>();
        final List<ValueInfo> info = new ArrayList<>();
        final int[] inputShape;
        String current = "input";
        int[] shape;

        Builder(int[] inputShape) {
            this.inputShape = inputShape.clone();
            this.shape = inputShape.clone();
        }

        void layer(int i, Module m) {
            String who = "ONNX export: layer " + i + " (" + m.describe() + ")";
            if (m instanceof Conv2d c) conv(i, c, who);
            else if (m instanceof Linear l) gemm(i, l, who);
            else if (m instanceof BatchNorm bn) batchNorm(i, bn, who);
            else if (m instanceof ReLU) simple(i, "Relu");
            else if (m instanceof Sigmoid) simple(i, "Sigmoid");
            else if (m instanceof Tanh) simple(i, "Tanh");
            else if (m instanceof Softmax) simple(i, "Softmax", OnnxProto.intAttr("axis", -1));
            else if (m instanceof MaxPool2d || m instanceof AvgPool2d) pool(i, m, who);
            else if (m instanceof Flatten) flatten(i, who);
            else if (m instanceof Dropout d) {
                if (d.isTraining()) throw new IllegalArgumentException(who + " is in training mode; call eval() before exporting");
                // identity at inference: no node
            }
            else {
                throw new IllegalArgumentException(who + " has no ONNX counterpart here; exportable layers: Conv2d, Linear, BatchNorm, "
                        + "ReLU, Sigmoid, Tanh, Softmax, MaxPool2d, AvgPool2d, Flatten, Dropout");
            }
        }

        private String next(int i, String op) {
            return i + "." + op;
        }

        private void emit(int i, String op, List<String> extraInputs, int[] outShape, Attribute... attrs) {
            String out = i + ":" + op;
            List<String> in = new ArrayList<>();
            in.add(current);
            in.addAll(extraInputs);
            nodes.add(OnnxProto.node(next(i, op), op, in, List.of(out), attrs));
            info.add(valueInfo(out, outShape));
            current = out;
            shape = outShape;
        }

        private void simple(int i, String op, Attribute... attrs) {
            emit(i, op, List.of(), shape, attrs);
        }

        private String init(String name, int[] dims, float[] values) {
            long[] d = new long[dims.length];
            for (int k = 0; k < dims.length; k++) d[k] = dims[k];
            inits.add(OnnxProto.floatTensor(name, d, values));
            return name;
        }

        private void conv(int i, Conv2d c, String who) {
            int[] ws = c.weight().shape();
            Convolution.Geometry g = c.geometry();
            int cin = ws[1] * g.groups(), kH = ws[2], kW = ws[3];
            if (shape.length != 4 || shape[1] != cin) {
                throw new IllegalArgumentException(who + ": expects [N, " + cin + ", H, W], gets " + Arrays.toString(shape));
            }
            int outH = outSize(shape[2], kH, g.strideH(), g.padH(), g.dilH()), outW = outSize(shape[3], kW, g.strideW(), g.padW(), g.dilW());
            if (outH < 1 || outW < 1) throw new IllegalArgumentException(who + ": input " + Arrays.toString(shape) + " is smaller than the kernel");
            List<String> extra = new ArrayList<>();
            extra.add(init(i + ".weight", ws, c.weight().toArray()));
            if (c.bias() != null) extra.add(init(i + ".bias", c.bias().shape(), c.bias().toArray()));
            emit(i, "Conv", extra, new int[] {shape[0], ws[0], outH, outW},
                    OnnxProto.intsAttr("dilations", g.dilH(), g.dilW()),
                    OnnxProto.intAttr("group", g.groups()),
                    OnnxProto.intsAttr("kernel_shape", kH, kW),
                    OnnxProto.intsAttr("pads", g.padH(), g.padW(), g.padH(), g.padW()),
                    OnnxProto.intsAttr("strides", g.strideH(), g.strideW()));
        }

        private void gemm(int i, Linear l, String who) {
            if (shape.length != 2 || shape[1] != l.inFeatures()) {
                throw new IllegalArgumentException(who + ": expects [N, " + l.inFeatures() + "], gets " + Arrays.toString(shape)
                        + (shape.length != 2 ? " (add a Flatten before it)" : ""));
            }
            List<String> extra = new ArrayList<>();
            extra.add(init(i + ".weight", l.weight().shape(), l.weight().toArray()));
            if (l.bias() != null) extra.add(init(i + ".bias", l.bias().shape(), l.bias().toArray()));
            emit(i, "Gemm", extra, new int[] {shape[0], l.outFeatures()},
                    OnnxProto.floatAttr("alpha", 1f), OnnxProto.floatAttr("beta", 1f), OnnxProto.intAttr("transB", 1));
        }

        private void batchNorm(int i, BatchNorm bn, String who) {
            if (bn.runningMean() == null) {
                throw new IllegalArgumentException(who + " keeps no running statistics (trackRunningStats = false); ONNX's "
                        + "BatchNormalization needs them for inference");
            }
            if (!bn.effectiveUseAverages()) {
                throw new IllegalArgumentException(who + " normalizes with batch statistics (training mode or useAverages off); "
                        + "call eval() before exporting: ONNX inference uses the running statistics");
            }
            int axis = bn.axis() < 0 ? bn.axis() + shape.length : bn.axis();
            if (axis != 1) {
                throw new IllegalArgumentException(who + " normalizes axis " + bn.axis() + " of an input " + Arrays.toString(shape)
                        + "; ONNX's BatchNormalization normalizes axis 1 (channels first)");
            }
            int c = bn.numFeatures();
            if (shape.length < 2 || shape.length > 5 || shape[1] != c) {
                throw new IllegalArgumentException(who + ": expects " + c + " features at axis 1, gets " + Arrays.toString(shape));
            }
            float[] scale = new float[c], beta = new float[c], var = new float[c];
            Arrays.fill(scale, 1f);
            if (bn.weight() != null) System.arraycopy(bn.weight().data(), 0, scale, 0, c);
            if (bn.bias() != null) System.arraycopy(bn.bias().data(), 0, beta, 0, c);
            double[] v = bn.populationVariance();
            for (int k = 0; k < c; k++) var[k] = (float) v[k];
            int[] dims = {c};
            List<String> extra = List.of(init(i + ".weight", dims, scale), init(i + ".bias", dims, beta),
                    init(i + ".running_mean", dims, bn.runningMean().toArray()), init(i + ".running_var", dims, var));
            emit(i, "BatchNormalization", extra, shape, OnnxProto.floatAttr("epsilon", (float) bn.eps()));
            Activation act = bn.activation();
            if (act != Activation.IDENTITY) {
                simple(i, switch (act) {
                    case RELU -> "Relu";
                    case SIGMOID -> "Sigmoid";
                    case TANH -> "Tanh";
                    case IDENTITY -> throw new AssertionError();
                });
            }
        }

        private void pool(int i, Module m, String who) {
            int[] kps = poolGeometry(m);
            int k = kps[0], s = kps[1], p = kps[2];
            if (shape.length != 4) throw new IllegalArgumentException(who + ": expects [N, C, H, W], gets " + Arrays.toString(shape));
            int outH = (shape[2] + 2 * p - k) / s + 1, outW = (shape[3] + 2 * p - k) / s + 1;
            if (shape[2] + 2 * p < k || shape[3] + 2 * p < k) {
                throw new IllegalArgumentException(who + ": input " + Arrays.toString(shape) + " is smaller than the kernel");
            }
            int[] out = {shape[0], shape[1], outH, outW};
            Attribute kernel = OnnxProto.intsAttr("kernel_shape", k, k), pads = OnnxProto.intsAttr("pads", p, p, p, p),
                    strides = OnnxProto.intsAttr("strides", s, s);
            if (m instanceof MaxPool2d) emit(i, "MaxPool", List.of(), out, kernel, pads, strides);
            else emit(i, "AveragePool", List.of(), out, OnnxProto.intAttr("count_include_pad", 1), kernel, pads, strides);
        }

        private void flatten(int i, String who) {
            long features = 1;
            for (int k = 1; k < shape.length; k++) features *= shape[k];
            if (features > Integer.MAX_VALUE) throw new IllegalArgumentException(who + ": " + Arrays.toString(shape) + " is too large");
            emit(i, "Flatten", List.of(), new int[] {shape[0], (int) features}, OnnxProto.intAttr("axis", 1));
        }

        OnnxProto.Model finish() {
            if (nodes.isEmpty()) throw new IllegalArgumentException("ONNX export: the model has no layer to export");
            // the last node's output is the graph output
            Node last = nodes.remove(nodes.size() - 1);
            nodes.add(new Node(last.name(), last.opType(), last.domain(), last.inputs(), List.of("output"), last.attributes(), 0));
            info.remove(info.size() - 1);
            OnnxProto.Graph g = new OnnxProto.Graph("norm4j", nodes, inits, List.of(valueInfo("input", inputShape)),
                    List.of(valueInfo("output", shape)), info);
            return new OnnxProto.Model(IR_VERSION, PRODUCER, org.norm4j.onnx.OnnxExport.version(), g,
                    List.of(new OnnxProto.OpsetId("", OPSET)));
        }

        private static ValueInfo valueInfo(String name, int[] shape) {
            List<Dim> dims = new ArrayList<>();
            dims.add(Dim.symbolic(BATCH));
            for (int k = 1; k < shape.length; k++) dims.add(Dim.of(shape[k]));
            return new ValueInfo(name, OnnxProto.FLOAT, dims, 0);
        }
    }

    static int outSize(int in, int k, int stride, int pad, int dil) {
        long eff = (long) dil * (k - 1) + 1;
        long span = in + 2L * pad - eff;
        return span < 0 ? 0 : (int) (span / stride + 1);
    }

    static String version() {
        String v = OnnxExport.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
