package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Path;
import org.norm4j.io.FileFormatException;

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
public final class OnnxFormatException extends FileFormatException {
    private static final long serialVersionUID = 1L;

    public OnnxFormatException(Path file, long offset, String problem) {
        super(file, offset, file + ": " + problem + " (at byte " + offset + ")", null);
    }
}
