package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.Convention;
import org.norm4j.onnx.OnnxExport;
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
        Checkpoints.Opened c = Checkpoints.open(cl, checkpoint, null, convention, null, null);
        if (c.norm().equals("layer") || c.norm().equals("group")) {
            throw new IllegalArgumentException(checkpoint + " has " + c.norm() + " norm, which opset 15 has no operator for "
                    + "(LayerNormalization is opset 17, GroupNormalization 18); export a batch-norm or plain LeNet");
        }
        Sequential model = c.model();
        model.eval();
        PrintWriter w = cl.getOut();
        if (fold) {
            Folding.Result r = Folding.fold(model);
            for (Folding.Entry e : r.report()) w.println("  " + e);
            w.printf(Locale.ROOT, "folded %d of %d batch-norm layers%n", r.foldedCount(), r.report().size());
            model = r.model();
        }
        RunFiles.createParentDirectories(onnx);
        OnnxExport.write(model, new int[] {1, 1, 28, 28}, onnx);
        w.printf(Locale.ROOT, "wrote %s (ONNX opset %d, %d bytes): input \"input\" [N, 1, 28, 28], output \"output\" [N, 10]%n", onnx,
                OnnxExport.OPSET, Files.size(onnx));
        w.flush();
        return 0;
    }
}
