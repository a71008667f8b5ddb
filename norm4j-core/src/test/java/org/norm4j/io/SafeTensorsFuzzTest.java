package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.io.SafeTensors.Entry;

/**
 * Damaged files: every truncation, header byte flips, absurd header lengths, random edits of the
 * header text and of its numbers. A damaged file must give a SafeTensorsFormatException naming
 * the file — never another exception, an OutOfMemoryError or a hang (the timeout) — or, where the
 * damage happens to leave a valid file (a flipped letter in a name), read consistently.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SafeTensorsFuzzTest {
    @TempDir
    Path dir;
    Path file;
    byte[] valid;
    int headerLen;

    @BeforeEach
    void validFile() throws IOException {
        Path source = dir.resolve("valid.safetensors");
        SafeTensors.write(source, SafeTensorsTest.sample(), SafeTensorsTest.meta());
        valid = Files.readAllBytes(source);
        headerLen = (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        file = dir.resolve("damaged.safetensors");
    }

    /** Outcome of reading {@code bytes}: null when valid, else the format error; any other throwable fails the test. */
    private SafeTensorsFormatException attempt(String label, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        try {
            SafeTensors.Header h = SafeTensors.readHeader(file);
            Map<String, Entry> all = SafeTensors.read(file);
            assertEquals(h.tensors().keySet(), all.keySet(), label + ": readHeader() and read() agree");
            long covered = 0;
            for (SafeTensors.TensorInfo t : h.tensors().values()) covered += t.byteLength();
            assertEquals(h.dataSize(), covered, label + ": a file that reads has its data region covered");
            return null;
        } catch (SafeTensorsFormatException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), label + ": message names the file: " + e.getMessage());
            assertTrue(e.getMessage().contains("(at byte "), label + ": message gives the offset: " + e.getMessage());
            assertTrue(e.offset() >= 0 && e.offset() <= bytes.length, label + ": offset " + e.offset() + " within the file");
            return e;
        } catch (Throwable t) {
            fail(label + ": expected SafeTensorsFormatException, got " + t, t);
            return null;
        }
    }

    private void mustFail(String label, byte[] bytes, String fragment) throws IOException {
        SafeTensorsFormatException e = attempt(label, bytes);
        if (e == null) fail(label + ": damaged file was accepted");
        assertTrue(e.getMessage().contains(fragment), label + ": message should contain '" + fragment + "': " + e.getMessage());
    }

    private byte[] withLength(long n, byte[] bytes) {
        byte[] b = bytes.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
        return b;
    }

    @Test
    void everyTruncationIsRefused() throws IOException {
        for (int len = 0; len < valid.length; len++) mustFail("truncated to " + len, Arrays.copyOf(valid, len), "");
        assertEquals(null, attempt("whole file", valid));
    }

    @Test
    void absurdHeaderLengths() throws IOException {
        long size = valid.length;
        long[] lengths = {Long.MAX_VALUE, -1L, Long.MIN_VALUE, 0, 1, size - 8 + 1, size, 100_000_001L, 1L << 32, Integer.MAX_VALUE,
                Integer.MAX_VALUE + 1L};
        for (long n : lengths) mustFail("header length " + Long.toUnsignedString(n), withLength(n, valid), "header length");
        mustFail("header length 2", withLength(2, valid), "");     // "{\"" is not JSON
        mustFail("header length one short", withLength(headerLen - 1, valid), "");
        mustFail("header length one long", withLength(headerLen + 1, valid), "");
    }

    @Test
    void headerOverTheHundredMegabyteLimit() throws IOException {
        // a sparse file: large enough that only the 100 MB cap, not the file size, refuses the length
        try (RandomAccessFile r = new RandomAccessFile(file.toFile(), "rw")) {
            r.setLength(100_000_100L);
            byte[] len = withLength(100_000_001L, new byte[8]);
            r.seek(0);
            r.write(len);
        }
        try {
            SafeTensors.read(file);
            fail("accepted");
        } catch (SafeTensorsFormatException e) {
            assertTrue(e.getMessage().contains("the 100 MB limit"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void everyHeaderByteFlipped() throws IOException {
        int accepted = 0, refused = 0;
        for (int i = 8; i < 8 + headerLen; i++) {
            for (int mask : new int[] {0x01, 0x02, 0x20, 0x40, 0x80, 0xFF}) {
                byte[] b = valid.clone();
                b[i] ^= (byte) mask;
                if (attempt("byte " + i + " ^ 0x" + Integer.toHexString(mask), b) == null) accepted++;
                else refused++;
            }
        }
        assertTrue(refused > accepted, "most flips break the header: " + refused + " refused, " + accepted + " accepted");
    }

    @Test
    void lengthFieldBytesFlipped() throws IOException {
        for (int i = 0; i < 8; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] b = valid.clone();
                b[i] ^= (byte) (1 << bit);
                mustFail("length byte " + i + " bit " + bit, b, "");
            }
        }
    }

    @Test
    void randomEditsOfTheHeaderText() throws IOException {
        Random rng = new Random(20240611);
        String json = new String(valid, 8, headerLen, StandardCharsets.UTF_8).stripTrailing();
        byte[] data = Arrays.copyOfRange(valid, 8 + headerLen, valid.length);
        String alphabet = "{}[]\":,0123456789-+.eE \\uFD\u00e9_abnrt\n";
        for (int k = 0; k < 3000; k++) {
            StringBuilder s = new StringBuilder(json);
            int edits = 1 + rng.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = rng.nextInt(s.length() + 1);
                switch (rng.nextInt(4)) {
                    case 0 -> { if (at < s.length()) s.deleteCharAt(at); }
                    case 1 -> s.insert(at, alphabet.charAt(rng.nextInt(alphabet.length())));
                    case 2 -> { if (at < s.length()) s.setCharAt(at, alphabet.charAt(rng.nextInt(alphabet.length()))); }
                    default -> {
                        int from = rng.nextInt(s.length()), to = Math.min(s.length(), from + rng.nextInt(40));
                        s.insert(at, s.substring(from, to));
                    }
                }
            }
            attempt("edit " + k + ": " + s, file(s.toString().getBytes(StandardCharsets.UTF_8), data));
        }
    }

    @Test
    void randomNumbersInTheHeader() throws IOException {
        Random rng = new Random(7);
        String json = new String(valid, 8, headerLen, StandardCharsets.UTF_8).stripTrailing();
        byte[] data = Arrays.copyOfRange(valid, 8 + headerLen, valid.length);
        String[] values = {"0", "1", "-1", "4", "24", "2147483647", "2147483648", "4294967296", "9223372036854775807",
                "9223372036854775808", "18446744073709551616", "1e3", "0.5", "-0", "00", "3037000500", "1000000"};
        Matcher m = Pattern.compile("\\d+").matcher(json);
        List<int[]> numbers = new java.util.ArrayList<>();
        while (m.find()) numbers.add(new int[] {m.start(), m.end()});
        for (int k = 0; k < 2000; k++) {
            int[] n = numbers.get(rng.nextInt(numbers.size()));
            String v = values[rng.nextInt(values.length)];
            String s = json.substring(0, n[0]) + v + json.substring(n[1]);
            attempt("number at " + n[0] + " := " + v, file(s.getBytes(StandardCharsets.UTF_8), data));
        }
    }

    @Test
    void randomBytesAnywhere() throws IOException {
        Random rng = new Random(99);
        for (int k = 0; k < 2000; k++) {
            byte[] b = valid.clone();
            int flips = 1 + rng.nextInt(4);
            for (int f = 0; f < flips; f++) b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            attempt("random bytes " + k, b);
        }
        for (int k = 0; k < 200; k++) {
            byte[] b = new byte[rng.nextInt(64)];
            rng.nextBytes(b);
            attempt("noise " + k, b);
        }
    }

    @Test
    void craftedHeaders() throws IOException {
        byte[] d12 = new byte[12];
        mustFail("overlap", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", d12), "overlap tensor \"a\"");
        mustFail("same range twice", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[0,12]}}", d12), "overlap");
        mustFail("empty tensor inside another", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", d12), "overlap");
        mustFail("out of range", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}}", d12), "past the end");
        mustFail("unknown dtype", file("{\"a\":{\"dtype\":\"Q7\",\"shape\":[3],\"data_offsets\":[0,12]}}", d12), "unknown dtype \"Q7\"");
        mustFail("shape/length", file("{\"a\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,12]}}", d12), "needs 24");
        mustFail("hole at start", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", d12), "no tensor");
        mustFail("no tensors, data", file("{}", d12), "belong to no tensor");
        mustFail("metadata only, data", file("{\"__metadata__\":{}}", d12), "belong to no tensor");
        mustFail("duplicate metadata", file("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0]), "duplicate key");
        mustFail("zero dim, non-zero bytes", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,12]}}", d12), "needs 0");
        // zero-size tensors may share an offset with each other and sit at a boundary
        assertEquals(null, attempt("zero-size at boundaries", file("{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[0,2],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"w\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[12,12]}}", d12)));
        SafeTensorsFormatException e = attempt("names the tensor", file("{\"ok\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"bad\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,13]}}", d12));
        assertEquals("bad", e.tensor());
        assertTrue(e.offset() > 8, "offset points into the header: " + e.offset());
    }

    /** A file with the given header text (padded to 8) and data. */
    static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    static byte[] file(byte[] header, byte[] data) {
        int n = (header.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(8 + n + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(header);
        for (int i = header.length; i < n; i++) b.put((byte) ' ');
        return b.put(data).array();
    }
}
