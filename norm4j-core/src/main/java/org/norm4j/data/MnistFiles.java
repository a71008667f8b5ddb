package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The four-file layout MNIST and Fashion-MNIST share: {@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte},
 * each gzip ({@code .gz}, looked for first) or raw.
 */
final class MnistFiles {
    private MnistFiles() {}

    static Dataset load(String setName, Path dir, boolean train, List<String> classes, String howToGet)
            throws IOException {
        String split = train ? "train" : "t10k";
        Path images = find(setName, dir, split + "-images-idx3-ubyte", howToGet);
        Path labels = find(setName, dir, split + "-labels-idx1-ubyte", howToGet);
        return Dataset.fromIdx(setName + (train ? " train" : " test"), images, labels, classes);
    }

    private static Path find(String setName, Path dir, String base, String howToGet) throws DataNotFoundException {
        String lookedFor = "looked for " + base + ".gz or " + base;
        if (!Files.isDirectory(dir)) {
            throw new DataNotFoundException(dir, setName + " not found in " + dir + " (no such directory; " + lookedFor
                    + "): " + howToGet);
        }
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        throw new DataNotFoundException(dir, setName + " not found in " + dir + " (" + lookedFor + "): " + howToGet);
    }
}
