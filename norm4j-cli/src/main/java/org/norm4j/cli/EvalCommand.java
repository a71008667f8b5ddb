package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code norm4j eval}: test accuracy, per-class accuracy and a confusion-matrix PNG for a LeNet checkpoint. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a LeNet checkpoint on the Fashion-MNIST test set.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "model.safetensors written by norm4j train (or a d2l PyTorch state dict).")
    Path checkpoint;

    @Option(names = "--data", description = "Directory of the Fashion-MNIST IDX files (default: $NORM4J_DATA, else /usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--out", description = "Where to write confusion.png (default: the checkpoint's directory).")
    Path out;

    @Option(names = "--norm", description = "Normalization of the network when the checkpoint does not say (batch, layer, group, none).")
    String norm;

    @Option(names = "--convention", description = "Batch-norm convention when the checkpoint does not say.")
    Convention convention;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Sequential model = Checkpoints.open(spec.commandLine(), checkpoint, norm, convention, null, null).model();
        Dataset test = FashionMnist.load(FashionMnist.resolveDir(data), false);
        int[][] cm = Trainer.confusion(model, test, 1000, test.classes().size());
        PrintWriter w = spec.commandLine().getOut();
        long correct = 0;
        for (int i = 0; i < cm.length; i++) correct += cm[i][i];
        w.printf(Locale.ROOT, "test accuracy %.4f (%d of %d)%n", (double) correct / test.size(), correct, test.size());
        List<String> classes = test.classes();
        for (int i = 0; i < cm.length; i++) {
            int total = 0;
            for (int j = 0; j < cm.length; j++) total += cm[i][j];
            w.printf(Locale.ROOT, "  %-12s %.4f%n", classes.get(i), total == 0 ? 0 : (double) cm[i][i] / total);
        }
        Path dir = out != null ? out : checkpoint.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Plots.confusion(dir.resolve("confusion.png"), cm, classes);
        w.printf("wrote %s%n", dir.resolve("confusion.png"));
        w.flush();
        return 0;
    }
}
