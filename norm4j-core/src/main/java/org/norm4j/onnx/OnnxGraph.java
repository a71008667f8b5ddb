package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.TensorProto;
import org.norm4j.onnx.OnnxProto.ValueInfo;

/**
 * An ONNX graph that runs as it is: any graph (branches, several inputs and outputs, weights fed
 * as inputs, broadcasting) of the operators in {@link #OPERATORS}, evaluated node by node in the
 * file's (topological) order. This is what {@code norm4j onnx-test} holds to ONNX's own backend
 * tests; {@link OnnxImport} is the other road, a chain turned into a trainable
 * {@link org.norm4j.nn.Sequential}.
 *
 * <p>Loading checks everything the file alone decides: the opset (1 to {@value #MAX_OPSET} of the
 * default domain), every operator and attribute ({@link UnsupportedOnnxException} naming the
 * operator, the attribute and the node when norm4j does not implement it), every value read
 * before it is written ({@link OnnxFormatException}). Running checks the inputs against the
 * declared types and shapes, and each node's input shapes.
 *
 * <p>Numerics: BatchNormalization, InstanceNormalization and LayerNormalization run through
 * norm4j's layers ({@link org.norm4j.nn.norm.Convention#ONNX} for BatchNormalization); the other
 * operators are reference loops that accumulate in double ({@link OnnxOps}).
 */
public final class OnnxGraph {
    /** The newest opset of the default domain read; a newer one may have changed an operator. */
    public static final int MAX_OPSET = 22;

    /** The operators that run (Constant and Identity included). */
    public static final List<String> OPERATORS = OnnxNodes.OPERATORS;

    private record Step(Node node, OnnxNodes.Kernel kernel) {}

    private final Path file;
    private final long opset;
    private final Map<String, OnnxTensor> constants;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;
    private final List<Step> steps;
    private final Set<String> operators;

    private OnnxGraph(Path file, long opset, Map<String, OnnxTensor> constants, List<ValueInfo> inputs, List<ValueInfo> outputs, List<Step> steps,
                      Set<String> operators) {
        this.file = file;
        this.opset = opset;
        this.constants = constants;
        this.inputs = inputs;
        this.outputs = outputs;
        this.steps = steps;
        this.operators = operators;
    }

