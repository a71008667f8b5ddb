package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Linear;
import org.norm4j.nn.MaxPool2d;
import org.norm4j.nn.Module;
import org.norm4j.nn.ReLU;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.Softmax;
import org.norm4j.nn.Tanh;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.Convolution;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.TensorProto;
import org.norm4j.onnx.OnnxProto.ValueInfo;
import org.norm4j.tensor.Rng;

/**
 * Reads an ONNX model whose graph is a chain (each node consumes the previous node's output plus
 * constants) into an inference-mode {@link Sequential}:
 * <pre>
 *   Conv (2-D; symmetric pads; auto_pad NOTSET or VALID)            → Conv2d
 *   Gemm (transA = 0, transB 0 or 1, alpha = beta = 1)              → Linear
 *   MatMul with a constant [K, M], optionally + Add of a bias [M]  → Linear
 *   BatchNormalization (inference, training_mode = 0)               → BatchNorm(PYTORCH, C), eps from the file, eval()
 *   Relu, Sigmoid, Tanh                                              → ReLU, Sigmoid, Tanh
 *   MaxPool, AveragePool (square kernel, equal strides, equal pads)  → MaxPool2d, AvgPool2d
 *   Flatten (axis 1), Reshape to [N, -1] (shape from an initializer or Constant) → Flatten
 *   Softmax over the last axis                                       → Softmax
 *   Identity, Constant                                                → nothing (values pass through)
 * </pre>
 * Anything else, or an attribute value that these modules cannot reproduce exactly, is an
 * {@link UnsupportedOnnxException} naming the operator, the attribute and the node; a file that
 * breaks the protobuf format or whose weights do not fit the shapes is an
 * {@link OnnxFormatException} naming the file and byte offset. No answer is ever approximate: a
 * model is either reproduced exactly (up to float rounding) or refused.
 *
 * <p>Opsets 9 to 22 of the default domain are read; the semantics that changed between them
 * (Softmax before 13 coerces to 2-D) are followed.
 */
public final class OnnxImport {
    static final int MIN_OPSET = 9;
    static final int MAX_OPSET = 22;
    static final String SUPPORTED = "Conv, Gemm, MatMul(+Add), BatchNormalization, Relu, Sigmoid, Tanh, MaxPool, AveragePool, "
            + "Flatten, Reshape, Softmax, Identity, Constant";

    private OnnxImport() {}

    /**
     * What was imported: the network (in eval mode), its input's shape (-1 for a symbolic or
     * unknown dimension, normally the batch), the names of the graph's input and output, the
     * producer ("pytorch 1.13.0") and the default-domain opset.
     */
    public record Imported(Sequential model, int[] inputShape, String inputName, String outputName, String producer, long opset) {}

    /** The network of an ONNX file, in eval mode. */
    public static Sequential read(Path file) throws IOException {
        return load(file).model();
    }

