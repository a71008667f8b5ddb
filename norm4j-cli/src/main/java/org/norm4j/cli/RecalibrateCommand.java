package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.PreciseBn;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code norm4j recalibrate}: recompute the BN population statistics of a LeNet checkpoint —
 * norm4j's own, or a d2l PyTorch state dict saved as safetensors — over K training batches with
 * the weights frozen, and write the recalibrated checkpoint.
 */
@Command(name = "recalibrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Recompute a LeNet checkpoint's batch-norm statistics over K training batches (precise BN).")
final class RecalibrateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "model.safetensors (norm4j's, or a d2l PyTorch state dict in safetensors form).")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "Where to write the recalibrated checkpoint.")
    Path out;

    @Option(names = "--batches", defaultValue = "10", description = "Training batches to average over (default: ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--batch-size", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the batches' shuffle (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--data", description = "Directory of the Fashion-MNIST IDX files (default: $NORM4J_DATA, else /usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--convention", description = "Batch-norm convention when the checkpoint does not say (default: PYTORCH).")
    Convention convention;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (batches < 1) throw new CommandLine.ParameterException(cl, "--batches must be at least 1, got " + batches);
        if (batchSize < 2) throw new CommandLine.ParameterException(cl, "--batch-size must be at least 2, got " + batchSize);
        Checkpoints.Opened c = Checkpoints.open(cl, checkpoint, null, convention, "batch", "recalibrate");
        Map<String, String> meta = c.meta();
        Sequential model = c.model();
        Path dir = FashionMnist.resolveDir(data);
        Dataset train = FashionMnist.load(dir, true), test = FashionMnist.load(dir, false);
        PrintWriter w = cl.getOut();
        double before = Trainer.accuracy(model, test, 1000);
        int used = PreciseBn.recompute(model, new DataLoader(train, batchSize, true, seed), 0, batches);
        double after = Trainer.accuracy(model, test, 1000);
        meta.put("precise_bn", String.valueOf(used));
        meta.put("recalibrated_from", checkpoint.getFileName().toString());
        RunFiles.createParentDirectories(out);
        StateDict.save(model, out, meta);
        w.printf(Locale.ROOT, "test accuracy %.4f with the checkpoint's statistics, %.4f recomputed over %d batches of %d; wrote %s%n",
                before, after, used, batchSize, out);
        w.flush();
        return 0;
    }
}
