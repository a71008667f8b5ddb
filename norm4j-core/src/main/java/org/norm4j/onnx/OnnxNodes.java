package org.norm4j.onnx;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.InstanceNorm;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.tensor.Tensor;

/**
 * {@link OnnxGraph}'s operators: for each node, its attributes read and checked once, when the
 * model is loaded, into a {@link Kernel} that computes the node's outputs from its inputs.
 *
 * <p>What a node may not be run with is refused, never approximated: an operator, attribute or
 * attribute value outside what is implemented is an {@link UnsupportedOnnxException} naming the
 * operator, the attribute and the node — at load time when the attributes decide it, at run time
 * when the input shapes or types do. Inputs that contradict the operator's definition (shapes that
 * do not fit) are an {@link IllegalArgumentException} naming the node.
 *
 * <p>The normalizations run through norm4j's own layers: BatchNormalization through
 * {@link BatchNorm} in {@link Convention#ONNX} (training_mode = 1 updates its running statistics
 * by the convention's rule), InstanceNormalization through {@link InstanceNorm}, and
 * LayerNormalization through {@link LayerNorm}. The rest is {@link OnnxOps}.
 */
final class OnnxNodes {
    private OnnxNodes() {}

    /** The operators of the default domain that run, and the opsets they are read in. */
    static final List<String> OPERATORS = List.of("Add", "AveragePool", "BatchNormalization", "Constant", "Conv", "ConvTranspose", "Flatten",
            "Gemm", "GlobalAveragePool", "Identity", "InstanceNormalization", "LayerNormalization", "LogSoftmax", "MatMul", "MaxPool",
            "MeanVarianceNormalization", "Mul", "Pad", "Relu", "Reshape", "Sigmoid", "Softmax", "Tanh");

    /** A node's computation: its inputs (null where an optional input is absent) to its outputs. */
    interface Kernel {
        OnnxTensor[] run(OnnxTensor[] in) throws UnsupportedOnnxException;
    }

    /** One node being compiled: its attributes, the opset, and messages that name it. */
    static final class Ctx {
        final Node node;
        final long opset;
        final Path file;

        Ctx(Node node, long opset, Path file) {
            this.node = node;
            this.opset = opset;
            this.file = file;
        }

        String where() {
            return node.opType() + " node " + OnnxProto.quote(node.name());
        }

        UnsupportedOnnxException unsupported(String attribute, String problem) {
            return new UnsupportedOnnxException(file, node.opType(), node.name(), attribute, where() + ": " + problem + " (at byte " + node.offset() + ")");
        }

        IllegalArgumentException invalid(String problem) {
            return new IllegalArgumentException(file + ": " + where() + ": " + problem);
        }

        OnnxFormatException format(String problem) {
            return new OnnxFormatException(file, node.offset(), where() + ": " + problem);
        }

        /** Every attribute is one of {@code names}; any other is refused: it could change the result. */
        void known(String... names) throws UnsupportedOnnxException {
            List<String> ok = List.of(names);
            for (Attribute a : node.attributes()) {
                if (!ok.contains(a.name())) {
                    throw unsupported(a.name(), "attribute " + a.name() + " is not supported (opset " + opset + "; known: "
                            + (ok.isEmpty() ? "none" : String.join(", ", ok)) + ")");
                }
            }
        }

        private Attribute typed(String name, int type) throws OnnxFormatException {
            Attribute a = node.attribute(name);
            if (a != null && a.type() != type) {
                throw format("attribute " + name + " is " + OnnxProto.attributeTypeName(a.type()) + ", expected " + OnnxProto.attributeTypeName(type));
            }
            return a;
        }

        long i(String name, long dflt) throws OnnxFormatException {
            Attribute a = typed(name, OnnxProto.ATTR_INT);
            return a == null ? dflt : a.i();
        }

        float f(String name, float dflt) throws OnnxFormatException {
            Attribute a = typed(name, OnnxProto.ATTR_FLOAT);
            return a == null ? dflt : a.f();
        }

        long[] ints(String name) throws OnnxFormatException {
            Attribute a = typed(name, OnnxProto.ATTR_INTS);
            return a == null ? null : a.ints();
        }

        String s(String name, String dflt) throws OnnxFormatException {
            Attribute a = typed(name, OnnxProto.ATTR_STRING);
            return a == null ? dflt : new String(a.s(), StandardCharsets.UTF_8);
        }

        /** A 0/1 attribute. */
        boolean flag(String name, boolean dflt) throws OnnxFormatException {
            long v = i(name, dflt ? 1 : 0);
            if (v != 0 && v != 1) throw format("attribute " + name + " = " + v + ", expected 0 or 1");
            return v == 1;
        }

