package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.norm4j.data.IdxFiles.gzip;
import static org.norm4j.data.IdxFiles.ubyte;
import static org.norm4j.data.IdxFiles.write;
import static org.norm4j.data.IdxFiles.writeSplit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path dir;

    // ---- the real data set, where Debian's dataset-fashion-mnist is installed ----

    private static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR),
                FashionMnist.DEFAULT_DIR + " absent: sudo apt-get install dataset-fashion-mnist");
    }

    private static void checkReal(Dataset d, int n) {
        assertEquals(n, d.size());
        assertEquals(28, d.height());
        assertEquals(28, d.width());
        assertArrayEquals(new int[] {n, 1, 28, 28}, d.shape());
        assertEquals(n * 28 * 28, d.images().length);
        assertEquals(FashionMnist.CLASSES, d.classes());
        int[] perClass = new int[10];
        for (int y : d.labels()) perClass[y]++; // also proves 0 <= y <= 9
        for (int c = 0; c < 10; c++) assertEquals(n / 10, perClass[c], "Fashion-MNIST is balanced: class " + c);
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float v : d.images()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(0f, min);
        assertEquals(1f, max, "some pixel is 255");
    }

    @Test
    void realTrainingAndTestSplits() throws IOException {
        assumeInstalled();
        Dataset train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
        checkReal(train, 60000);
        // Checked against the files: labels start 09 00 00 03 (train) and 09 02 01 01 (t10k).
        assertEquals(9, train.labels()[0]);
        assertEquals("Ankle boot", train.classes().get(train.labels()[0]));
        assertArrayEquals(new int[] {9, 0, 0, 3}, java.util.Arrays.copyOf(train.labels(), 4));
        Dataset test = FashionMnist.load(FashionMnist.DEFAULT_DIR, false);
        checkReal(test, 10000);
        assertEquals(9, test.labels()[0]);
        assertArrayEquals(new int[] {9, 2, 1, 1}, java.util.Arrays.copyOf(test.labels(), 4));
        assertEquals(235, new DataLoader(train, 256, true, 0).batchesPerEpoch());
        assertEquals(40, new DataLoader(test, 256, false, 0).batchesPerEpoch());
    }

    // ---- finding the data ----

    @Test
    void missingDirectorySaysHowToGetTheData() {
        Path absent = dir.resolve("nowhere");
        DataNotFoundException e = assertThrows(DataNotFoundException.class, () -> FashionMnist.load(absent, true));
        String m = e.getMessage();
        assertTrue(m.startsWith("Fashion-MNIST not found in " + absent + " "), m);
        assertTrue(m.contains("train-images-idx3-ubyte.gz"), m);
        assertTrue(m.contains("'sudo apt-get install dataset-fashion-mnist'"), m);
        assertTrue(m.contains("--data DIR") && m.contains("NORM4J_DATA"), m);
        assertFalse(m.contains("\n"), "one line: " + m);
        assertEquals(absent, e.dir());
    }

    @Test
    void missingFileIsNamed() throws IOException {
        writeSplit(dir, "train", 5, 3, 2, true);
        Files.delete(dir.resolve("train-labels-idx1-ubyte.gz"));
        DataNotFoundException e = assertThrows(DataNotFoundException.class, () -> FashionMnist.load(dir, true));
        assertTrue(e.getMessage().contains("looked for train-labels-idx1-ubyte.gz or train-labels-idx1-ubyte"),
                e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        DataNotFoundException t = assertThrows(DataNotFoundException.class, () -> FashionMnist.load(dir, false));
        assertTrue(t.getMessage().contains("t10k-images-idx3-ubyte.gz"), t.getMessage());
    }

    @Test
    void gzipAndRawNamesBothLoad() throws IOException {
        writeSplit(dir, "train", 12, 3, 2, true);
        writeSplit(dir, "t10k", 7, 3, 2, false);
        Dataset train = FashionMnist.load(dir, true);
        Dataset test = FashionMnist.load(dir, false);
        assertEquals(12, train.size());
        assertEquals(7, test.size());
        assertArrayEquals(new int[] {7, 1, 3, 2}, test.shape());
        assertEquals("Fashion-MNIST train", train.name());
        // pixel (i, p) = (i + p) mod 256, scaled as ToTensor does
        assertEquals((5 + 4) / 255f, train.images()[5 * 6 + 4]);
        assertEquals(11 % 10, train.labels()[11]);
    }

    @Test
    void pixelsScaleExactlyLikeToTensor() throws IOException {
        byte[] px = new byte[256];
        for (int v = 0; v < 256; v++) px[v] = (byte) v;
        Path images = write(dir, "i", ubyte(new int[] {1, 16, 16}, px));
        Path labels = write(dir, "l", ubyte(new int[] {1}, new byte[] {3}));
        Dataset d = Dataset.fromIdx("scale", images, labels, FashionMnist.CLASSES);
        for (int v = 0; v < 256; v++) {
            // torch: uint8 tensor .float().div(255), a correctly rounded float32 quotient
            assertEquals((float) v / 255f, d.images()[v], "byte " + v);
            assertEquals((float) ((double) v / 255.0), d.images()[v], "byte " + v + " vs double quotient rounded");
        }
        assertEquals(0f, d.images()[0]);
        assertEquals(1f, d.images()[255]);
    }

    @Test
    void mnistUsesTheSameFilesWithDigitClasses() throws IOException {
        writeSplit(dir, "t10k", 4, 2, 2, true);
        Dataset d = Mnist.load(dir, false);
        assertEquals(4, d.size());
        assertEquals("3", d.classes().get(3));
        DataNotFoundException e = assertThrows(DataNotFoundException.class, () -> Mnist.load(dir, true));
        assertTrue(e.getMessage().startsWith("MNIST not found in "), e.getMessage());
        assertTrue(e.getMessage().contains("--data DIR"), e.getMessage());
    }

    @Test
    void resolveDirPrefersOptionThenEnvironmentThenDebianDefault() {
        Map<String, String> env = Map.of("NORM4J_DATA", "/from/env");
        assertEquals(Path.of("/opt/x"), FashionMnist.resolveDir("/opt/x", env::get));
        assertEquals(Path.of("/from/env"), FashionMnist.resolveDir(null, env::get));
        assertEquals(FashionMnist.DEFAULT_DIR, FashionMnist.resolveDir(null, k -> null));
        assertEquals(FashionMnist.DEFAULT_DIR, FashionMnist.resolveDir(null, k -> "  "));
        assertEquals(Path.of("/usr/share/datasets/fashion-mnist"), FashionMnist.DEFAULT_DIR);
        String fromEnv = System.getenv("NORM4J_DATA");
        Path expected = fromEnv != null && !fromEnv.isBlank() ? Path.of(fromEnv) : FashionMnist.DEFAULT_DIR;
        assertEquals(expected, FashionMnist.resolveDir(null));
    }

    @Test
    void classNames() {
        assertEquals(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                "Bag", "Ankle boot"), FashionMnist.CLASSES);
    }

    // ---- a pair of files that disagree ----

    @Test
    void countMismatchNamesBothFiles() throws IOException {
        Path images = write(dir, "imgs.idx", ubyte(new int[] {3, 2, 2}, new byte[12]));
        Path labels = write(dir, "labs.idx.gz", gzip(ubyte(new int[] {4}, new byte[4])));
        IdxFormatException e = assertThrows(IdxFormatException.class,
                () -> Dataset.fromIdx("pair", images, labels, FashionMnist.CLASSES));
        String m = e.getMessage();
        assertTrue(m.contains("imgs.idx") && m.contains("labs.idx.gz"), m);
        assertTrue(m.contains("4 labels") && m.contains("3 images"), m);
        assertEquals(4, e.offset());
    }

    @Test
    void wrongRanksAndLabelsAreRejected() throws IOException {
        Path flat = write(dir, "flat", ubyte(new int[] {12}, new byte[12]));
        Path images = write(dir, "imgs", ubyte(new int[] {3, 2, 2}, new byte[12]));
        Path labels = write(dir, "labs", ubyte(new int[] {3}, new byte[] {0, 10, 1}));
        IdxFormatException r = assertThrows(IdxFormatException.class,
                () -> Dataset.fromIdx("r", flat, labels, FashionMnist.CLASSES));
        assertTrue(r.getMessage().contains("flat") && r.getMessage().contains("expected 3"), r.getMessage());
        IdxFormatException l = assertThrows(IdxFormatException.class,
                () -> Dataset.fromIdx("l", images, labels, FashionMnist.CLASSES));
        assertTrue(l.getMessage().contains("label 10 at offset 9 (item 1), expected 0 to 9"), l.getMessage());
        IdxFormatException lr = assertThrows(IdxFormatException.class,
                () -> Dataset.fromIdx("lr", images, images, FashionMnist.CLASSES));
        assertTrue(lr.getMessage().contains("expected 1 for labels"), lr.getMessage());
    }

    // ---- Dataset itself ----

    @Test
    void limitCopiesThePrefix() {
        float[] x = new float[5 * 6];
        for (int i = 0; i < x.length; i++) x[i] = i;
        Dataset d = new Dataset("d", x, new int[] {0, 1, 2, 3, 4}, 2, 3, FashionMnist.CLASSES);
        Dataset two = d.limit(2);
        assertEquals(2, two.size());
        assertArrayEquals(java.util.Arrays.copyOf(x, 12), two.images());
        assertArrayEquals(new int[] {0, 1}, two.labels());
        assertEquals(d.classes(), two.classes());
        assertSame(d, d.limit(5));
        assertSame(d, d.limit(100));
        assertEquals(0, d.limit(0).size());
        assertThrows(IllegalArgumentException.class, () -> d.limit(-1));
    }

    @Test
    void constructorChecksSizesAndLabels() {
        List<String> c = List.of("a", "b");
        assertThrows(IllegalArgumentException.class, () -> new Dataset("d", new float[5], new int[] {0}, 2, 3, c));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("d", new float[6], new int[] {2}, 2, 3, c));
        assertTrue(e.getMessage().contains("label 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dataset("d", new float[0], new int[0], 0, 3, c));
        assertThrows(IllegalArgumentException.class, () -> new Dataset("d", new float[0], new int[0], 2, 3, List.of()));
    }
}