    public static OnnxGraph load(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new OnnxFormatException(file, 0, "file of " + size + " bytes is larger than protobuf's 2 GiB limit (external data is not supported)");
        }
        return fromBytes(Files.readAllBytes(file), file);
    }

    /** A model already in memory; {@code file} only names it in messages. */
    static OnnxGraph fromBytes(byte[] bytes, Path file) throws IOException {
        OnnxProto.Model m = OnnxProto.decodeModel(bytes, file);
        OnnxProto.Graph g = m.graph();
        long opset = defaultOpset(m, file);

        Map<String, OnnxTensor> constants = new HashMap<>();
        for (TensorProto t : g.initializers()) {
            if (constants.containsKey(t.name())) throw new OnnxFormatException(file, t.offset(), "two initializers are named " + OnnxProto.quote(t.name()));
            constants.put(t.name(), value(t, file, "initializer " + OnnxProto.quote(t.name())));
        }
        // inputs that an initializer also names take it as their default: they are optional
        List<ValueInfo> inputs = new ArrayList<>();
        Set<String> known = new HashSet<>(constants.keySet());
        for (ValueInfo v : concat(g.inputs(), g.outputs())) {
            if (v.elemType() < 0) {
                throw new UnsupportedOnnxException(file, null, null, null, "graph " + (g.inputs().contains(v) ? "input " : "output ")
                        + OnnxProto.quote(v.name()) + " is not a tensor (a sequence, map or optional); norm4j computes with tensors (at byte "
                        + v.offset() + ")");
            }
        }
        for (ValueInfo v : g.inputs()) {
            if (!known.add(v.name()) && !constants.containsKey(v.name())) {
                throw new OnnxFormatException(file, v.offset(), "two graph inputs are named " + OnnxProto.quote(v.name()));
            }
            inputs.add(v);
        }
        List<Step> steps = new ArrayList<>();
        Set<String> operators = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            operators.add(n.opType());
            if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
                throw new UnsupportedOnnxException(file, n.opType(), n.name(), null, "operator " + n.domain() + ":" + n.opType() + " ("
                        + n.opType() + " node " + OnnxProto.quote(n.name()) + ") is outside the default ONNX domain (at byte " + n.offset() + ")");
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !known.contains(in)) {
                    throw new OnnxFormatException(file, n.offset(), n.opType() + " node " + OnnxProto.quote(n.name()) + " reads " + OnnxProto.quote(in)
                            + ", which no graph input, initializer or earlier node provides");
                }
            }
            for (Attribute a : n.attributes()) {
                if (a.type() == OnnxProto.ATTR_GRAPH) {
                    throw new UnsupportedOnnxException(file, n.opType(), n.name(), a.name(), n.opType() + " node " + OnnxProto.quote(n.name())
                            + ": attribute " + a.name() + " is a subgraph; norm4j runs flat graphs (at byte " + n.offset() + ")");
                }
            }
            OnnxNodes.Kernel k = n.opType().equals("Constant") ? constant(n, opset, file) : OnnxNodes.compile(n, opset, file);
            for (String out : n.outputs()) {
                if (out.isEmpty()) continue;
                if (!known.add(out)) {
                    throw new OnnxFormatException(file, n.offset(), n.opType() + " node " + OnnxProto.quote(n.name()) + " writes " + OnnxProto.quote(out)
                            + ", which already has a value");
                }
            }
            steps.add(new Step(n, k));
        }
        for (ValueInfo v : g.outputs()) {
            if (!known.contains(v.name())) {
                throw new OnnxFormatException(file, v.offset(), "the graph output " + OnnxProto.quote(v.name()) + " is computed by no node");
            }
        }
        return new OnnxGraph(file, opset, constants, List.copyOf(inputs), List.copyOf(g.outputs()), List.copyOf(steps),
                Collections.unmodifiableSet(operators));
    }

    private static List<ValueInfo> concat(List<ValueInfo> a, List<ValueInfo> b) {
        List<ValueInfo> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** The default domain's opset; 0 when the model imports none (then every node must be of another domain, which is refused). */
    private static long defaultOpset(OnnxProto.Model m, Path file) throws IOException {
        Long v = null;
        for (OnnxProto.OpsetId o : m.opsets()) if (o.domain().isEmpty() || o.domain().equals("ai.onnx")) v = o.version();
        if (v == null) {
            for (Node n : m.graph().nodes()) {
                if (n.domain().isEmpty() || n.domain().equals("ai.onnx")) {
                    throw new OnnxFormatException(file, n.offset(), n.opType() + " node " + OnnxProto.quote(n.name()) + " is of the default ONNX domain, "
                            + "but the model imports no opset of it (ModelProto.opset_import)");
                }
            }
            return 0;
        }
        if (v < 1 || v > MAX_OPSET) {
            throw new UnsupportedOnnxException(file, null, null, null, "opset " + v + " of the default domain; norm4j reads opsets 1 to " + MAX_OPSET);
        }
        return v;
    }

    /** A stored tensor as a value; a data type norm4j does not compute with is unsupported, not malformed. */
    private static OnnxTensor value(TensorProto t, Path file, String what) throws IOException {
        if (t.dataType() != OnnxProto.FLOAT && OnnxProto.integerSize(t.dataType()) == 0 && t.dataType() >= 1 && t.dataType() <= 16) {
            throw new UnsupportedOnnxException(file, null, null, null, what + " is " + OnnxProto.dataTypeName(t.dataType())
                    + "; norm4j computes with FLOAT and the integer types (at byte " + t.offset() + ")");
        }
        return OnnxTensor.fromProto(t, file);
    }

    /** Constant: its value, decided at load. */
    private static OnnxNodes.Kernel constant(Node n, long opset, Path file) throws IOException {
        OnnxNodes.Ctx c = new OnnxNodes.Ctx(n, opset, file);
        if (n.attributes().size() != 1) throw c.format("must have exactly one attribute, has " + n.attributes().size());
        Attribute a = n.attributes().get(0);
        OnnxTensor v = switch (a.name()) {
            case "value" -> {
                if (a.type() != OnnxProto.ATTR_TENSOR || a.t() == null) throw c.format("attribute value is not a tensor");
                yield value(a.t(), file, c.where() + ": its value");
            }
            case "value_float" -> OnnxTensor.ofFloats(new float[] {c.f("value_float", 0)});
            case "value_floats" -> {
                if (a.type() != OnnxProto.ATTR_FLOATS) throw c.format("attribute value_floats is not FLOATS");
                float[] f = a.floats();
                yield OnnxTensor.ofFloats(f.clone(), f.length);
            }
            case "value_int" -> OnnxTensor.ofInt64(new long[] {c.i("value_int", 0)});
            case "value_ints" -> {
                long[] v2 = c.ints("value_ints");
                yield OnnxTensor.ofInt64(v2.clone(), v2.length);
            }
            default -> throw c.unsupported(a.name(), "attribute " + a.name() + " is not supported (value, value_float(s), value_int(s))");
        };
        if (n.outputs().size() != 1) throw c.format("must have one output");
        return in -> new OnnxTensor[] {v};
    }

    /** The graph inputs to feed, in order: those without an initializer (the others are optional). */
    public List<String> inputNames() {
        List<String> names = new ArrayList<>();
        for (ValueInfo v : inputs) if (!constants.containsKey(v.name())) names.add(v.name());
        return names;
    }

    public List<String> outputNames() {
        List<String> names = new ArrayList<>();
        for (ValueInfo v : outputs) names.add(v.name());
        return names;
    }

    /** The operators the graph uses, in order of first appearance. */
    public Set<String> operators() {
        return operators;
    }

    /** The default-domain opset the model imports. */
    public long opset() {
        return opset;
    }

    /** Runs the graph on {@link #inputNames()}' values, in that order; returns the outputs in order. */
    public List<OnnxTensor> run(List<OnnxTensor> values) throws UnsupportedOnnxException {
        List<String> names = inputNames();
        if (values.size() != names.size()) {
            throw new IllegalArgumentException(file + ": the graph takes " + names.size() + " inputs " + names + ", got " + values.size());
        }
        Map<String, OnnxTensor> byName = new LinkedHashMap<>();
        for (int k = 0; k < names.size(); k++) byName.put(names.get(k), values.get(k));
        Map<String, OnnxTensor> out = run(byName);
        List<OnnxTensor> r = new ArrayList<>();
        for (String name : outputNames()) r.add(out.get(name));
        return r;
    }

    /**
     * Runs the graph on named inputs (an input that has an initializer may be left out, or given
     * to replace it). Returns every graph output by name. An input of the wrong type or shape is an
     * {@link IllegalArgumentException} naming it; a node that cannot run these shapes is one too,
     * naming the node; a node norm4j cannot run exactly on them is an {@link UnsupportedOnnxException}.
     */
    public Map<String, OnnxTensor> run(Map<String, OnnxTensor> given) throws UnsupportedOnnxException {
        Map<String, OnnxTensor> env = new HashMap<>(constants);
        for (String name : given.keySet()) {
            if (inputs.stream().noneMatch(v -> v.name().equals(name))) {
                throw new IllegalArgumentException(file + ": the graph has no input " + OnnxProto.quote(name) + " (inputs: " + inputNames() + ")");
            }
        }
        for (ValueInfo v : inputs) {
            OnnxTensor t = given.get(v.name());
            if (t == null) {
                if (constants.containsKey(v.name())) continue;
                throw new IllegalArgumentException(file + ": graph input " + OnnxProto.quote(v.name()) + " is not given");
            }
            checkDeclared(v, t, "graph input");
            env.put(v.name(), t);
        }
        for (Step s : steps) {
            Node n = s.node();
            OnnxTensor[] in = new OnnxTensor[n.inputs().size()];
            for (int k = 0; k < in.length; k++) in[k] = n.inputs().get(k).isEmpty() ? null : env.get(n.inputs().get(k));
            OnnxTensor[] out = s.kernel().run(in);
            for (int k = 0; k < n.outputs().size(); k++) {
                String name = n.outputs().get(k);
                if (name.isEmpty()) continue;
                if (k >= out.length) {
                    throw new UnsupportedOnnxException(file, n.opType(), n.name(), null, n.opType() + " node " + OnnxProto.quote(n.name())
                            + ": output " + k + " (" + OnnxProto.quote(name) + ") is not computed by norm4j");
                }
                env.put(name, out[k]);
            }
        }
        Map<String, OnnxTensor> result = new LinkedHashMap<>();
        for (ValueInfo v : outputs) result.put(v.name(), env.get(v.name()));
        return result;
    }

    /** A value against its declaration: element type, rank, every fixed dimension. */
    private void checkDeclared(ValueInfo v, OnnxTensor t, String what) {
        if (v.elemType() > 0 && v.elemType() != t.dataType()) {
            throw new IllegalArgumentException(file + ": " + what + " " + OnnxProto.quote(v.name()) + " is declared "
                    + OnnxProto.dataTypeName(v.elemType()) + ", got " + t.dataTypeName());
        }
        if (v.dims() == null) return;
        boolean ok = v.dims().size() == t.rank();
        for (int k = 0; ok && k < t.rank(); k++) ok = v.dims().get(k).value() < 0 || v.dims().get(k).value() == t.shapeRef()[k];
        if (!ok) {
            throw new IllegalArgumentException(file + ": " + what + " " + OnnxProto.quote(v.name()) + " is declared " + v.dims() + ", got "
                    + Arrays.toString(t.shapeRef()));
        }
    }
}