        void inputs(OnnxTensor[] in, int min, int max) {
            int given = 0;
            for (int k = 0; k < in.length; k++) if (in[k] != null) given = k + 1;
            if (in.length < min || given > max) throw invalid("takes " + min + " to " + max + " inputs, got " + in.length);
            for (int k = 0; k < min; k++) if (in[k] == null) throw invalid("input " + k + " is required");
        }

        OnnxTensor floats(OnnxTensor t, String what) throws UnsupportedOnnxException {
            if (!t.isFloat()) throw unsupported(null, what + " is " + t.dataTypeName() + "; norm4j runs " + node.opType() + " on FLOAT only");
            return t;
        }

        int axis(long axis, int rank, boolean inclusiveEnd) {
            long a = axis < 0 ? axis + rank : axis;
            if (a < 0 || a > rank || (a == rank && !inclusiveEnd)) {
                throw invalid("axis " + axis + " is out of range for an input of rank " + rank);
            }
            return (int) a;
        }
    }

    static Kernel compile(Node n, long opset, Path file) throws OnnxFormatException, UnsupportedOnnxException {
        Ctx c = new Ctx(n, opset, file);
        return switch (n.opType()) {
            case "Add" -> binary(c, Double::sum, Long::sum);
            case "Mul" -> binary(c, (a, b) -> a * b, (a, b) -> a * b);
            case "Relu" -> unary(c, x -> x < 0 ? 0 : x, true);
            case "Sigmoid" -> unary(c, OnnxOps::sigmoid, false);
            case "Tanh" -> unary(c, Math::tanh, false);
            case "Identity" -> identity(c);
            case "MatMul" -> matMul(c);
            case "Gemm" -> gemm(c);
            case "Flatten" -> flatten(c);
            case "Reshape" -> reshape(c);
            case "Pad" -> pad(c);
            case "Softmax" -> softmax(c, false);
            case "LogSoftmax" -> softmax(c, true);
            case "Conv" -> conv(c);
            case "ConvTranspose" -> convTranspose(c);
            case "MaxPool", "AveragePool" -> pool(c);
            case "GlobalAveragePool" -> globalAveragePool(c);
            case "BatchNormalization" -> batchNormalization(c);
            case "InstanceNormalization" -> instanceNormalization(c);
            case "LayerNormalization" -> layerNormalization(c);
            case "MeanVarianceNormalization" -> meanVarianceNormalization(c);
            default -> throw c.unsupported(null, "operator " + n.opType() + " is not supported; norm4j runs " + String.join(", ", OPERATORS));
        };
    }

    // ---- elementwise ----------------------------------------------------------------------------

    private static Kernel binary(Ctx c, java.util.function.DoubleBinaryOperator fop, java.util.function.LongBinaryOperator iop)
            throws UnsupportedOnnxException {
        c.known();   // opset < 7's broadcast/axis attributes are refused here
        return in -> {
            c.inputs(in, 2, 2);
            if (in[0].dataType() != in[1].dataType()) throw c.invalid("inputs of two types, " + in[0].dataTypeName() + " and " + in[1].dataTypeName());
            try {
                return new OnnxTensor[] {OnnxOps.binary(in[0], in[1], fop, iop)};
            } catch (IllegalArgumentException e) {
                throw c.invalid(e.getMessage());
            }
        };
    }

    private static Kernel unary(Ctx c, java.util.function.DoubleUnaryOperator op, boolean integersToo) throws UnsupportedOnnxException {
        c.known();
        return in -> {
            c.inputs(in, 1, 1);
            if (!in[0].isFloat() && integersToo) {   // Relu on signed integers: max(x, 0)
                long[] x = in[0].longs(), y = new long[x.length];
                for (int i = 0; i < x.length; i++) y[i] = Math.max(x[i], 0);
                return new OnnxTensor[] {OnnxTensor.ofIntegers(in[0].dataType(), y, in[0].shapeRef())};
            }
            return new OnnxTensor[] {OnnxOps.unary(c.floats(in[0], "the input"), op)};
        };
    }

    private static Kernel identity(Ctx c) throws UnsupportedOnnxException {
        c.known();
        return in -> {
            c.inputs(in, 1, 1);
            return new OnnxTensor[] {in[0]};
        };
    }

    // ---- matrix products and shapes ------------------------------------------------------------

    private static Kernel matMul(Ctx c) throws UnsupportedOnnxException {
        c.known();
        return in -> {
            c.inputs(in, 2, 2);
            c.floats(in[0], "A");
            c.floats(in[1], "B");
            try {
                return new OnnxTensor[] {OnnxOps.matMul(in[0], in[1])};
            } catch (IllegalArgumentException e) {
                throw c.invalid(e.getMessage());
            }
        };
    }

