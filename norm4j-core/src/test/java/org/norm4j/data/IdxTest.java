package org.norm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.norm4j.data.IdxFiles.concat;
import static org.norm4j.data.IdxFiles.gzip;
import static org.norm4j.data.IdxFiles.idx;
import static org.norm4j.data.IdxFiles.pattern;
import static org.norm4j.data.IdxFiles.ubyte;
import static org.norm4j.data.IdxFiles.write;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxTest {
    @TempDir
    Path dir;

    /** Writes {@code raw}, gzip-compressed if asked, under a name that does not say which. */
    private Path file(String name, byte[] raw, boolean gz) throws IOException {
        return write(dir, name + (gz ? "-gz" : "-raw") + ".bin", gz ? gzip(raw) : raw);
    }

    /** Asserts an IdxFormatException naming the file and {@code "offset " + offset}; returns it. */
    private static IdxFormatException assertBad(Path f, long offset, String fragment) {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.getFileName().toString()), "names the file: " + m);
        assertTrue(m.contains("offset " + offset), "names offset " + offset + ": " + m);
        assertTrue(m.contains(fragment), "says '" + fragment + "': " + m);
        assertEquals(offset, e.offset(), m);
        assertEquals(f, e.file());
        return e;
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void roundTripsEveryRank(boolean gz) throws IOException {
        int[][] shapes = {{7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2}};
        for (int[] dims : shapes) {
            int n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
            byte[] data = pattern(n);
            IdxData d = Idx.read(file("rank" + dims.length, ubyte(dims, data), gz));
            assertArrayEquals(dims, d.dims());
            assertArrayEquals(data, d.data());
            assertEquals(dims.length, d.rank());
        }
    }

    @Test
    void gzipIsRecognisedByMagicNotName() throws IOException {
        byte[] raw = ubyte(new int[] {2, 2}, new byte[] {1, 2, (byte) 200, (byte) 255});
        IdxData a = Idx.read(write(dir, "looks-compressed.gz", raw));
        IdxData b = Idx.read(write(dir, "looks-raw.idx", gzip(raw)));
        assertEquals(a, b);
        assertEquals(200, b.data()[2] & 0xff, "unsigned bytes");
    }

    @Test
    void largerThanOneBufferRoundTrips() throws IOException {
        byte[] data = pattern(300_001); // several 64 KiB I/O buffers, odd length
        for (boolean gz : new boolean[] {false, true}) {
            IdxData d = Idx.read(file("big", ubyte(new int[] {300_001}, data), gz));
            assertArrayEquals(data, d.data(), "gzip=" + gz);
        }
    }

    @Test
    void dataBufferGrowsWhenTheSizeBoundIsTooSmall() throws IOException {
        // A stream longer than its bound takes the growth path; the result must not change.
        byte[] data = pattern(200_003);
        byte[] raw = ubyte(new int[] {200_003}, data);
        for (long bound : new long[] {0, 10, 65_536, raw.length}) {
            IdxData d = Idx.parse(Path.of("stream"), new ByteArrayInputStream(raw), bound);
            assertArrayEquals(data, d.data(), "bound " + bound);
        }
    }

    @Test
    void dimsAreCopied() throws IOException {
        IdxData d = Idx.read(file("copy", ubyte(new int[] {2, 2}, pattern(4)), false));
        d.dims()[0] = 99;
        assertEquals(2, d.dim(0));
        int[] dims = {4};
        IdxData made = new IdxData(dims, pattern(4));
        dims[0] = 5;
        assertEquals(4, made.dim(0));
        assertThrows(IllegalArgumentException.class, () -> new IdxData(new int[] {3}, pattern(4)));
    }

    @Test
    void missingFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> Idx.read(dir.resolve("absent.idx")));
    }

    // ---- corruptions: each raw and gzip; offsets count decompressed bytes ----

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void truncatedHeader(boolean gz) throws IOException {
        assertBad(file("empty", new byte[0], gz), 0, "truncated header: expected 4 header bytes");
        assertBad(file("three", new byte[] {0, 0, 8}, gz), 3, "file ends after 3");
        byte[] header = ubyte(new int[] {2, 3, 4}, new byte[0]); // 16 bytes
        assertBad(file("dims", Arrays.copyOf(header, 9), gz), 9, "expected 16 header bytes, file ends after 9");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void truncatedData(boolean gz) throws IOException {
        byte[] full = ubyte(new int[] {2, 3, 4}, pattern(24)); // header 16, data 24
        assertBad(file("cut", Arrays.copyOf(full, 30), gz), 30,
                "expected 24 bytes of data at offset 16, file ends after 14 bytes of data (at offset 30)");
        assertBad(file("nodata", Arrays.copyOf(full, 16), gz), 16, "file ends after 0 bytes of data");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void badMagic(boolean gz) throws IOException {
        assertBad(file("magic", new byte[] {0x41, 0x42, 8, 1, 0, 0, 0, 1, 7}, gz), 0, "bad magic 41 42");
        assertBad(file("magic1", new byte[] {0, 1, 8, 1}, gz), 0, "bad magic 00 01");
        assertBad(file("onebyte", new byte[] {0x7f}, gz), 0, "bad magic 7f");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void unsupportedTypeIsNamed(boolean gz) throws IOException {
        assertBad(file("float", idx(0x0D, new int[] {2}, new byte[8]), gz), 2, "0x0D (float32)");
        assertBad(file("sbyte", idx(0x09, new int[] {2}, new byte[2]), gz), 2, "0x09 (signed byte)");
        assertBad(file("junk", idx(0x42, new int[] {2}, new byte[2]), gz), 2, "0x42 (not an IDX type)");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void rankOutOfRange(boolean gz) throws IOException {
        assertBad(file("rank0", new byte[] {0, 0, 8, 0, 1, 2, 3}, gz), 3, "rank 0 at offset 3, expected 1 to 4");
        assertBad(file("rank9", ubyte(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, new byte[1]), gz), 3, "rank 9");
        assertBad(file("rank5", ubyte(new int[] {1, 1, 1, 1, 1}, new byte[1]), gz), 3, "rank 5");
        assertBad(file("rank255", new byte[] {0, 0, 8, (byte) 255}, gz), 3, "rank 255");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void nonPositiveDimension(boolean gz) throws IOException {
        assertBad(file("zero", ubyte(new int[] {3, 0}, new byte[0]), gz), 8, "dimension 1 is 0 at offset 8");
        assertBad(file("neg", ubyte(new int[] {2, 2, -7}, new byte[4]), gz), 12, "dimension 2 is -7");
        assertBad(file("min", ubyte(new int[] {Integer.MIN_VALUE}, new byte[4]), gz), 4, "is -2147483648");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void absurdDimensionsFailBeforeAllocating(boolean gz) throws IOException {
        assertBad(file("2^60", ubyte(new int[] {1 << 30, 1 << 30}, pattern(32)), gz), 4,
                "[1073741824, 1073741824] at offset 4 hold 1152921504606846976 values");
        int m = Integer.MAX_VALUE;
        assertBad(file("max4", ubyte(new int[] {m, m, m, m}, pattern(32)), gz), 4, "a Java array can hold");
        assertBad(file("justover", ubyte(new int[] {Integer.MAX_VALUE - 7}, pattern(32)), gz), 4, "2147483640 values");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void hugeHeaderInTinyFileIsTruncationNotOutOfMemory(boolean gz) throws IOException {
        // 2^15 x 2^15 = 1 GiB fits a Java array; the file holds 100 bytes. The reader must report the
        // truncation having allocated about what the file holds, not 1 GiB.
        assertBad(file("1gib", ubyte(new int[] {1 << 15, 1 << 15}, pattern(100)), gz), 112,
                "expected 1073741824 bytes of data at offset 12, file ends after 100 bytes of data");
        assertBad(file("2gib", ubyte(new int[] {Integer.MAX_VALUE - 8}, pattern(100)), gz), 108,
                "expected 2147483639 bytes of data at offset 8");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void trailingBytes(boolean gz) throws IOException {
        byte[] good = ubyte(new int[] {2, 2}, pattern(4)); // ends at 16
        assertBad(file("trail3", concat(good, new byte[] {1, 2, 3}), gz), 16, "3 trailing bytes after the data at offset 16");
        assertBad(file("trail1", concat(good, new byte[1]), gz), 16, "1 trailing byte after the data");
    }

    @Test
    void corruptGzip() throws IOException {
        byte[] good = gzip(ubyte(new int[] {3, 4, 4}, pattern(48)));
        byte[] badBlock = good.clone();
        badBlock[10] = (byte) 0xFF; // first deflate byte: block type 11 is reserved
        assertBad(write(dir, "block.gz", badBlock), 0, "corrupt gzip stream after 0 decompressed bytes");

        byte[] badCrc = good.clone();
        badCrc[badCrc.length - 8] ^= (byte) 0xFF; // the trailer's CRC-32 is checked after the 64 bytes
        IdxFormatException e = assertBad(write(dir, "crc.gz", badCrc), 64, "corrupt gzip stream after 64");
        assertTrue(e.getCause() instanceof java.util.zip.ZipException, String.valueOf(e.getCause()));

        byte[] badSize = good.clone();
        badSize[badSize.length - 1] ^= 0x01; // ISIZE
        assertBad(write(dir, "isize.gz", badSize), 64, "corrupt gzip stream");

        Path cut = write(dir, "cut.gz", Arrays.copyOf(good, good.length / 2));
        IdxFormatException c = assertThrows(IdxFormatException.class, () -> Idx.read(cut));
        assertTrue(c.getMessage().contains("cut.gz") && c.getMessage().contains("corrupt gzip stream"), c.getMessage());
        assertTrue(c.getCause() instanceof java.io.EOFException, String.valueOf(c.getCause()));

        assertBad(write(dir, "hdr.gz", Arrays.copyOf(good, 5)), 0, "corrupt gzip stream after 0");
        assertBad(write(dir, "magiconly.gz", new byte[] {0x1f, (byte) 0x8b}), 0, "corrupt gzip stream");
    }

    @Test
    void exceptionIsAnIOException() throws IOException {
        Path f = file("io", new byte[] {1}, false);
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertSame(IdxFormatException.class, e.getClass());
    }
}
