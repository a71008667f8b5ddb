package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataNotFoundException;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxImport;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code norm4j import model.onnx}: reads an ONNX chain of Conv, Gemm, MatMul/Add,
 * BatchNormalization, activations, pooling, Flatten/Reshape and Softmax into a norm4j network,
 * prints its layers and, for a [N, 1, 28, 28] → [N, 10] model when Fashion-MNIST is installed,
 * its test accuracy. {@code --out} writes the network's state as a norm4j checkpoint; when the
 * network is norm4j's LeNet (with BN, as PyTorch's d2l export, or without) the checkpoint gets
 * the metadata that {@code norm4j eval} and {@code norm4j export} read. docs/onnx.md.
 */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Read an ONNX model into a norm4j network.")
final class ImportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX file.")
    Path model;

    @Option(names = "--out", description = "Write the network's state as a norm4j checkpoint (safetensors, PyTorch keys).")
    Path out;

    @Option(names = "--data", description = "Directory of the Fashion-MNIST IDX files (default: $NORM4J_DATA, else /usr/share/datasets/fashion-mnist).")
    String data;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!Files.isRegularFile(model)) throw new CommandLine.ParameterException(cl, "no file " + model);
        OnnxImport.Imported imp = OnnxImport.load(model);
        Sequential net = imp.model();
        PrintWriter w = cl.getOut();
        w.printf(Locale.ROOT, "%s: %s, opset %d, input \"%s\" %s, output \"%s\"%n", model, imp.producer().isEmpty() ? "unknown producer"
                : imp.producer(), imp.opset(), imp.inputName(), shape(imp.inputShape()), imp.outputName());
        List<Module> layers = net.layers();
        for (int i = 0; i < layers.size(); i++) w.printf(Locale.ROOT, "  %2d  %s%n", i, layers.get(i).describe());
        w.flush();

        if (isImageClassifier(imp)) accuracy(net, w);
        if (out != null) save(net, imp, w);
        w.flush();
        return 0;
    }

    /** [N, 1, 28, 28] in, [N, 10] out: what the Fashion-MNIST test set fits. */
    private static boolean isImageClassifier(OnnxImport.Imported imp) {
        int[] s = imp.inputShape();
        if (s.length != 4 || s[1] != 1 || s[2] != 28 || s[3] != 28) return false;
        try (var g = Autograd.noGrad()) {
            int[] o = imp.model().forward(Tensor.zeros(1, 1, 28, 28)).shape();
            return o.length == 2 && o[1] == 10;
        }
    }

    private void accuracy(Sequential net, PrintWriter w) throws Exception {
        Path dir = FashionMnist.resolveDir(data);
        Dataset test;
        try {
            test = FashionMnist.load(dir, false);
        } catch (DataNotFoundException e) {
            if (data != null) throw e;   // asked for explicitly: an error
            w.printf("Fashion-MNIST not found in %s: no test accuracy (--data DIR, or bin/setup)%n", dir);
            return;
        }
        double acc = Trainer.accuracy(net, test, 1000);
        w.printf(Locale.ROOT, "test accuracy %.4f (%d of %d, Fashion-MNIST %s)%n", acc, Math.round(acc * test.size()), test.size(), dir);
    }

    private void save(Sequential net, OnnxImport.Imported imp, PrintWriter w) throws Exception {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", "imported from ONNX");
        meta.put("onnx", model.getFileName().toString());
        meta.put("onnx_producer", imp.producer());
        String lenet = null;
        if (sameState(net, LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0))) lenet = "batch";
        else if (sameState(net, LeNet.build(LeNet.Norm.NONE, Convention.PYTORCH, 0))) lenet = "none";
        if (lenet != null) {
            meta.put("model", "norm4j LeNet (d2l nn.Sequential keys), imported from ONNX");
            meta.put("norm", lenet);
            meta.put("convention", Convention.PYTORCH.name());
        }
        RunFiles.createParentDirectories(out);
        StateDict.save(net, out, meta);
        w.printf("wrote %s%s%n", out, lenet == null ? "" : " (norm4j's LeNet with norm " + lenet + ": norm4j eval and export read it)");
    }

    /** The same state keys with the same shapes. */
    private static boolean sameState(Module a, Module b) {
        Map<String, SafeTensors.Entry> ea = StateDict.entries(a), eb = StateDict.entries(b);
        if (!ea.keySet().equals(eb.keySet())) return false;
        for (String k : ea.keySet()) {
            if (!java.util.Arrays.equals(ea.get(k).shape(), eb.get(k).shape()) || ea.get(k).dtype() != eb.get(k).dtype()) return false;
        }
        return true;
    }

    private static String shape(int[] s) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) sb.append(i == 0 ? "" : ", ").append(s[i] < 0 ? "N" : String.valueOf(s[i]));
        return sb.append(']').toString();
    }
}
