package org.norm4j.data;

import java.nio.file.Path;
import org.norm4j.io.FileFormatException;

/**
 * An IDX file (or a pair of them) that cannot be read as the data it should hold. The message names
 * the file, the byte offset and what was wrong; for a gzip file the offset counts decompressed
 * bytes, since that is where the IDX layout lives ({@link #offset()}: where reading stopped, from
 * the start of the decompressed stream).
 */
public class IdxFormatException extends FileFormatException {
    private static final long serialVersionUID = 1L;

    /** {@code detail} says what was wrong and mentions {@code offset} in words ("at offset 8"). */
    public IdxFormatException(Path file, long offset, String detail) {
        this(file, offset, detail, null);
    }

    public IdxFormatException(Path file, long offset, String detail, Throwable cause) {
        super(file, offset, file + ": " + detail, cause);
    }
}
