package org.norm4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed (recognised by
 * the gzip magic {@code 1f 8b}, not by the file name).
 *
 * <pre>
 * offset 0        2 zero bytes
 * offset 2        type byte: 0x08 = unsigned byte (the only type read here)
 * offset 3        rank byte r, 1..4
 * offset 4        r big-endian int32 dimensions, outermost first
 * offset 4 + 4r   prod(dims) values, row-major, and then the end of the file
 * </pre>
 *
 * <p>Every departure from that layout is an {@link IdxFormatException} naming the file, the byte
 * offset (in the decompressed stream for gzip) and what was wrong: bad magic, another type, rank 0
 * or above 4, a dimension below 1, more values than a Java array holds, a truncated header or data,
 * bytes after the data, a corrupt gzip stream. A header is never trusted for an allocation: the data
 * buffer starts no larger than the file can hold (for gzip, than deflate's maximum expansion of
 * the compressed size) and grows only as bytes actually arrive, so a lying header in a small file
 * costs little memory. A missing file is {@link java.nio.file.NoSuchFileException}.
 *
 * <p>Not read here: the signed and wider types (0x09, 0x0B–0x0E), which no MNIST-family file uses.
 */
public final class Idx {
    /** The one type byte supported: unsigned byte. */
    public static final int UNSIGNED_BYTE = 0x08;
    public static final int MAX_RANK = 4;
    /** The largest array length every JVM allocates (a few header words below Integer.MAX_VALUE). */
    static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    // Deflate expands at most about 1032:1 (258-byte matches in 2 bits), so this bounds a gzip
    // file's decompressed size well enough to size the first buffer.
    private static final long MAX_INFLATE_RATIO = 1032;
    private static final int IO_BUFFER = 1 << 16;

    private Idx() {}

    /**
     * Reads the whole file.
     *
     * @throws IdxFormatException if the file is not a well-formed unsigned-byte IDX file
     * @throws java.nio.file.NoSuchFileException if it does not exist
     */
    public static IdxData read(Path file) throws IOException {
        long fileSize = Files.size(file);
        try (InputStream fileIn = new BufferedInputStream(Files.newInputStream(file), IO_BUFFER)) {
            fileIn.mark(2);
            int b0 = fileIn.read();
            int b1 = fileIn.read();
            fileIn.reset();
            if (b0 != 0x1f || b1 != 0x8b) {
                return parse(file, fileIn, fileSize);
            }
            Parser p = new Parser(file, null);
            try (InputStream in = new GZIPInputStream(fileIn, IO_BUFFER)) {
                p.in = in;
                long bound = fileSize > Long.MAX_VALUE / MAX_INFLATE_RATIO ? Long.MAX_VALUE
                        : fileSize * MAX_INFLATE_RATIO + IO_BUFFER;
                return p.parse(bound);
            } catch (ZipException | EOFException e) {
                throw new IdxFormatException(file, p.pos, "corrupt gzip stream after " + p.pos
                        + " decompressed bytes (at offset " + p.pos + "): " + e.getMessage(), e);
            }
        }
    }

    /**
     * Parses an already opened, already decompressed stream; {@code sizeBound} is at least its
     * length and sizes the first data buffer. Package-private so tests can force buffer growth.
     */
    static IdxData parse(Path file, InputStream in, long sizeBound) throws IOException {
        return new Parser(file, in).parse(sizeBound);
    }

    /** One pass over the decompressed stream; {@code pos} is the offset of the next byte. */
    private static final class Parser {
        final Path file;
        InputStream in;
        long pos;

        Parser(Path file, InputStream in) {
            this.file = file;
            this.in = in;
        }

