package org.norm4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that breaks the format: a bad header length, JSON that does not parse, an
 * unknown dtype, a shape that does not match its bytes, offsets out of range, overlapping tensors
 * or a data region with holes. The message names the file, the tensor (when one is concerned) and
 * the byte offset in the file where the problem was found ({@link #offset()}; 0 is the
 * header-length field).
 *
 * <p>Not thrown for I/O failures (missing file, permission denied): those stay plain
 * {@link IOException}s.
 */
public final class SafeTensorsFormatException extends FileFormatException {
    private static final long serialVersionUID = 1L;

    private final String tensor;

    public SafeTensorsFormatException(Path file, String tensor, long offset, String problem) {
        super(file, offset, file + ": " + (tensor == null ? "" : "tensor \"" + tensor + "\": ") + problem + " (at byte " + offset + ")", null);
        this.tensor = tensor;
    }

    /** The tensor the problem concerns, or null when it concerns the file as a whole. */
    public String tensor() {
        return tensor;
    }
}
