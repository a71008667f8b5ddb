package org.norm4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file whose bytes are not what its format requires: the common part of norm4j's readers'
 * errors ({@link SafeTensorsFormatException}, {@code IdxFormatException},
 * {@code OnnxFormatException}) — which file, and the byte offset where the problem was found. Each
 * reader words its own message. I/O failures (missing file, permission denied) stay plain
 * {@link IOException}s.
 */
public abstract class FileFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    protected FileFormatException(Path file, long offset, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.offset = offset;
    }

    /** The file that was read (null for bytes that came from memory). */
    public Path file() {
        return file;
    }

    /** Byte offset where the problem was found, as the subclass defines it. */
    public long offset() {
        return offset;
    }
}
