package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * An in-memory image classification data set: single-channel images as float32 {@code [N, 1, H, W]}
 * (row-major, one image after another) and one integer label per image.
 *
 * <p>Pixels read from IDX files are scaled to [0, 1] as {@code byte / 255f}, exactly what
 * torchvision's {@code ToTensor} (and so the d2l book) computes in float32; nothing else
 * (no mean/std normalization) is applied.
 *
 * <p>A dataset never changes after construction. {@link #images()} and {@link #labels()} return the
 * arrays themselves, not copies (the training images are 188 MB): treat them as read-only.
 */
public final class Dataset {
    private final String name;
    private final float[] images; // [N, 1, H, W]
    private final int[] labels;   // [N], each in [0, classes.size())
    private final int height;
    private final int width;
    private final List<String> classes;

    // byte value v -> v / 255f, the float32 quotient ToTensor computes.
    private static final float[] SCALE = new float[256];

    static {
        for (int v = 0; v < 256; v++) SCALE[v] = v / 255f;
    }

    /**
     * Takes ownership of {@code images} and {@code labels} (no copy).
     *
     * @throws IllegalArgumentException if the sizes disagree or a label is not an index into
     *     {@code classes}
     */
    public Dataset(String name, float[] images, int[] labels, int height, int width, List<String> classes) {
        this.classes = List.copyOf(classes);
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("Dataset(" + name + "): image size " + height + "x" + width
                    + ", expected both at least 1");
        }
        if (this.classes.isEmpty()) throw new IllegalArgumentException("Dataset(" + name + "): no classes");
        long expected = (long) labels.length * height * width;
        if (images.length != expected) {
            throw new IllegalArgumentException("Dataset(" + name + "): " + labels.length + " labels of " + height
                    + "x" + width + " images need " + expected + " pixels, got " + images.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= this.classes.size()) {
                throw new IllegalArgumentException("Dataset(" + name + "): label " + labels[i] + " of item " + i
                        + ", expected 0 to " + (this.classes.size() - 1));
            }
        }
        this.name = name;
        this.images = images;
        this.labels = labels;
        this.height = height;
        this.width = width;
    }

    /**
     * Reads an images file {@code [N, H, W]} and a labels file {@code [N]}, both unsigned-byte IDX.
     *
     * @throws IdxFormatException if either file is malformed, the ranks are not 3 and 1, the counts
     *     differ (the message names both files) or a label is not an index into {@code classes}
     */
    public static Dataset fromIdx(String name, Path imagesFile, Path labelsFile, List<String> classes)
            throws IOException {
        IdxData img = Idx.read(imagesFile);
        if (img.rank() != 3) {
            throw new IdxFormatException(imagesFile, 3, "rank " + img.rank() + " at offset 3, expected 3 for images "
                    + "[N, H, W] (dimensions " + Arrays.toString(img.dims()) + ")");
        }
        IdxData lab = Idx.read(labelsFile);
        if (lab.rank() != 1) {
            throw new IdxFormatException(labelsFile, 3, "rank " + lab.rank() + " at offset 3, expected 1 for labels "
                    + "[N] (dimensions " + Arrays.toString(lab.dims()) + ")");
        }
        int n = img.dim(0);
        if (lab.dim(0) != n) {
            throw new IdxFormatException(labelsFile, 4, lab.dim(0) + " labels (dimension 0 at offset 4), but "
                    + imagesFile + " holds " + n + " images");
        }
        byte[] labelBytes = lab.data();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = labelBytes[i] & 0xff;
            if (labels[i] >= classes.size()) {
                throw new IdxFormatException(labelsFile, 8 + i, "label " + labels[i] + " at offset " + (8 + i)
                        + " (item " + i + "), expected 0 to " + (classes.size() - 1));
            }
        }
        byte[] pixels = img.data();
        float[] images = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) images[i] = SCALE[pixels[i] & 0xff];
        return new Dataset(name, images, labels, img.dim(1), img.dim(2), classes);
    }

    /** The first {@code n} items (all of them if {@code n >= size()}), copied. */
    public Dataset limit(int n) {
        if (n < 0) throw new IllegalArgumentException("Dataset(" + name + ").limit(" + n + "): n must be at least 0");
        if (n >= size()) return this;
        return new Dataset(name, Arrays.copyOf(images, n * height * width), Arrays.copyOf(labels, n), height,
                width, classes);
    }

    public String name() {
        return name;
    }

    /** N, the number of images. */
    public int size() {
        return labels.length;
    }

    /** All images, {@code [N, 1, H, W]} row-major, values in [0, 1]; shared, do not modify. */
    public float[] images() {
        return images;
    }

    /** All labels, {@code [N]}, each an index into {@link #classes()}; shared, do not modify. */
    public int[] labels() {
        return labels;
    }

    /** Always 1: the images are single-channel. */
    public int channels() {
        return 1;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** {@code [N, 1, H, W]}. */
    public int[] shape() {
        return new int[] {size(), 1, height, width};
    }

    /** Class names, indexed by label. */
    public List<String> classes() {
        return classes;
    }

    @Override
    public String toString() {
        return "Dataset(" + name + ", " + Arrays.toString(shape()) + ", " + classes.size() + " classes)";
    }
}
