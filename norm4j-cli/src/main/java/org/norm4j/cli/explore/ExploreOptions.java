package org.norm4j.cli.explore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ProgressBar;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import picocli.CommandLine.Option;

/**
 * Options every {@code norm4j explore} subcommand shares (a picocli mixin): where the data is,
 * where the pictures go, the seed and whether to draw progress bars; and the helpers that act on
 * them. Not a place for experiment logic.
 */
final class ExploreOptions {
    @Option(names = "--out", description = "Directory for the PNGs, the CSV and report.md (default: runs/explore-<subcommand>).")
    Path out;

    @Option(names = "--data", description = "Directory of the four Fashion-MNIST IDX files (default: $NORM4J_DATA, else /usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialization and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-progress", description = "No progress bar (the summary lines only).")
    boolean noProgress;

    /** The output directory, created: --out, else runs/explore-{@code name}. */
    Path outDir(String name) throws IOException {
        Path dir = out != null ? out : Path.of("runs", "explore-" + name);
        Files.createDirectories(dir);
        return dir;
    }

    Path dataDir() {
        return FashionMnist.resolveDir(data);
    }

    /** The training or test split; a missing data set is a one-line error that says how to get it. */
    Dataset load(boolean train) throws IOException {
        return FashionMnist.load(dataDir(), train);
    }

    /** A progress bar on stderr, or null with --no-progress. Close it (try-with-resources accepts null). */
    ProgressBar bar(String task, long max) {
        if (noProgress) return null;
        return org.norm4j.cli.ProgressBars.onStderr(task, max);
    }
}
