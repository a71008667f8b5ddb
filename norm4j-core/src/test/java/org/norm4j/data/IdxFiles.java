package org.norm4j.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Builds small IDX files for tests. */
final class IdxFiles {
    private IdxFiles() {}

    /** Header (magic, type, rank = dims.length, dims) followed by {@code data}. */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length); // big-endian by default
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] ubyte(int[] dims, byte[] data) {
        return idx(0x08, dims, data);
    }

    static byte[] gzip(byte[] raw) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(raw);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 37 + 11);
        return b;
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * Writes an MNIST-layout split ({@code <split>-images-idx3-ubyte} and labels) with
     * {@code n} images of h x w: pixel (i, p) = (i + p) mod 256, label i = i mod 10.
     */
    static void writeSplit(Path dir, String split, int n, int h, int w, boolean gz) throws IOException {
        byte[] px = new byte[n * h * w];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < h * w; p++) px[i * h * w + p] = (byte) (i + p);
        }
        byte[] lab = new byte[n];
        for (int i = 0; i < n; i++) lab[i] = (byte) (i % 10);
        byte[] images = ubyte(new int[] {n, h, w}, px);
        byte[] labels = ubyte(new int[] {n}, lab);
        String suffix = gz ? ".gz" : "";
        write(dir, split + "-images-idx3-ubyte" + suffix, gz ? gzip(images) : images);
        write(dir, split + "-labels-idx1-ubyte" + suffix, gz ? gzip(labels) : labels);
    }
}