    private static Kernel gemm(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("alpha", "beta", "transA", "transB");
        double alpha = decimal(c.f("alpha", 1f)), beta = decimal(c.f("beta", 1f));
        boolean transA = c.flag("transA", false), transB = c.flag("transB", false);
        return in -> {
            c.inputs(in, 2, 3);
            c.floats(in[0], "A");
            c.floats(in[1], "B");
            if (in.length > 2 && in[2] != null) c.floats(in[2], "C");
            try {
                return new OnnxTensor[] {OnnxOps.gemm(in[0], in[1], in.length > 2 ? in[2] : null, alpha, beta, transA, transB)};
            } catch (IllegalArgumentException e) {
                throw c.invalid(e.getMessage());
            }
        };
    }

    /** The decimal a float attribute stands for (0.25f → 0.25, 1e-5f → 1e-5): the value the model's author wrote. */
    static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    private static Kernel flatten(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("axis");
        long axis = c.i("axis", 1);
        return in -> {
            c.inputs(in, 1, 1);
            int[] s = in[0].shapeRef();
            int a = c.axis(axis, s.length, true);
            return new OnnxTensor[] {reshaped(in[0], new int[] {OnnxOps.product(s, 0, a), OnnxOps.product(s, a, s.length)})};
        };
    }

    /** The same data under another shape (the storage is shared: no kernel writes its inputs). */
    private static OnnxTensor reshaped(OnnxTensor t, int[] shape) {
        return t.isFloat() ? OnnxTensor.ofFloats(t.floats(), shape) : OnnxTensor.ofIntegers(t.dataType(), t.longs(), shape);
    }

    private static Kernel reshape(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        if (c.opset < 5) throw c.unsupported("shape", "Reshape before opset 5 (the shape as an attribute) is not supported");
        c.known("allowzero");
        boolean allowZero = c.flag("allowzero", false);
        return in -> {
            c.inputs(in, 2, 2);
            if (in[1].dataType() != OnnxProto.INT64 || in[1].rank() != 1) throw c.invalid("the shape must be a 1-D INT64 tensor, got " + in[1]);
            int[] s = in[0].shapeRef();
            long[] target = in[1].longs();
            int[] out = new int[target.length];
            int infer = -1;
            long known = 1;
            for (int k = 0; k < target.length; k++) {
                long t = target[k];
                if (t == 0 && !allowZero) {
                    if (k >= s.length) throw c.invalid("shape " + Arrays.toString(target) + " copies dimension " + k + " of an input of rank " + s.length);
                    t = s[k];
                }
                if (t == -1) {
                    if (infer >= 0) throw c.invalid("shape " + Arrays.toString(target) + " has more than one -1");
                    infer = k;
                    continue;
                }
                if (t < 0 || t > Integer.MAX_VALUE) throw c.invalid("shape " + Arrays.toString(target) + " has dimension " + t);
                out[k] = (int) t;
                known *= t;
            }
            int n = in[0].size();
            if (infer >= 0) {
                if (known == 0 || n % known != 0) throw c.invalid("cannot reshape " + Arrays.toString(s) + " to " + Arrays.toString(target));
                out[infer] = (int) (n / known);
            } else if (known != n) {
                throw c.invalid("cannot reshape " + Arrays.toString(s) + " (" + n + " values) to " + Arrays.toString(target));
            }
            return new OnnxTensor[] {reshaped(in[0], out)};
        };
    }

    /**
     * Pad, constant mode (PyTorch writes AvgPool2d's padding as a Pad): pads [begin..., end...]
     * (negative ones crop), from an attribute before opset 11, from input 1 since; the value from
     * the attribute or input 2 (default 0). The edge, reflect and wrap modes are refused.
     */
    private static Kernel pad(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        boolean fromInputs = c.opset >= 11;
        if (fromInputs) c.known("mode");
        else c.known("mode", "pads", "value");
        String mode = c.s("mode", "constant");
        if (!mode.equals("constant")) throw c.unsupported("mode", "attribute mode = " + mode + " is not supported (only constant)");
        long[] attrPads = fromInputs ? null : c.ints("pads");
        float attrValue = fromInputs ? 0f : c.f("value", 0f);
        if (!fromInputs && attrPads == null) throw c.format("has no pads attribute");
        return in -> {
            c.inputs(in, 1, fromInputs ? 3 : 1);
            if (in.length > 3 && in[3] != null) throw c.unsupported(null, "the axes input is not supported");
            long[] pads = attrPads;
            double value = attrValue;
            if (fromInputs) {
                if (in.length < 2 || in[1] == null || in[1].dataType() != OnnxProto.INT64 || in[1].rank() != 1) {
                    throw c.invalid("pads must be a 1-D INT64 input");
                }
                pads = in[1].longs();
                if (in.length > 2 && in[2] != null) {
                    if (in[2].size() != 1 || in[2].dataType() != in[0].dataType()) throw c.invalid("constant_value must be one value of the input's type");
                    value = in[2].get(0);
                }
            }
            int[] s = in[0].shapeRef();
            if (pads.length != 2 * s.length) throw c.invalid(pads.length + " pads for an input of rank " + s.length);
            int[] out = new int[s.length], begin = new int[s.length];
            for (int k = 0; k < s.length; k++) {
                long o = s[k] + pads[k] + pads[k + s.length];
                if (o < 0 || o > Integer.MAX_VALUE - 8 || Math.abs(pads[k]) > Integer.MAX_VALUE / 2) {
                    throw c.invalid("pads " + Arrays.toString(pads) + " do not fit the input " + Arrays.toString(s));
                }
                out[k] = (int) o;
                begin[k] = (int) pads[k];
            }
            return new OnnxTensor[] {OnnxOps.padConstant(in[0], out, begin, value)};
        };
    }

