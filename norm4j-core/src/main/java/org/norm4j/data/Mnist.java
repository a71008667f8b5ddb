package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * MNIST (LeCun, Cortes and Burges): 60000 training and 10000 test images of 28x28 handwritten digits,
 * in the same four IDX file names as Fashion-MNIST. Debian packages no MNIST, so there is no default
 * directory: the caller names one.
 */
public final class Mnist {
    /** Class names, indexed by label: the digits. */
    public static final List<String> CLASSES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    static final String HOW_TO_GET = "put the four MNIST IDX files (train-images-idx3-ubyte.gz, "
            + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzip or not) "
            + "in a directory and pass --data DIR";

    private Mnist() {}

    /**
     * The training split ({@code train-*}) or the test split ({@code t10k-*}), as
     * {@code [N, 1, 28, 28]} in [0, 1].
     *
     * @throws DataNotFoundException if the directory or one of the two files is missing
     * @throws IdxFormatException if a file is malformed
     */
    public static Dataset load(Path dir, boolean train) throws IOException {
        return MnistFiles.load("MNIST", dir, train, CLASSES, HOW_TO_GET);
    }
}
