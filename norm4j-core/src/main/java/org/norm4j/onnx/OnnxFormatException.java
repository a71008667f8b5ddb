package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An ONNX file that is not valid protobuf, or whose model is inconsistent: a length that runs past
 * the bytes left, a truncated varint, an unknown wire type, a tensor whose data does not match its
 * dims, a graph that refers to a value nobody produces, weights whose shapes do not fit the input.
 * The message names the file, the byte offset where the problem was found and, when one is
 * concerned, the node.
 *
 * <p>Not thrown for I/O failures (missing file, permission denied): those stay plain
 * {@link IOException}s. A valid model that norm4j cannot represent is an
 * {@link UnsupportedOnnxException}.
 */
public final class OnnxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    public OnnxFormatException(Path file, long offset, String problem) {
        super(file + ": " + problem + " (at byte " + offset + ")");
        this.file = file;
        this.offset = offset;
    }

    /** The file that was read (may be null for bytes that came from memory). */
    public Path file() {
        return file;
    }

    /** Byte offset in the file where the problem was found. */
    public long offset() {
        return offset;
    }
}