        /** {@code sizeBound}: at least the stream's length; sizes the first data buffer. */
        IdxData parse(long sizeBound) throws IOException {
            byte[] head = new byte[4];
            int n = readFully(head, 4);
            if ((n >= 1 && head[0] != 0) || (n >= 2 && head[1] != 0)) {
                throw new IdxFormatException(file, 0, "bad magic " + hex(head, Math.min(n, 2))
                        + " at offset 0: an IDX file starts with two zero bytes (00 00), or is gzip (1f 8b)");
            }
            if (n < 4) throw truncatedHeader(4, n);
            int type = head[2] & 0xff;
            if (type != UNSIGNED_BYTE) {
                throw new IdxFormatException(file, 2, String.format(
                        "unsupported data type 0x%02X (%s) at offset 2: only 0x08 (unsigned byte) is supported",
                        type, typeName(type)));
            }
            int rank = head[3] & 0xff;
            if (rank < 1 || rank > MAX_RANK) {
                throw new IdxFormatException(file, 3, "rank " + rank + " at offset 3, expected 1 to " + MAX_RANK);
            }
            int headerLength = 4 + 4 * rank;
            byte[] dimBytes = new byte[4 * rank];
            n = readFully(dimBytes, dimBytes.length);
            if (n < dimBytes.length) throw truncatedHeader(headerLength, 4 + n);
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                int o = 4 * i;
                dims[i] = (dimBytes[o] & 0xff) << 24 | (dimBytes[o + 1] & 0xff) << 16
                        | (dimBytes[o + 2] & 0xff) << 8 | (dimBytes[o + 3] & 0xff);
                if (dims[i] < 1) {
                    throw new IdxFormatException(file, 4 + o, "dimension " + i + " is " + dims[i] + " at offset "
                            + (4 + o) + ", expected at least 1");
                }
            }
            BigInteger product = BigInteger.ONE;
            for (int d : dims) product = product.multiply(BigInteger.valueOf(d));
            if (product.compareTo(BigInteger.valueOf(MAX_ARRAY_LENGTH)) > 0) {
                throw new IdxFormatException(file, 4, "dimensions " + Arrays.toString(dims) + " at offset 4 hold "
                        + product + " values, more than the " + MAX_ARRAY_LENGTH + " a Java array can hold");
            }
            int count = product.intValueExact();
            return new IdxData(dims, readData(dims, headerLength, count, sizeBound));
        }

        private byte[] readData(int[] dims, int headerLength, int count, long sizeBound) throws IOException {
            byte[] data = new byte[(int) Math.min(count, Math.max(0, sizeBound - headerLength))];
            int got = 0;
            while (got < count) {
                if (got == data.length) {
                    // The file was longer than the bound promised (it cannot be for a raw file):
                    // grow geometrically, never beyond what the header asked for.
                    long grown = Math.max(2L * data.length, (long) data.length + IO_BUFFER);
                    data = Arrays.copyOf(data, (int) Math.min(count, grown));
                }
                int k = in.read(data, got, data.length - got);
                if (k < 0) {
                    throw new IdxFormatException(file, pos, "expected " + count + " bytes of data at offset "
                            + headerLength + ", file ends after " + got + " bytes of data (at offset " + pos + ")");
                }
                got += k;
                pos += k;
            }
            long dataEnd = pos;
            long trailing = in.transferTo(OutputStream.nullOutputStream());
            if (trailing > 0) {
                throw new IdxFormatException(file, dataEnd, trailing + (trailing == 1 ? " trailing byte" : " trailing bytes")
                        + " after the data at offset "
                        + dataEnd + ", where dimensions " + Arrays.toString(dims) + " end the file");
            }
            return data;
        }

        private int readFully(byte[] b, int len) throws IOException {
            int n = in.readNBytes(b, 0, len);
            pos += n;
            return n;
        }

        private IdxFormatException truncatedHeader(int expected, long got) {
            return new IdxFormatException(file, got, "truncated header: expected " + expected
                    + " header bytes, file ends after " + got + " bytes (at offset " + got + ")");
        }
    }

    private static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
        return s.toString();
    }

    /** The IDX type names, for error messages. */
    static String typeName(int type) {
        switch (type) {
            case 0x08: return "unsigned byte";
            case 0x09: return "signed byte";
            case 0x0B: return "int16";
            case 0x0C: return "int32";
            case 0x0D: return "float32";
            case 0x0E: return "float64";
            default: return "not an IDX type";
        }
    }
}
