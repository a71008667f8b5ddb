package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.norm4j.io.SafeTensors;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxExport;
import org.norm4j.train.LeNet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code norm4j export}: a LeNet checkpoint (as {@code norm4j train} or {@code norm4j fold} writes
 * it) as an ONNX model, opset 15, input "input" [N, 1, 28, 28], output "output" [N, 10]. The
 * network is rebuilt from the checkpoint's "norm", "convention" and "placement" metadata and
 * loaded strictly; {@code --fold} folds every BN into the layer before it first, so the file has
 * only Conv and Gemm where the BNs were. docs/onnx.md.
 */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Write a LeNet checkpoint as an ONNX model (opset 15).")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "model.safetensors written by norm4j train or fold.")
    Path checkpoint;

    @Option(names = "--onnx", required = true, description = "Where to write the ONNX model (replaced atomically).")
    Path onnx;

    @Option(names = "--fold", description = "Fold batch norm into the preceding Conv/Gemm before exporting.")
    boolean fold;

    @Option(names = "--convention", description = "Batch-norm convention when the checkpoint does not say (default: PYTORCH).")
    Convention convention;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!Files.isRegularFile(checkpoint)) throw new CommandLine.ParameterException(cl, "--checkpoint: no file " + checkpoint);
        Map<String, String> meta = SafeTensors.readHeader(checkpoint).metadata();
        String norm = meta.getOrDefault("norm", "batch");
        LeNet.Norm kind;
        try {
            kind = LeNet.Norm.valueOf(norm.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint + ": unknown norm \"" + norm + "\" in its metadata (batch, layer, group, none)");
        }
        if (kind == LeNet.Norm.LAYER || kind == LeNet.Norm.GROUP) {
            throw new IllegalArgumentException(checkpoint + " has " + norm + " norm, which opset 15 has no operator for "
                    + "(LayerNormalization is opset 17, GroupNormalization 18); export a batch-norm or plain LeNet");
        }
        Convention conv = convention != null ? convention : Convention.valueOf(meta.getOrDefault("convention", "PYTORCH"));
        Sequential model = LeNet.build(kind, conv, placement(meta.get("placement")), 0);
        Checkpoints.load(model, checkpoint, "LeNet with " + norm + " norm");
        model.eval();
        PrintWriter w = cl.getOut();
        if (fold) {
            Folding.Result r = Folding.fold(model);
            for (Folding.Entry e : r.report()) w.println("  " + e);
            w.printf(Locale.ROOT, "folded %d of %d batch-norm layers%n", r.foldedCount(), r.report().size());
            model = r.model();
        }
        Path parent = onnx.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        OnnxExport.write(model, new int[] {1, 1, 28, 28}, onnx);
        w.printf(Locale.ROOT, "wrote %s (ONNX opset %d, %d bytes): input \"input\" [N, 1, 28, 28], output \"output\" [N, 10]%n", onnx,
                OnnxExport.OPSET, Files.size(onnx));
        w.flush();
        return 0;
    }

    /** The checkpoint's "placement" metadata (bn-act, act-bn or the enum's names); absent: the d2l order, BN before the activation. */
    static LeNet.Placement placement(String value) {
        if (value == null || value.isBlank()) return LeNet.Placement.NORM_ACT;
        String v = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (v) {
            case "BN_ACT", "NORM_ACT" -> LeNet.Placement.NORM_ACT;
            case "ACT_BN", "ACT_NORM" -> LeNet.Placement.ACT_NORM;
            default -> throw new IllegalArgumentException("unknown placement \"" + value + "\" in the checkpoint's metadata (bn-act or act-bn)");
        };
    }
}