    /** Softmax/LogSoftmax: from opset 13 over one axis (default −1); before, x coerced to 2-D at axis (default 1). */
    private static Kernel softmax(Ctx c, boolean log) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("axis");
        boolean perAxis = c.opset >= 13;
        long axis = c.i("axis", perAxis ? -1 : 1);
        return in -> {
            c.inputs(in, 1, 1);
            c.floats(in[0], "the input");
            int[] s = in[0].shapeRef();
            if (s.length == 0) throw c.invalid("a scalar input");
            int a = c.axis(axis, s.length, false);
            int outer = OnnxOps.product(s, 0, a);
            int len = perAxis ? s[a] : OnnxOps.product(s, a, s.length);
            int inner = perAxis ? OnnxOps.product(s, a + 1, s.length) : 1;
            return new OnnxTensor[] {OnnxOps.softmax(in[0], outer, len, inner, log)};
        };
    }

    // ---- windows --------------------------------------------------------------------------------

    /** The window attributes common to Conv, ConvTranspose and the pools, read once. */
    private record WindowAttrs(String autoPad, long[] kernel, long[] strides, long[] dilations, long[] pads) {}

    private static WindowAttrs windowAttrs(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        String autoPad = c.s("auto_pad", "NOTSET");
        if (!List.of("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(autoPad)) {
            throw c.unsupported("auto_pad", "attribute auto_pad = " + autoPad + " is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)");
        }
        long[] pads = c.ints("pads");
        if (pads != null && !autoPad.equals("NOTSET")) {
            for (long p : pads) if (p != 0) throw c.format("pads " + Arrays.toString(pads) + " together with auto_pad = " + autoPad);
        }
        WindowAttrs w = new WindowAttrs(autoPad, c.ints("kernel_shape"), c.ints("strides"), c.ints("dilations"), pads);
        for (long v : orEmpty(w.strides())) if (v < 1 || v > 1 << 20) throw c.format("strides " + Arrays.toString(w.strides()) + " out of range");
        for (long v : orEmpty(w.dilations())) if (v < 1 || v > 1 << 20) throw c.format("dilations " + Arrays.toString(w.dilations()) + " out of range");
        for (long v : orEmpty(w.pads())) if (v < 0 || v > 1 << 20) throw c.unsupported("pads", "pads " + Arrays.toString(w.pads()) + " (negative or huge) are not supported");
        for (long v : orEmpty(w.kernel())) if (v < 1 || v > 1 << 20) throw c.format("kernel_shape " + Arrays.toString(w.kernel()) + " out of range");
        return w;
    }

    private static long[] orEmpty(long[] v) {
        return v == null ? new long[0] : v;
    }

    /** A per-spatial-axis attribute: {@code v} (length d), or {@code dflt} everywhere when absent. */
    private static int[] perAxis(Ctx c, String name, long[] v, int d, int dflt) {
        int[] r = new int[d];
        if (v == null) {
            Arrays.fill(r, dflt);
            return r;
        }
        if (v.length != d) throw c.invalid(name + " " + Arrays.toString(v) + " has " + v.length + " values for " + d + " spatial axes");
        for (int k = 0; k < d; k++) r[k] = (int) v[k];
        return r;
    }

    /**
     * The window of Conv and the pools over input spatial sizes {@code in}: explicit pads
     * [begin..., end...], or auto_pad (SAME_*: out = ceil(in/stride), the padding split evenly with
     * the odd one at the end for SAME_UPPER, at the start for SAME_LOWER; VALID: none). ceilMode
     * rounds the output size up, dropping a last window that would start in the end padding.
     */
    private static OnnxOps.Window window(Ctx c, WindowAttrs a, int[] in, int[] kernel, boolean ceilMode) {
        int d = in.length;
        int[] s = perAxis(c, "strides", a.strides(), d, 1), dil = perAxis(c, "dilations", a.dilations(), d, 1);
        int[] pb = new int[d], pe = new int[d], out = new int[d];
        if (a.pads() != null && a.autoPad().equals("NOTSET")) {
            if (a.pads().length != 2 * d) throw c.invalid("pads " + Arrays.toString(a.pads()) + " has " + a.pads().length + " values for " + d + " spatial axes");
            for (int k = 0; k < d; k++) {
                pb[k] = (int) a.pads()[k];
                pe[k] = (int) a.pads()[k + d];
            }
        }
        for (int k = 0; k < d; k++) {
            long span = (long) (kernel[k] - 1) * dil[k] + 1;
            switch (a.autoPad()) {
                case "SAME_UPPER", "SAME_LOWER" -> {
                    out[k] = (int) ((in[k] + s[k] - 1) / s[k]);
                    long total = Math.max(0, (long) (out[k] - 1) * s[k] + span - in[k]);
                    int small = (int) (total / 2), big = (int) (total - total / 2);
                    pb[k] = a.autoPad().equals("SAME_UPPER") ? small : big;
                    pe[k] = a.autoPad().equals("SAME_UPPER") ? big : small;
                }
                default -> {
                    long room = in[k] + pb[k] + pe[k] - span;
                    if (room < 0) {
                        throw c.invalid("the window " + Arrays.toString(kernel) + " (dilations " + Arrays.toString(dil) + ") does not fit the input "
                                + Arrays.toString(in) + " with pads " + Arrays.toString(pb) + " / " + Arrays.toString(pe));
                    }
                    long o = (ceilMode ? (room + s[k] - 1) / s[k] : room / s[k]) + 1;
                    if (ceilMode && (o - 1) * s[k] >= in[k] + pb[k]) o--;   // a last window starting in the end padding is dropped
                    out[k] = (int) o;
                }
            }
        }
        return new OnnxOps.Window(in, kernel, s, dil, pb, pe, out);
    }

    private static int[] spatial(int[] shape) {
        return Arrays.copyOfRange(shape, 2, shape.length);
    }

    private static Kernel conv(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        WindowAttrs a = windowAttrs(c);
        long group = c.i("group", 1);
        if (group < 1) throw c.format("group = " + group);
        return in -> {
            c.inputs(in, 2, 3);
            OnnxTensor x = c.floats(in[0], "X"), w = c.floats(in[1], "W"), b = in.length > 2 && in[2] != null ? c.floats(in[2], "B") : null;
            int[] xs = x.shapeRef(), ws = w.shapeRef();
            if (xs.length < 3 || ws.length != xs.length) throw c.invalid("X " + Arrays.toString(xs) + " and W " + Arrays.toString(ws) + " must be [N, C, ...] and [M, C/group, ...] of one rank ≥ 3");
            if (xs[1] % group != 0 || ws[1] * group != xs[1] || ws[0] % group != 0) {
                throw c.invalid("W " + Arrays.toString(ws) + " with group " + group + " does not fit X " + Arrays.toString(xs));
            }
            int[] kernel = spatial(ws);
            if (a.kernel() != null && !Arrays.equals(a.kernel(), Arrays.stream(kernel).asLongStream().toArray())) {
                throw c.invalid("kernel_shape " + Arrays.toString(a.kernel()) + " disagrees with W " + Arrays.toString(ws));
            }
            if (b != null && (b.rank() != 1 || b.size() != ws[0])) throw c.invalid("B " + Arrays.toString(b.shapeRef()) + ", expected [" + ws[0] + "]");
            return new OnnxTensor[] {OnnxOps.conv(x, w, b, window(c, a, spatial(xs), kernel, false), (int) group)};
        };
    }

    /**
     * ConvTranspose: out = stride·(in − 1) + output_padding + (kernel − 1)·dilation + 1 − padBegin − padEnd;
     * with output_shape (or auto_pad SAME_*: out = in·stride) the total padding is what makes that
     * size, split as ONNX writes it (SAME_UPPER: the odd one at the end; otherwise at the start),
     * negative when the output is larger (the extra positions get only the bias).
     */
    private static Kernel convTranspose(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides");
        WindowAttrs a = windowAttrs(c);
        long group = c.i("group", 1);
        if (group < 1) throw c.format("group = " + group);
        long[] outputPadding = c.ints("output_padding"), outputShape = c.ints("output_shape");
        return in -> {
            c.inputs(in, 2, 3);
            OnnxTensor x = c.floats(in[0], "X"), w = c.floats(in[1], "W"), b = in.length > 2 && in[2] != null ? c.floats(in[2], "B") : null;
            int[] xs = x.shapeRef(), ws = w.shapeRef();
            if (xs.length < 3 || ws.length != xs.length) throw c.invalid("X " + Arrays.toString(xs) + " and W " + Arrays.toString(ws) + " must be [N, C, ...] and [C, M/group, ...] of one rank ≥ 3");
            if (ws[0] != xs[1] || xs[1] % group != 0) throw c.invalid("W " + Arrays.toString(ws) + " with group " + group + " does not fit X " + Arrays.toString(xs));
            int d = xs.length - 2, m = (int) (ws[1] * group);
            int[] kernel = spatial(ws), inS = spatial(xs);
            if (a.kernel() != null && !Arrays.equals(a.kernel(), Arrays.stream(kernel).asLongStream().toArray())) {
                throw c.invalid("kernel_shape " + Arrays.toString(a.kernel()) + " disagrees with W " + Arrays.toString(ws));
            }
            if (b != null && (b.rank() != 1 || b.size() != m)) throw c.invalid("B " + Arrays.toString(b.shapeRef()) + ", expected [" + m + "]");
            int[] s = perAxis(c, "strides", a.strides(), d, 1), dil = perAxis(c, "dilations", a.dilations(), d, 1);
            int[] op = perAxis(c, "output_padding", outputPadding, d, 0);
            int[] pb = new int[d], pe = new int[d], out = new int[d];
            long[] want = null;
            if (outputShape != null) {
                if (outputShape.length != d && outputShape.length != d + 2) throw c.invalid("output_shape " + Arrays.toString(outputShape) + " for " + d + " spatial axes");
                want = Arrays.copyOfRange(outputShape, outputShape.length - d, outputShape.length);
            } else if (a.autoPad().startsWith("SAME")) {
                want = new long[d];
                for (int k = 0; k < d; k++) want[k] = (long) inS[k] * s[k];
            } else if (a.pads() != null && a.autoPad().equals("NOTSET")) {
                if (a.pads().length != 2 * d) throw c.invalid("pads " + Arrays.toString(a.pads()) + " for " + d + " spatial axes");
                for (int k = 0; k < d; k++) {
                    pb[k] = (int) a.pads()[k];
                    pe[k] = (int) a.pads()[k + d];
                }
            }
            for (int k = 0; k < d; k++) {
                long full = (long) s[k] * (inS[k] - 1) + op[k] + (long) (kernel[k] - 1) * dil[k] + 1;
                if (want != null) {
                    if (want[k] < 1 || want[k] > 1 << 24) throw c.invalid("output_shape " + Arrays.toString(want) + " out of range");
                    long total = full - want[k];
                    long half = Math.floorDiv(total, 2);
                    boolean upper = a.autoPad().equals("SAME_UPPER");
                    pb[k] = (int) (upper ? half : total - half);
                    pe[k] = (int) (upper ? total - half : half);
                }
                long o = full - pb[k] - pe[k];
                if (o < 1) throw c.invalid("the output size along spatial axis " + k + " would be " + o);
                out[k] = (int) o;
            }
            OnnxOps.Window win = new OnnxOps.Window(inS, kernel, s, dil, pb, pe, out);
            return new OnnxTensor[] {OnnxOps.convTranspose(x, w, b, win, (int) group)};
        };
    }

    private static Kernel pool(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        boolean max = c.node.opType().equals("MaxPool");
        if (max) c.known("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
        else c.known("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides");
        WindowAttrs a = windowAttrs(c);
        if (a.kernel() == null) throw c.format("has no kernel_shape");
        boolean ceil = c.flag("ceil_mode", false);
        boolean includePad = !max && c.flag("count_include_pad", false);
        boolean columnMajor = max && c.flag("storage_order", false);
        boolean wantsIndices = c.node.outputs().size() > 1 && !c.node.outputs().get(1).isEmpty();
        if (!max && wantsIndices) throw c.format("AveragePool has one output, the node names " + c.node.outputs().size());
        return in -> {
            c.inputs(in, 1, 1);
            int[] xs = in[0].shapeRef();
            if (xs.length < 3) throw c.invalid("X " + Arrays.toString(xs) + " must be [N, C, ...] of rank ≥ 3");
            if (!max) c.floats(in[0], "X");
            int[] kernel = perAxis(c, "kernel_shape", a.kernel(), xs.length - 2, 1);
            OnnxOps.Window win = window(c, a, spatial(xs), kernel, ceil);
            if (!max) return new OnnxTensor[] {OnnxOps.averagePool(in[0], win, includePad)};
            return OnnxOps.maxPool(in[0], win, wantsIndices, columnMajor);
        };
    }

    private static Kernel globalAveragePool(Ctx c) throws UnsupportedOnnxException {
        c.known();
        return in -> {
            c.inputs(in, 1, 1);
            if (in[0].rank() < 3) throw c.invalid("X " + Arrays.toString(in[0].shapeRef()) + " must be [N, C, ...] of rank ≥ 3");
            return new OnnxTensor[] {OnnxOps.globalAveragePool(c.floats(in[0], "X"))};
        };
    }

    // ---- normalizations: norm4j's layers --------------------------------------------------------

    /** A per-channel input ([C]) as floats. */
    private static float[] perChannel(Ctx c, OnnxTensor t, String what, int channels) throws UnsupportedOnnxException {
        c.floats(t, what);
        if (t.rank() != 1 || t.size() != channels) throw c.invalid(what + " has shape " + Arrays.toString(t.shapeRef()) + ", expected [" + channels + "]");
        return t.floats();
    }

    /** x [N, C, ...] viewed as [N, C, rest] (rank 3: norm4j's layers take rank 2 to 5; the statistics are the same). */
    private static Tensor channelsFirst(Ctx c, OnnxTensor x, int minRank) {
        int[] s = x.shapeRef();
        if (s.length < minRank) throw c.invalid("X " + Arrays.toString(s) + " must be [N, C, ...] of rank ≥ " + minRank);
        return Tensor.of(x.floats(), s[0], s[1], OnnxOps.product(s, 2, s.length));
    }

    /**
     * BatchNormalization (X, scale, B, input_mean, input_var): {@link BatchNorm} in
     * {@link Convention#ONNX} with the node's epsilon and momentum. training_mode = 0 (and every
     * opset before 14): eval(), y = scale·(x − mean)/sqrt(var + eps) + B. training_mode = 1:
     * train(): batch statistics, and the running statistics that the convention's update gives
     * (momentum·old + (1 − momentum)·batch, biased variance) are outputs 1 and 2.
     */
    private static Kernel batchNormalization(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        if (c.opset < 14) c.known("epsilon", "momentum", "spatial");
        else c.known("epsilon", "momentum", "training_mode");
        if (!c.flag("spatial", true)) throw c.unsupported("spatial", "attribute spatial = 0 (per-activation statistics) is not supported");
        float epsF = c.f("epsilon", 1e-5f), momentumF = c.f("momentum", 0.9f);
        if (!(epsF >= 0) || Float.isInfinite(epsF)) throw c.format("epsilon = " + epsF + ", expected finite and ≥ 0");
        if (!(momentumF >= 0 && momentumF <= 1)) throw c.format("momentum = " + momentumF + ", expected in [0, 1]");
        double eps = decimal(epsF), momentum = decimal(momentumF);
        boolean training = c.opset >= 14 && c.flag("training_mode", false);
        int outputs = 0;
        for (int k = 0; k < c.node.outputs().size(); k++) if (!c.node.outputs().get(k).isEmpty()) outputs = k + 1;
        if (!training && outputs > 1) {
            throw c.unsupported(c.opset < 14 ? null : "training_mode", "outputs beyond Y are computed only in training "
                    + (c.opset < 14 ? "(BatchNormalization before opset 14 with its mean/var/saved outputs is not supported)" : "mode (training_mode = 1)"));
        }
        if (outputs > 3) throw c.format("has " + outputs + " outputs, BatchNormalization-" + c.opset + " has at most 3");
        return in -> {
            c.inputs(in, 5, 5);
            Tensor x = channelsFirst(c, c.floats(in[0], "X"), 2);
            int channels = x.dim(1);
            BatchNorm bn = BatchNorm.builder(Convention.ONNX, channels).eps(eps).momentum(momentum).axis(1).build();
            bn.weight().copyFrom(perChannel(c, in[1], "scale", channels));
            bn.bias().copyFrom(perChannel(c, in[2], "B", channels));
            bn.runningMean().copyFrom(perChannel(c, in[3], "input_mean", channels));
            bn.runningVar().copyFrom(perChannel(c, in[4], "input_var", channels));
            if (training) bn.train();
            else bn.eval();
            Tensor y;
            try (var g = Autograd.noGrad()) {
                y = bn.forward(x);
            } catch (IllegalArgumentException e) {   // norm4j's choice: one value per channel in training is refused
                throw c.unsupported("training_mode", e.getMessage());
            }
            OnnxTensor yt = OnnxTensor.ofFloats(y.toArray(), in[0].shapeRef());
            if (!training) return new OnnxTensor[] {yt};
            return new OnnxTensor[] {yt, OnnxTensor.ofFloats(bn.runningMean().toArray(), channels),
                OnnxTensor.ofFloats(bn.runningVar().toArray(), channels)};
        };
    }

    /** InstanceNormalization (X, scale, B): {@link InstanceNorm} with affine weights, statistics per (n, c). */
    private static Kernel instanceNormalization(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("epsilon");
        float epsF = c.f("epsilon", 1e-5f);
        if (!(epsF >= 0) || Float.isInfinite(epsF)) throw c.format("epsilon = " + epsF + ", expected finite and ≥ 0");
        double eps = decimal(epsF);
        return in -> {
            c.inputs(in, 3, 3);
            Tensor x = channelsFirst(c, c.floats(in[0], "input"), 3);
            int channels = x.dim(1);
            InstanceNorm norm = new InstanceNorm(channels, eps, 0.1, true, false);
            norm.weight().copyFrom(perChannel(c, in[1], "scale", channels));
            norm.bias().copyFrom(perChannel(c, in[2], "B", channels));
            norm.eval();
            try (var g = Autograd.noGrad()) {
                return new OnnxTensor[] {OnnxTensor.ofFloats(norm.forward(x).toArray(), in[0].shapeRef())};
            }
        };
    }

    /**
     * LayerNormalization (X, Scale, B): statistics over the axes from {@code axis} on, through
     * {@link LayerNorm} on x viewed as [rows, len]; Scale and B broadcast to X.shape[axis:].
     * Outputs Mean and InvStdDev ([X.shape[:axis], 1, ...]) from the same statistics, in double.
     */
    private static Kernel layerNormalization(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("axis", "epsilon", "stash_type");
        long axis = c.i("axis", -1);
        float epsF = c.f("epsilon", 1e-5f);
        if (!(epsF >= 0) || Float.isInfinite(epsF)) throw c.format("epsilon = " + epsF + ", expected finite and ≥ 0");
        double eps = decimal(epsF);
        long stash = c.i("stash_type", OnnxProto.FLOAT);
        if (stash != OnnxProto.FLOAT) throw c.unsupported("stash_type", "attribute stash_type = " + OnnxProto.dataTypeName((int) stash) + " is not supported (only FLOAT)");
        return in -> {
            c.inputs(in, 2, 3);
            OnnxTensor x = c.floats(in[0], "X");
            int[] s = x.shapeRef();
            if (s.length == 0) throw c.invalid("a scalar input");
            int a = c.axis(axis, s.length, false);
            int rows = OnnxOps.product(s, 0, a), len = OnnxOps.product(s, a, s.length);
            int[] normalized = Arrays.copyOfRange(s, a, s.length);
            LayerNorm norm = new LayerNorm(new int[] {len}, eps, true);
            norm.weight().copyFrom(affine(c, in[1], "Scale", normalized));
            if (in.length > 2 && in[2] != null) norm.bias().copyFrom(affine(c, in[2], "B", normalized));
            OnnxTensor y;
            try (var g = Autograd.noGrad()) {
                y = OnnxTensor.ofFloats(norm.forward(Tensor.of(x.floats(), rows, len)).toArray(), s);
            }
            float[] mean = new float[rows], invStd = new float[rows];
            float[] xv = x.floats();
            for (int r = 0; r < rows; r++) {
                double m = 0, m2 = 0;
                for (int i = 0; i < len; i++) m += xv[r * len + i];
                m /= len;
                for (int i = 0; i < len; i++) m2 += (xv[r * len + i] - m) * (xv[r * len + i] - m);
                mean[r] = (float) m;
                invStd[r] = (float) (1 / Math.sqrt(m2 / len + eps));
            }
            int[] statShape = s.clone();
            for (int k = a; k < s.length; k++) statShape[k] = 1;
            return new OnnxTensor[] {y, OnnxTensor.ofFloats(mean, statShape), OnnxTensor.ofFloats(invStd, statShape)};
        };
    }

    /** Scale or B broadcast to the normalized shape. */
    private static float[] affine(Ctx c, OnnxTensor t, String what, int[] normalized) throws UnsupportedOnnxException {
        c.floats(t, what);
        int[] b;
        try {
            b = OnnxOps.broadcast(t.shapeRef(), normalized);
        } catch (IllegalArgumentException e) {
            b = null;
        }
        if (b == null || !Arrays.equals(b, normalized)) {
            throw c.invalid(what + " " + Arrays.toString(t.shapeRef()) + " does not broadcast to the normalized shape " + Arrays.toString(normalized));
        }
        return OnnxOps.expand(t, normalized);
    }

    private static Kernel meanVarianceNormalization(Ctx c) throws OnnxFormatException, UnsupportedOnnxException {
        c.known("axes");
        long[] axes = c.ints("axes");
        long[] use = axes != null ? axes : new long[] {0, 2, 3};
        return in -> {
            c.inputs(in, 1, 1);
            OnnxTensor x = c.floats(in[0], "X");
            boolean[] reduced = new boolean[x.rank()];
            for (long ax : use) reduced[c.axis(ax, x.rank(), false)] = true;
            return new OnnxTensor[] {OnnxOps.meanVarianceNormalization(x, reduced)};
        };
    }
}
