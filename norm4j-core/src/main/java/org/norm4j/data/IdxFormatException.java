package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file (or a pair of them) that cannot be read as the data it should hold. The message names
 * the file, the byte offset and what was wrong; for a gzip file the offset counts decompressed
 * bytes, since that is where the IDX layout lives.
 */
public class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    /** {@code detail} says what was wrong and mentions {@code offset} in words ("at offset 8"). */
    public IdxFormatException(Path file, long offset, String detail) {
        this(file, offset, detail, null);
    }

    public IdxFormatException(Path file, long offset, String detail, Throwable cause) {
        super(file + ": " + detail, cause);
        this.file = file;
        this.offset = offset;
    }

    /** The file that is wrong. */
    public Path file() {
        return file;
    }

    /** Where reading stopped, in bytes from the start of the (decompressed) IDX stream. */
    public long offset() {
        return offset;
    }
}
