package org.norm4j.cli.explore;

import java.io.IOException;
import org.norm4j.data.Dataset;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Options of the explore subcommands that train the d2l LeNet-BN recipe (a picocli mixin):
 * how many training and test images, the batch size and SGD's learning rate; d2l's values by default.
 */
final class LeNetRunOptions {
    @Option(names = "--images", defaultValue = "60000", description = "Training images (default: all ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch-size", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1.0", description = "SGD learning rate (default: d2l's ${DEFAULT-VALUE}; 0 freezes the weights).")
    double lr;

    @Option(names = "--test-images", defaultValue = "10000", description = "Test images to measure accuracy on (default: all ${DEFAULT-VALUE}).")
    int testImages;

    void validate(CommandLine cl) {
        if (batchSize < 2) throw new CommandLine.ParameterException(cl, "--batch-size must be at least 2 (batch norm needs 2 values per channel), got " + batchSize);
        if (images < batchSize) throw new CommandLine.ParameterException(cl, "--images must be at least --batch-size (" + batchSize + "), got " + images);
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new CommandLine.ParameterException(cl, "--lr must be a number ≥ 0, got " + lr);
        if (testImages < 1) throw new CommandLine.ParameterException(cl, "--test-images must be at least 1, got " + testImages);
    }

    /** The first --images training images. */
    Dataset train(ExploreOptions common) throws IOException {
        Dataset train = common.load(true);
        return train.limit(Math.min(images, train.size()));
    }

    /** The first --test-images test images. */
    Dataset test(ExploreOptions common) throws IOException {
        Dataset test = common.load(false);
        return test.limit(Math.min(testImages, test.size()));
    }
}
