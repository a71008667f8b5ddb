package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60000 training and 10000 test images of 28x28
 * grey clothing pictures in ten classes, in MNIST's four IDX files.
 *
 * <p>Where the files are: the {@code --data} option, else the environment variable
 * {@value #ENV}, else {@link #DEFAULT_DIR}, where Debian's package {@code dataset-fashion-mnist}
 * installs them.
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} package puts the four gzip files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The environment variable naming the data directory when no {@code --data} is given. */
    public static final String ENV = "NORM4J_DATA";
    /** Class names, indexed by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    static final String HOW_TO_GET = "install Debian's package with 'sudo apt-get install dataset-fashion-mnist', "
            + "or put the four IDX files in a directory and pass --data DIR (or set " + ENV + ")";

    private FashionMnist() {}

    /**
     * The training split ({@code train-*}, 60000 images) or the test split ({@code t10k-*}, 10000),
     * as {@code [N, 1, 28, 28]} in [0, 1].
     *
     * @throws DataNotFoundException if the directory or one of the two files is missing; the
     *     message says how to get the data
     * @throws IdxFormatException if a file is malformed
     */
    public static Dataset load(Path dir, boolean train) throws IOException {
        return MnistFiles.load("Fashion-MNIST", dir, train, CLASSES, HOW_TO_GET);
    }

    /**
     * The data directory: {@code option} (the {@code --data} value) if not null, else
     * {@code $NORM4J_DATA} if set and not blank, else {@link #DEFAULT_DIR}. Does not check that it exists;
     * {@link #load} does.
     */
    public static Path resolveDir(String option) {
        return resolveDir(option, System::getenv);
    }

    static Path resolveDir(String option, Function<String, String> env) {
        if (option != null) return Path.of(option);
        String fromEnv = env.apply(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return Path.of(fromEnv);
        return DEFAULT_DIR;
    }
}