    public static Imported load(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new OnnxFormatException(file, 0, "file of " + size + " bytes is larger than protobuf's 2 GiB limit "
                    + "(models with external data are not supported)");
        }
        return fromBytes(Files.readAllBytes(file), file);
    }

    /** Imports a model already in memory; {@code file} only names it in messages. */
    static Imported fromBytes(byte[] bytes, Path file) throws IOException {
        OnnxProto.Model m = OnnxProto.decodeModel(bytes, file);
        return new Converter(m, file).run();
    }

    /** One import: walks the chain, tracking the current value and its shape. */
    private static final class Converter {
        final OnnxProto.Model model;
        final OnnxProto.Graph graph;
        final Path file;
        final Map<String, TensorProto> constants = new HashMap<>();
        final Set<String> produced = new HashSet<>();
        final Map<String, Integer> uses = new HashMap<>();
        final List<Module> layers = new ArrayList<>();
        long opset;
        String current;
        /** The current value's shape; index 0 is the batch (-1 when symbolic). */
        long[] shape;
        /** Zero padding {padH, padW} of a Pad node that the next Conv or AveragePool takes over, or null. */
        long[] pendingPad;

        Converter(OnnxProto.Model model, Path file) {
            this.model = model;
            this.graph = model.graph();
            this.file = file;
        }

        Imported run() throws IOException {
            opset = defaultOpset();
            for (TensorProto t : graph.initializers()) {
                if (constants.put(t.name(), t) != null) throw format(t.offset(), "two initializers are named " + OnnxProto.quote(t.name()));
            }
            ValueInfo input = theInput();
            if (graph.outputs().size() != 1) {
                throw unsupported(null, null, null, "the graph has " + graph.outputs().size() + " outputs; norm4j imports chains with one output");
            }
            ValueInfo output = graph.outputs().get(0);
            for (Node n : graph.nodes()) for (String in : n.inputs()) uses.merge(in, 1, Integer::sum);
            uses.merge(output.name(), 1, Integer::sum);
            current = input.name();
            produced.add(current);
            List<Node> nodes = graph.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                Node n = nodes.get(i);
                if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
                    throw unsupported(n, null, "operator " + n.domain() + ":" + n.opType() + " (" + where(n) + ") is outside the default "
                            + "ONNX domain; norm4j imports " + SUPPORTED);
                }
                for (String out : n.outputs()) {
                    if (!out.isEmpty() && (produced.contains(out) || constants.containsKey(out))) {
                        throw format(n.offset(), where(n) + " writes " + OnnxProto.quote(out) + ", which already has a value");
                    }
                }
                i += convert(n, i + 1 < nodes.size() ? nodes.get(i + 1) : null);
            }
            if (pendingPad != null) {
                throw unsupported("Pad", null, null, "the graph ends with a Pad; norm4j imports zero padding only when a Conv or AveragePool follows");
            }
            if (!current.equals(output.name())) {
                throw unsupported(null, null, null, "the graph output " + OnnxProto.quote(output.name()) + " is not the end of the chain ("
                        + OnnxProto.quote(current) + "); norm4j imports a chain of layers from the input to the output");
            }
            checkOutputShape(output);
            Sequential seq = new Sequential(layers);
            seq.eval();
            int[] in = new int[input.dims().size()];
            for (int k = 0; k < in.length; k++) in[k] = (int) Math.min(input.dims().get(k).value(), Integer.MAX_VALUE);
            String producer = (model.producerName() + " " + model.producerVersion()).trim();
            return new Imported(seq, in, input.name(), output.name(), producer, opset);
        }

        private long defaultOpset() throws IOException {
            Long v = null;
            for (OnnxProto.OpsetId o : model.opsets()) {
                if (o.domain().isEmpty() || o.domain().equals("ai.onnx")) v = o.version();
            }
            if (v == null) throw format(0, "the model imports no opset of the default ONNX domain (ModelProto.opset_import)");
            if (v < MIN_OPSET || v > MAX_OPSET) {
                throw unsupported(null, null, null, "opset " + v + " of the default domain; norm4j reads opsets " + MIN_OPSET + " to " + MAX_OPSET);
            }
            return v;
        }

        private ValueInfo theInput() throws IOException {
            List<ValueInfo> real = new ArrayList<>();
            for (ValueInfo v : graph.inputs()) if (!constants.containsKey(v.name())) real.add(v);
            if (real.size() != 1) {
                throw unsupported(null, null, null, "the graph has " + real.size() + " inputs besides its initializers; norm4j imports "
                        + "chains with one input");
            }
            ValueInfo in = real.get(0);
            if (in.elemType() != OnnxProto.FLOAT) {
                throw unsupported(null, null, null, "the graph input " + OnnxProto.quote(in.name()) + " is "
                        + (in.elemType() < 0 ? "not a tensor" : "of type " + OnnxProto.dataTypeName(in.elemType())) + "; norm4j imports FLOAT inputs");
            }
            if (in.dims() == null || in.dims().size() < 2) {
                throw unsupported(null, null, null, "the graph input " + OnnxProto.quote(in.name()) + " has "
                        + (in.dims() == null ? "no shape" : "rank " + in.dims().size()) + "; norm4j needs [N, ...] with the non-batch dimensions known");
            }
            shape = new long[in.dims().size()];
            shape[0] = in.dims().get(0).value() >= 1 ? in.dims().get(0).value() : -1;
            for (int k = 1; k < shape.length; k++) {
                long d = in.dims().get(k).value();
                if (d < 1 || d > Integer.MAX_VALUE) {
                    throw unsupported(null, null, null, "dimension " + k + " of the graph input " + OnnxProto.quote(in.name()) + " is "
                            + in.dims().get(k) + "; norm4j needs every dimension but the batch fixed and ≥ 1");
                }
                shape[k] = d;
            }
            checkSize(shape, in.offset(), "the graph input");
            return in;
        }

        // ---- one node ---------------------------------------------------------------------------

        /** Converts one node; returns how many following nodes it consumed as well (MatMul + Add). */
        private int convert(Node n, Node next) throws IOException {
            switch (n.opType()) {
                case "Constant" -> { constant(n); return 0; }
                case "Identity" -> { identity(n); return 0; }
                default -> { }
            }
            switch (n.opType()) {
                case "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "MaxPool", "AveragePool", "Flatten",
                        "Reshape", "Softmax", "Pad" -> { }
                case "Add" -> throw unsupported(n, null, "operator Add (" + where(n) + ") is imported only as the bias right after a "
                        + "MatMul; norm4j imports " + SUPPORTED);
                default -> throw unsupported(n, null, "operator " + n.opType() + " (" + where(n) + ") is not supported; norm4j imports "
                        + SUPPORTED);
            }
            dataInput(n);
            if (pendingPad != null && !n.opType().equals("Conv") && !n.opType().equals("AveragePool")) {
                throw unsupported(n, null, "a Pad with zeros before " + where(n) + "; norm4j imports zero padding only when a Conv or "
                        + "AveragePool follows, which takes it as its own pads");
            }
            int consumed = 0;
            switch (n.opType()) {
                case "Pad" -> pad(n);
                case "Conv" -> conv(n);
                case "Gemm" -> gemm(n);
                case "MatMul" -> consumed = matMul(n, next);
                case "BatchNormalization" -> batchNorm(n);
                case "Relu" -> activation(n, new ReLU());
                case "Sigmoid" -> activation(n, new Sigmoid());
                case "Tanh" -> activation(n, new Tanh());
                case "MaxPool", "AveragePool" -> pool(n);
                case "Flatten" -> flatten(n);
                case "Reshape" -> reshape(n);
                case "Softmax" -> softmax(n);
                default -> throw new AssertionError(n.opType());
            }
            Node last = consumed == 0 ? n : next;
            checkExtraOutputs(n);
            current = last.outputs().get(0);
            produced.add(current);
            return consumed;
        }

        /** The node's data input must be the chain's current value. */
        private void dataInput(Node n) throws IOException {
            if (n.inputs().isEmpty() || n.inputs().get(0).isEmpty()) throw format(n.offset(), where(n) + " has no data input");
            if (n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) throw format(n.offset(), where(n) + " has no output");
            String x = n.inputs().get(0);
            requireCurrent(n, x);
            for (int k = 1; k < n.inputs().size(); k++) {
                String in = n.inputs().get(k);
                if (!in.isEmpty() && !constants.containsKey(in)) {
                    if (produced.contains(in)) {
                        throw unsupported(n, null, where(n) + " reads " + OnnxProto.quote(in) + " as input " + k + ", a computed value: norm4j "
                                + "imports layers whose weights are initializers or Constants");
                    }
                    throw format(n.offset(), where(n) + " reads " + OnnxProto.quote(in) + ", which no initializer or earlier node provides");
                }
            }
        }

        private void requireCurrent(Node n, String x) throws IOException {
            if (x.equals(current)) return;
            if (produced.contains(x)) {
                throw unsupported(n, null, "the graph is not a chain: " + where(n) + " reads " + OnnxProto.quote(x)
                        + ", not the output of the layer before it (" + OnnxProto.quote(current) + ")");
            }
            if (constants.containsKey(x)) {
                throw unsupported(n, null, where(n) + " computes on the constant " + OnnxProto.quote(x) + ", not on the chain's value");
            }
            throw format(n.offset(), where(n) + " reads " + OnnxProto.quote(x) + ", which no earlier node produces");
        }

        /** Optional outputs (BatchNormalization's running stats, MaxPool's Indices) must be unused. */
        private void checkExtraOutputs(Node n) throws IOException {
            for (int k = 1; k < n.outputs().size(); k++) {
                String o = n.outputs().get(k);
                if (!o.isEmpty() && uses.getOrDefault(o, 0) > 0) {
                    throw unsupported(n, null, where(n) + ": its output " + k + " (" + OnnxProto.quote(o) + ") is used; norm4j imports "
                            + n.opType() + " with its first output only");
                }
            }
        }

        private void constant(Node n) throws IOException {
            if (n.outputs().size() != 1 || n.outputs().get(0).isEmpty()) throw format(n.offset(), where(n) + " must have one output");
            if (n.attributes().size() != 1) throw format(n.offset(), where(n) + " must have exactly one attribute");
            Attribute a = n.attributes().get(0);
            TensorProto t = switch (a.name()) {
                case "value" -> {
                    requireType(n, a, OnnxProto.ATTR_TENSOR);
                    if (a.t() == null) throw format(a.offset(), where(n) + ": attribute value holds no tensor");
                    yield a.t();
                }
                case "value_float" -> OnnxProto.floatTensorPacked("", new long[0], new float[] {typed(n, a, OnnxProto.ATTR_FLOAT).f()});
                case "value_floats" -> {
                    float[] v = typed(n, a, OnnxProto.ATTR_FLOATS).floats();
                    yield OnnxProto.floatTensorPacked("", new long[] {v.length}, v);
                }
                case "value_int" -> OnnxProto.int64Tensor("", new long[0], new long[] {typed(n, a, OnnxProto.ATTR_INT).i()});
                case "value_ints" -> {
                    long[] v = typed(n, a, OnnxProto.ATTR_INTS).ints();
                    yield OnnxProto.int64Tensor("", new long[] {v.length}, v);
                }
                default -> throw unsupported(n, a.name(), where(n) + ": attribute " + a.name() + " is not supported");
            };
            if (t.external() || t.segmented()) throw unsupported(n, a.name(), where(n) + ": its tensor keeps its data externally or in segments");
            constants.put(n.outputs().get(0), t);
        }

        private void identity(Node n) throws IOException {
            if (n.inputs().size() != 1 || n.outputs().size() != 1 || n.outputs().get(0).isEmpty()) {
                throw format(n.offset(), where(n) + " must have one input and one output");
            }
            noAttributes(n);
            String in = n.inputs().get(0), out = n.outputs().get(0);
            if (constants.containsKey(in)) {
                constants.put(out, constants.get(in));
                return;
            }
            requireCurrent(n, in);
            current = out;
            produced.add(out);
        }

        private void conv(Node n) throws IOException {
            known(n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            float[] w = floats(n, 1, "W");
            long[] ws = dims(n, 1);
            if (ws.length != 4) throw unsupported(n, null, where(n) + ": a " + (ws.length - 2) + "-D convolution; norm4j imports 2-D (weight [M, C/group, kH, kW])");
            requireRank(n, 4);
            long group = intAttr(n, "group", 1);
            int m = (int) ws[0], kH = (int) ws[2], kW = (int) ws[3];
            if (group < 1 || group > shape[1] || m % group != 0 || ws[1] * group != shape[1] || m < 1 || kH < 1 || kW < 1) {
                throw format(n.offset(), where(n) + ": weight " + Arrays.toString(ws) + " with group " + group + " does not fit an input of "
                        + shape[1] + " channels " + shapeStr());
            }
            long[] kernel = intsAttr(n, "kernel_shape", null);
            if (kernel != null && !Arrays.equals(kernel, new long[] {kH, kW})) {
                throw format(n.offset(), where(n) + ": kernel_shape " + Arrays.toString(kernel) + " disagrees with the weight " + Arrays.toString(ws));
            }
            long[] strides = pairAttr(n, "strides", 1), dil = pairAttr(n, "dilations", 1);
            long[] pads = padsAttr(n);
            String autoPad = autoPad(n, pads);
            pads = takePendingPad(pads);
            float[] b = null;
            if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
                b = floats(n, 2, "B");
                if (!Arrays.equals(dims(n, 2), new long[] {m})) throw format(n.offset(), where(n) + ": bias " + Arrays.toString(dims(n, 2)) + ", expected [" + m + "]");
            }
            if (n.inputs().size() > 3) throw format(n.offset(), where(n) + " has " + n.inputs().size() + " inputs; Conv takes at most 3");
            long[] pd = pads;
            long outH = OnnxExport.outSize((int) shape[2], kH, (int) strides[0], (int) pd[0], (int) dil[0]);
            long outW = OnnxExport.outSize((int) shape[3], kW, (int) strides[1], (int) pd[1], (int) dil[1]);
            if (outH < 1 || outW < 1) {
                throw format(n.offset(), where(n) + ": the kernel " + kH + "x" + kW + " (dilation " + Arrays.toString(dil) + ", pads "
                        + Arrays.toString(pads) + ", auto_pad " + autoPad + ") does not fit the input " + shapeStr());
            }
            boolean hasBias = b != null;
            Conv2d c = build(n, () -> new Conv2d((int) shape[1], m, kH, kW, new Convolution.Geometry((int) strides[0], (int) strides[1],
                    (int) pd[0], (int) pd[1], (int) dil[0], (int) dil[1], (int) group), hasBias, new Rng(0)));
            c.weight().copyFrom(w);
            if (hasBias) c.bias().copyFrom(b);
            add(c, new long[] {shape[0], m, outH, outW});
        }

        private void gemm(Node n) throws IOException {
            known(n, "alpha", "beta", "transA", "transB");
            if (intAttr(n, "transA", 0) != 0) throw unsupported(n, "transA", where(n) + ": attribute transA = 1 is not supported (the input must be [N, K])");
            long transB = intAttr(n, "transB", 0);
            if (transB != 0 && transB != 1) throw format(n.offset(), where(n) + ": transB = " + transB + ", expected 0 or 1");
            if (floatAttr(n, "alpha", 1f) != 1f) throw unsupported(n, "alpha", where(n) + ": attribute alpha = " + floatAttr(n, "alpha", 1f) + " is not supported (only 1)");
            boolean hasC = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty();
            if (hasC && floatAttr(n, "beta", 1f) != 1f) throw unsupported(n, "beta", where(n) + ": attribute beta = " + floatAttr(n, "beta", 1f) + " is not supported (only 1)");
            if (n.inputs().size() > 3) throw format(n.offset(), where(n) + " has " + n.inputs().size() + " inputs; Gemm takes at most 3");
            if (n.inputs().size() < 2) throw format(n.offset(), where(n) + " has no B input");
            requireRank(n, 2);
            float[] w = floats(n, 1, "B");
            long[] ws = dims(n, 1);
            if (ws.length != 2) throw format(n.offset(), where(n) + ": B has shape " + Arrays.toString(ws) + ", expected rank 2");
            int k = (int) (transB == 1 ? ws[1] : ws[0]), m = (int) (transB == 1 ? ws[0] : ws[1]);
            if (k != shape[1] || m < 1) {
                throw format(n.offset(), where(n) + ": B " + Arrays.toString(ws) + (transB == 1 ? " (transposed)" : "") + " does not fit an input "
                        + shapeStr() + " (" + shape[1] + " features)");
            }
            float[] bias = hasC ? biasOf(n, 2, m) : null;
            linear(n, k, m, transB == 1 ? w : transpose(w, k, m), bias);
        }

        /** MatMul(x, W[K, M]), and the Add of a bias right after it when there is one: one Linear. */
        private int matMul(Node n, Node next) throws IOException {
            noAttributes(n);
            if (n.inputs().size() != 2) throw format(n.offset(), where(n) + " must have 2 inputs");
            requireRank(n, 2);
            float[] w = floats(n, 1, "B");
            long[] ws = dims(n, 1);
            if (ws.length != 2 || ws[0] != shape[1] || ws[1] < 1) {
                throw unsupported(n, null, where(n) + ": B of shape " + Arrays.toString(ws) + " with an input " + shapeStr()
                        + "; norm4j imports MatMul of [N, K] by a constant [K, M]");
            }
            int k = (int) ws[0], m = (int) ws[1];
            String y = n.outputs().get(0);
            float[] bias = null;
            int consumed = 0;
            if (next != null && next.opType().equals("Add") && (next.domain().isEmpty() || next.domain().equals("ai.onnx"))
                    && next.inputs().size() == 2 && next.inputs().contains(y) && uses.getOrDefault(y, 0) == 1 && next.outputs().size() == 1) {
                noAttributes(next);
                int bi = next.inputs().get(0).equals(y) ? 1 : 0;
                String b = next.inputs().get(bi);
                if (constants.containsKey(b)) {
                    bias = biasOf(next, bi, m);
                    consumed = 1;
                }
            }
            linear(n, k, m, transpose(w, k, m), bias);
            return consumed;
        }

        private void linear(Node n, int k, int m, float[] wOutIn, float[] bias) throws IOException {
            Linear l = build(n, () -> new Linear(k, m, bias != null, new Rng(0)));
            l.weight().copyFrom(wOutIn);
            if (bias != null) l.bias().copyFrom(bias);
            add(l, new long[] {shape[0], m});
        }

        /** A bias for M outputs from a constant of shape [M], [1, M], [] or [1] (broadcast). */
        private float[] biasOf(Node n, int input, int m) throws IOException {
            float[] c = floats(n, input, "bias");
            long[] cs = dims(n, input);
            boolean row = (cs.length == 1 && cs[0] == m) || (cs.length == 2 && cs[0] == 1 && cs[1] == m);
            boolean scalar = c.length == 1 && cs.length <= 2;
            if (row) return c;
            if (scalar) {
                float[] b = new float[m];
                Arrays.fill(b, c[0]);
                return b;
            }
            throw unsupported(n, null, where(n) + ": bias of shape " + Arrays.toString(cs) + "; norm4j imports a bias of [" + m + "] or [1, " + m + "]");
        }

        private void batchNorm(Node n) throws IOException {
            known(n, "epsilon", "momentum", "training_mode", "spatial");
            if (intAttr(n, "training_mode", 0) != 0) {
                throw unsupported(n, "training_mode", where(n) + ": attribute training_mode = 1 (batch statistics) is not supported; "
                        + "export the model in eval mode");
            }
            if (intAttr(n, "spatial", 1) != 1) throw unsupported(n, "spatial", where(n) + ": attribute spatial = 0 is not supported");
            if (n.inputs().size() != 5) throw format(n.offset(), where(n) + " has " + n.inputs().size() + " inputs, expected 5 (X, scale, B, mean, var)");
            if (shape.length < 2 || shape.length > 5) {
                throw unsupported(n, null, where(n) + ": input of rank " + shape.length + "; norm4j's BatchNorm takes rank 2 to 5");
            }
            int c = (int) shape[1];
            float[][] v = new float[4][];
            String[] names = {"scale", "B", "input_mean", "input_var"};
            for (int k = 0; k < 4; k++) {
                v[k] = floats(n, k + 1, names[k]);
                if (!Arrays.equals(dims(n, k + 1), new long[] {c})) {
                    throw format(n.offset(), where(n) + ": " + names[k] + " has shape " + Arrays.toString(dims(n, k + 1)) + ", expected [" + c
                            + "] for an input " + shapeStr());
                }
            }
            float epsF = floatAttr(n, "epsilon", 1e-5f);
            if (!(epsF >= 0) || Float.isInfinite(epsF)) throw format(n.offset(), where(n) + ": epsilon = " + epsF + ", expected finite and ≥ 0");
            // the decimal the float stands for (1e-5f → 1e-5), i.e. the exporter's double before it was rounded
            double eps = Double.parseDouble(Float.toString(epsF));
            BatchNorm bn = build(n, () -> BatchNorm.builder(Convention.PYTORCH, c).eps(eps).axis(1).build());
            bn.weight().copyFrom(v[0]);
            bn.bias().copyFrom(v[1]);
            bn.runningMean().copyFrom(v[2]);
            bn.runningVar().copyFrom(v[3]);
            bn.eval();
            add(bn, shape);
        }

        private void activation(Node n, Module m) throws IOException {
            noAttributes(n);
            if (n.inputs().size() != 1) throw format(n.offset(), where(n) + " must have 1 input");
            add(m, shape);
        }

        private void pool(Node n) throws IOException {
            boolean max = n.opType().equals("MaxPool");
            if (max) known(n, "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
            else known(n, "auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides");
            if (n.inputs().size() != 1) throw format(n.offset(), where(n) + " must have 1 input");
            requireRank(n, 4);
            long[] kernel = intsAttr(n, "kernel_shape", null);
            if (kernel == null || kernel.length != 2) throw format(n.offset(), where(n) + ": kernel_shape must have 2 values, got " + Arrays.toString(kernel));
            if (kernel[0] != kernel[1]) throw unsupported(n, "kernel_shape", where(n) + ": kernel_shape " + Arrays.toString(kernel) + " is not square");
            long[] strides = pairAttr(n, "strides", 1), dil = pairAttr(n, "dilations", 1);
            if (strides[0] != strides[1]) throw unsupported(n, "strides", where(n) + ": strides " + Arrays.toString(strides) + " differ between H and W");
            if (dil[0] != 1 || dil[1] != 1) throw unsupported(n, "dilations", where(n) + ": dilations " + Arrays.toString(dil) + " (only 1 is supported)");
            long[] own = padsAttr(n);
            autoPad(n, own);
            if (!max && (own[0] > 0 || own[1] > 0) && intAttr(n, "count_include_pad", 0) == 0) {
                throw unsupported(n, "count_include_pad", where(n) + ": attribute count_include_pad = 0 with pads " + Arrays.toString(own) + " is not supported "
                        + "(norm4j's AvgPool2d counts the padding, as PyTorch's default)");
            }
            // a preceding Pad's zeros are real inputs to the window: the same as count_include_pad = 1 padding
            long[] pads = max ? own : takePendingPad(own);
            if (pads[0] != pads[1]) throw unsupported(n, "pads", where(n) + ": pads differ between H and W " + Arrays.toString(pads));
            long k = kernel[0], s = strides[0], p = pads[0];
            if (k < 1 || k > Integer.MAX_VALUE / 4) throw format(n.offset(), where(n) + ": kernel_shape " + Arrays.toString(kernel));
            if (p > k / 2) throw unsupported(n, "pads", where(n) + ": pads " + p + " larger than half the kernel " + k);
            long outH = (shape[2] + 2 * p - k), outW = (shape[3] + 2 * p - k);
            if (outH < 0 || outW < 0) throw format(n.offset(), where(n) + ": kernel " + k + " does not fit the input " + shapeStr());
            outH = outH / s + 1;
            outW = outW / s + 1;
            if (intAttr(n, "ceil_mode", 0) != 0) {
                long ceilH = ceilOut(shape[2], k, s, p), ceilW = ceilOut(shape[3], k, s, p);
                if (ceilH != outH || ceilW != outW) {
                    throw unsupported(n, "ceil_mode", where(n) + ": attribute ceil_mode = 1 changes the output size here ("
                            + ceilH + "x" + ceilW + " instead of " + outH + "x" + outW + "); norm4j pools with floor");
                }
            }
            Module pool = build(n, () -> max ? (Module) new MaxPool2d((int) k, (int) s, (int) p) : (Module) new AvgPool2d((int) k, (int) s, (int) p));
            add(pool, new long[] {shape[0], shape[1], outH, outW});
        }

        /** ONNX's ceil_mode output size: the last window must start inside the input or the left padding. */
        private static long ceilOut(long in, long k, long s, long p) {
            long out = (in + 2 * p - k + s - 1) / s + 1;
            if ((out - 1) * s >= in + p) out--;
            return out;
        }

        /**
         * Pad with zeros on H and W only, symmetric: PyTorch 1.13 writes AvgPool2d as Pad + AveragePool.
         * No padding at all passes through; otherwise the next Conv or AveragePool takes it over.
         */
        private void pad(Node n) throws IOException {
            known(n, "mode", "pads", "value");
            Attribute mode = n.attribute("mode");
            if (mode != null) {
                requireType(n, mode, OnnxProto.ATTR_STRING);
                String m = new String(mode.s(), java.nio.charset.StandardCharsets.UTF_8);
                if (!m.equals("constant")) throw unsupported(n, "mode", where(n) + ": attribute mode = " + m + " is not supported (only constant zeros)");
            }
            long[] pads;
            float value = floatAttr(n, "value", 0f);
            if (opset < 11) {
                pads = intsAttr(n, "pads", null);
                if (pads == null) throw format(n.offset(), where(n) + " has no pads attribute");
                if (n.inputs().size() != 1) throw format(n.offset(), where(n) + " must have 1 input before opset 11");
            } else {
                if (n.attribute("pads") != null || n.attribute("value") != null) {
                    throw format(n.offset(), where(n) + ": pads and value are inputs since opset 11, not attributes");
                }
                if (n.inputs().size() > 3 && !n.inputs().get(3).isEmpty()) throw unsupported(n, null, where(n) + ": the axes input is not supported");
                TensorProto t = constantInput(n, 1, "pads");
                if (t.dataType() != OnnxProto.INT64) throw format(n.offset(), where(n) + ": pads are " + OnnxProto.dataTypeName(t.dataType()) + ", expected INT64");
                pads = OnnxProto.int64Data(t, file);
                if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
                    float[] v = floats(n, 2, "constant_value");
                    if (v.length != 1) throw format(n.offset(), where(n) + ": constant_value has " + v.length + " values, expected 1");
                    value = v[0];
                }
            }
            int r = shape.length;
            if (pads.length != 2 * r) throw format(n.offset(), where(n) + ": " + pads.length + " pads for an input of rank " + r + " " + shapeStr());
            boolean none = true;
            for (long x : pads) none &= x == 0;
            if (none) return;
            if (value != 0f) throw unsupported(n, "value", where(n) + ": padding with " + value + " is not supported (only zeros)");
            boolean spatialOnly = r == 4 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0;
            if (!spatialOnly || pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0 || pads[2] > 1 << 20 || pads[3] > 1 << 20) {
                throw unsupported(n, "pads", where(n) + ": pads " + Arrays.toString(pads) + " on " + shapeStr() + "; norm4j imports zero "
                        + "padding of H and W, the same on both sides");
            }
            checkSize(new long[] {shape[0], shape[1], shape[2] + 2 * pads[2], shape[3] + 2 * pads[3]}, n.offset(), where(n) + ": the padded input");
            pendingPad = new long[] {pads[2], pads[3]};   // the shape stays: the next layer pads by itself
        }

        private long[] takePendingPad(long[] pads) {
            if (pendingPad == null) return pads;
            long[] sum = {pads[0] + pendingPad[0], pads[1] + pendingPad[1]};
            pendingPad = null;
            return sum;
        }

        private void flatten(Node n) throws IOException {
            known(n, "axis");
            if (n.inputs().size() != 1) throw format(n.offset(), where(n) + " must have 1 input");
            long axis = intAttr(n, "axis", 1);
            if (axis < 0) axis += shape.length;
            if (axis != 1) throw unsupported(n, "axis", where(n) + ": attribute axis = " + intAttr(n, "axis", 1) + " is not supported (only 1: [N, rest])");
            flattenLayer(n);
        }

        private void reshape(Node n) throws IOException {
            known(n, "allowzero");
            if (n.inputs().size() != 2) throw format(n.offset(), where(n) + " must have 2 inputs (data, shape)");
            TensorProto t = constantInput(n, 1, "shape");
            if (t.dataType() != OnnxProto.INT64) throw format(n.offset(), where(n) + ": the shape is " + OnnxProto.dataTypeName(t.dataType()) + ", expected INT64");
            if (t.dims().length != 1) throw format(n.offset(), where(n) + ": the shape has dims " + Arrays.toString(t.dims()) + ", expected 1-D");
            long[] target = OnnxProto.int64Data(t, file);
            long rest = 1;
            for (int k = 1; k < shape.length; k++) rest *= shape[k];
            boolean allowZero = intAttr(n, "allowzero", 0) != 0;
            boolean flattens = target.length == 2
                    && ((target[0] == 0 && !allowZero) || target[0] == -1 || (shape[0] > 0 && target[0] == shape[0]))
                    && (target[1] == rest || (target[1] == -1 && target[0] != -1))
                    && !(target[0] == -1 && target[1] != rest);
            if (!flattens) {
                throw unsupported(n, null, where(n) + ": reshape of " + shapeStr() + " to " + Arrays.toString(target) + "; norm4j imports "
                        + "Reshape only when it flattens to [N, -1] (here [N, " + rest + "])");
            }
            flattenLayer(n);
        }

        private void flattenLayer(Node n) throws IOException {
            long rest = 1;
            for (int k = 1; k < shape.length; k++) rest *= shape[k];
            add(new Flatten(), new long[] {shape[0], rest});
        }

        private void softmax(Node n) throws IOException {
            known(n, "axis");
            if (n.inputs().size() != 1) throw format(n.offset(), where(n) + " must have 1 input");
            long axis = intAttr(n, "axis", opset >= 13 ? -1 : 1);
            long a = axis < 0 ? axis + shape.length : axis;
            // before opset 13, Softmax flattens to [prod(dims before axis), prod(dims from axis)]: the last axis only when axis = rank − 1
            if (a != shape.length - 1) {
                throw unsupported(n, "axis", where(n) + ": attribute axis = " + axis + " on an input " + shapeStr()
                        + " is not the last axis (opset " + opset + "); norm4j's Softmax is over the last axis");
            }
            add(new Softmax(), shape);
        }

        // ---- helpers --------------------------------------------------------------------------------

        private void add(Module m, long[] outShape) throws IOException {
            layers.add(m);
            shape = outShape.clone();
            checkSize(shape, 0, "the output of layer " + (layers.size() - 1));
        }

        /** Every non-batch dimension ≥ 1 and the per-sample size within an int (what the modules can hold). */
        private void checkSize(long[] s, int offset, String what) throws IOException {
            long per = 1;
            for (int k = 1; k < s.length; k++) {
                if (s[k] < 1) throw format(offset, what + " has shape " + Arrays.toString(s));
                per *= s[k];
                if (per > Integer.MAX_VALUE) throw unsupported(null, null, null, what + " of shape " + Arrays.toString(s) + " has more than 2^31 values per sample");
            }
        }

        private interface Maker<M> {
            M make();
        }

        /** Builds a module; its own validation failing means the file's values are out of range. */
        private <M extends Module> M build(Node n, Maker<M> maker) throws IOException {
            try {
                return maker.make();
            } catch (IllegalArgumentException e) {
                throw format(n.offset(), where(n) + ": " + e.getMessage());
            }
        }

        private void requireRank(Node n, int rank) throws IOException {
            if (shape.length != rank) {
                throw unsupported(n, null, where(n) + ": an input of rank " + shape.length + " " + shapeStr() + "; norm4j imports "
                        + n.opType() + " on rank " + rank);
            }
        }

        private TensorProto constantInput(Node n, int k, String what) throws IOException {
            if (n.inputs().size() <= k || n.inputs().get(k).isEmpty()) throw format(n.offset(), where(n) + " has no " + what + " input");
            TensorProto t = constants.get(n.inputs().get(k));
            if (t == null) {
                throw format(n.offset(), where(n) + ": input " + what + " (" + OnnxProto.quote(n.inputs().get(k)) + ") is not an initializer or Constant");
            }
            if (t.external() || t.segmented()) {
                throw unsupported(n, null, where(n) + ": tensor " + OnnxProto.quote(t.name()) + " keeps its data externally or in segments");
            }
            return t;
        }

        private float[] floats(Node n, int k, String what) throws IOException {
            TensorProto t = constantInput(n, k, what);
            if (t.dataType() != OnnxProto.FLOAT) {
                throw unsupported(n, null, where(n) + ": input " + what + " (" + OnnxProto.quote(n.inputs().get(k)) + ") is "
                        + OnnxProto.dataTypeName(t.dataType()) + "; norm4j imports FLOAT weights");
            }
            return OnnxProto.floatData(t, file);
        }

        private long[] dims(Node n, int k) {
            return constants.get(n.inputs().get(k)).dims();
        }

        private static float[] transpose(float[] w, int k, int m) {
            float[] t = new float[w.length];
            for (int r = 0; r < k; r++) for (int c = 0; c < m; c++) t[c * k + r] = w[r * m + c];
            return t;
        }

        private void known(Node n, String... names) throws IOException {
            List<String> ok = List.of(names);
            for (Attribute a : n.attributes()) {
                if (!ok.contains(a.name())) {
                    throw unsupported(n, a.name(), where(n) + ": attribute " + a.name() + " is not supported (known: " + String.join(", ", ok) + ")");
                }
            }
        }

        private void noAttributes(Node n) throws IOException {
            if (!n.attributes().isEmpty()) {
                Attribute a = n.attributes().get(0);
                throw unsupported(n, a.name(), where(n) + ": attribute " + a.name() + " is not supported");
            }
        }

        private void requireType(Node n, Attribute a, int type) throws IOException {
            if (a.type() != type) {
                throw format(a.offset(), where(n) + ": attribute " + a.name() + " is " + OnnxProto.attributeTypeName(a.type()) + ", expected "
                        + OnnxProto.attributeTypeName(type));
            }
        }

        private Attribute typed(Node n, Attribute a, int type) throws IOException {
            requireType(n, a, type);
            return a;
        }

        private long intAttr(Node n, String name, long dflt) throws IOException {
            Attribute a = n.attribute(name);
            return a == null ? dflt : typed(n, a, OnnxProto.ATTR_INT).i();
        }

        private float floatAttr(Node n, String name, float dflt) throws IOException {
            Attribute a = n.attribute(name);
            return a == null ? dflt : typed(n, a, OnnxProto.ATTR_FLOAT).f();
        }

        private long[] intsAttr(Node n, String name, long[] dflt) throws IOException {
            Attribute a = n.attribute(name);
            return a == null ? dflt : typed(n, a, OnnxProto.ATTR_INTS).ints();
        }

        /** A two-value attribute (H, W), each in [1, 2^20]; defaults to {d, d}. */
        private long[] pairAttr(Node n, String name, long d) throws IOException {
            long[] v = intsAttr(n, name, new long[] {d, d});
            if (v.length != 2) throw format(n.offset(), where(n) + ": " + name + " must have 2 values, got " + Arrays.toString(v));
            for (long x : v) if (x < 1 || x > 1 << 20) throw format(n.offset(), where(n) + ": " + name + " " + Arrays.toString(v) + " out of range");
            return v;
        }

        /** pads [top, left, bottom, right] → {padH, padW}; asymmetric pads are unsupported. */
        private long[] padsAttr(Node n) throws IOException {
            long[] p = intsAttr(n, "pads", new long[4]);
            if (p.length != 4) throw format(n.offset(), where(n) + ": pads must have 4 values, got " + Arrays.toString(p));
            for (long x : p) if (x < 0 || x > 1 << 20) throw format(n.offset(), where(n) + ": pads " + Arrays.toString(p) + " out of range");
            if (p[0] != p[2] || p[1] != p[3]) {
                throw unsupported(n, "pads", where(n) + ": asymmetric pads " + Arrays.toString(p) + " [top, left, bottom, right] are not supported");
            }
            return new long[] {p[0], p[1]};
        }

        /** NOTSET, or VALID (= no padding); SAME_UPPER/SAME_LOWER are unsupported. */
        private String autoPad(Node n, long[] pads) throws IOException {
            Attribute a = n.attribute("auto_pad");
            if (a == null) return "NOTSET";
            requireType(n, a, OnnxProto.ATTR_STRING);
            String v = new String(a.s(), java.nio.charset.StandardCharsets.UTF_8);
            if (v.equals("NOTSET")) return v;
            if (v.equals("VALID") && pads[0] == 0 && pads[1] == 0) return v;
            throw unsupported(n, "auto_pad", where(n) + ": attribute auto_pad = " + v + " is not supported (only NOTSET, or VALID without pads)");
        }

        private void checkOutputShape(ValueInfo output) throws IOException {
            if (output.dims() == null) return;
            boolean ok = output.dims().size() == shape.length;
            for (int k = 1; ok && k < shape.length; k++) {
                long d = output.dims().get(k).value();
                ok = d < 0 || d == shape[k];
            }
            if (!ok) {
                throw format(output.offset(), "the graph output " + OnnxProto.quote(output.name()) + " is declared " + output.dims()
                        + " but the layers compute " + shapeStr());
            }
        }

        private String shapeStr() {
            StringBuilder sb = new StringBuilder("[");
            for (int k = 0; k < shape.length; k++) sb.append(k == 0 ? "" : ", ").append(k == 0 && shape[k] < 0 ? "N" : String.valueOf(shape[k]));
            return sb.append(']').toString();
        }

        private String where(Node n) {
            return n.opType() + " node " + OnnxProto.quote(n.name());
        }

        private OnnxFormatException format(long offset, String problem) {
            return new OnnxFormatException(file, offset, problem);
        }

        /** An unsupported node; the message gets the node's offset, as format errors have theirs. */
        private UnsupportedOnnxException unsupported(Node n, String attribute, String problem) {
            return new UnsupportedOnnxException(file, n.opType(), n.name(), attribute, problem + " (at byte " + n.offset() + ")");
        }

        private UnsupportedOnnxException unsupported(String op, String node, String attribute, String problem) {
            return new UnsupportedOnnxException(file, op, node, attribute, problem);
        }
    }
}
