package org.norm4j.onnx;

import java.util.ArrayList;
import java.util.List;
import org.norm4j.onnx.OnnxProto.Attribute;
import org.norm4j.onnx.OnnxProto.Dim;
import org.norm4j.onnx.OnnxProto.Node;
import org.norm4j.onnx.OnnxProto.TensorProto;
import org.norm4j.onnx.OnnxProto.ValueInfo;
import org.norm4j.tensor.Rng;

/** Hand-built ONNX graphs for the tests: a chain from "x" [N, ...] to "y", nodes named "n0", "n1", … */
final class Graphs {
    final List<Node> nodes = new ArrayList<>();
    final List<TensorProto> inits = new ArrayList<>();
    final List<ValueInfo> extraInputs = new ArrayList<>();
    final long[] inputDims;
    int opset = 15;
    String current = "x";
    private final Rng rng = new Rng(42);

    Graphs(long... inputDims) {
        this.inputDims = inputDims;
    }

    /** A random FLOAT initializer. */
    String weight(String name, long... dims) {
        int n = 1;
        for (long d : dims) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.normal(0, 0.5);
        inits.add(OnnxProto.floatTensor(name, dims, v));
        return name;
    }

    String positive(String name, long... dims) {
        int n = 1;
        for (long d : dims) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.5 + rng.uniform());
        inits.add(OnnxProto.floatTensor(name, dims, v));
        return name;
    }

    String ints(String name, long... values) {
        inits.add(OnnxProto.int64Tensor(name, new long[] {values.length}, values));
        return name;
    }

    /** Appends op(current, extra...) → a new current value. */
    Graphs op(String op, List<String> extra, Attribute... attrs) {
        String out = "v" + nodes.size();
        List<String> in = new ArrayList<>();
        in.add(current);
        in.addAll(extra);
        nodes.add(OnnxProto.node("n" + nodes.size(), op, in, List.of(out), attrs));
        current = out;
        return this;
    }

    Graphs op(String op, Attribute... attrs) {
        return op(op, List.of(), attrs);
    }

    Graphs node(Node n) {
        nodes.add(n);
        return this;
    }

    OnnxProto.Model model() {
        List<Dim> in = new ArrayList<>();
        in.add(Dim.symbolic("N"));
        for (int k = 1; k < inputDims.length; k++) in.add(Dim.of(inputDims[k]));
        List<ValueInfo> inputs = new ArrayList<>();
        inputs.add(new ValueInfo("x", OnnxProto.FLOAT, in, 0));
        inputs.addAll(extraInputs);
        List<Node> ns = new ArrayList<>(nodes);
        if (!ns.isEmpty()) {   // the last node writes "y"
            Node last = ns.remove(ns.size() - 1);
            List<String> outs = new ArrayList<>(last.outputs());
            if (outs.get(0).equals(current)) outs.set(0, "y");
            ns.add(new Node(last.name(), last.opType(), last.domain(), last.inputs(), outs, last.attributes(), 0));
        }
        OnnxProto.Graph g = new OnnxProto.Graph("test", ns, inits, inputs, List.of(new ValueInfo("y", OnnxProto.FLOAT, null, 0)), List.of());
        return new OnnxProto.Model(8, "norm4j-test", "", g, List.of(new OnnxProto.OpsetId("", opset)));
    }

    byte[] bytes() {
        return OnnxProto.encode(model());
    }
}
