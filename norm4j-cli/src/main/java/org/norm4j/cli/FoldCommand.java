package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.Convention;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code norm4j fold}: a LeNet-BN checkpoint with every BN folded into the convolution or linear
 * layer before it, for inference. The folded checkpoint has the keys of the same network without
 * BN layers (d2l's LeNet without BatchNorm: 0.weight, 0.bias, 3.weight, …, 11.bias). A network
 * whose BN cannot all fold (BN after the activation) is reported and refused: nothing is written.
 */
@Command(name = "fold", mixinStandardHelpOptions = true, description = "Fold batch norm into the preceding layers of a LeNet checkpoint.")
final class FoldCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "model.safetensors with batch norm (norm4j's or a d2l PyTorch state dict).")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "Where to write the folded checkpoint.")
    Path out;

    @Option(names = "--convention", description = "Batch-norm convention when the checkpoint does not say (default: PYTORCH).")
    Convention convention;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Checkpoints.Opened c = Checkpoints.open(cl, checkpoint, null, convention, "batch", "fold");
        Map<String, String> meta = c.meta();
        Sequential model = c.model();
        model.eval();
        Folding.Result r = Folding.fold(model);
        PrintWriter w = cl.getOut();
        for (Folding.Entry e : r.report()) w.println("  " + e);
        w.flush();
        if (r.foldedCount() < r.report().size()) {
            throw new IllegalArgumentException((r.report().size() - r.foldedCount()) + " of " + r.report().size()
                    + " batch-norm layers cannot fold (see above; placement " + meta.getOrDefault("placement", "bn-act")
                    + "); nothing written — train with --placement bn-act for a network that folds");
        }
        meta.put("norm", "none");
        meta.remove("placement");
        meta.put("folded_from", checkpoint.getFileName().toString());
        RunFiles.createParentDirectories(out);
        StateDict.save(r.model(), out, meta);
        w.printf(Locale.ROOT, "folded %d of %d batch-norm layers; wrote %s%n", r.foldedCount(), r.report().size(), out);
        w.flush();
        return 0;
    }
}
