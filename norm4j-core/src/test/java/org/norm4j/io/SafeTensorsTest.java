package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.io.SafeTensors.DType;
import org.norm4j.io.SafeTensors.Entry;
import org.norm4j.io.SafeTensors.Header;

/** The safetensors reader and writer: the byte layout, every supported dtype, and atomic writes. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    /** Four dtypes, a 0-dim scalar, a zero-size tensor and a non-ASCII name. */
    static Map<String, Entry> sample() {
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("a.weight", Entry.f32(new float[] {1.5f, -2f, 3.25f, Float.NaN, Float.NEGATIVE_INFINITY, 0x1p-149f}, 2, 3));
        t.put("a.num_batches_tracked", Entry.i64Scalar(Long.MAX_VALUE));
        t.put("b.f64", Entry.f64(new double[] {Math.PI, -0.0}, 2));
        t.put("b.i32", Entry.i32(new int[] {Integer.MIN_VALUE, 0, 7}, 3));
        t.put("empty", Entry.f32(new float[0], 0, 4));
        t.put("naïve \"quoted\"\n", Entry.i64(new long[] {-1, 2}, 2, 1));
        return t;
    }

    static Map<String, String> meta() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        m.put("note", "é\t\"x\"");
        return m;
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void roundTripKeepsOrderValuesAndMetadata() throws IOException {
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, sample(), meta());
        Map<String, Entry> back = SafeTensors.read(f);
        assertEquals(List.copyOf(sample().keySet()), List.copyOf(back.keySet()), "header order is map order");
        assertEquals(sample(), back);
        assertEquals(meta(), SafeTensors.metadata(f));
        assertArrayEquals(new long[0], back.get("a.num_batches_tracked").shape());
        assertEquals(Long.MAX_VALUE, back.get("a.num_batches_tracked").longs()[0]);
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f, Float.NaN, Float.NEGATIVE_INFINITY, 0x1p-149f}, back.get("a.weight").floats());
        assertArrayEquals(new double[] {Math.PI, -0.0}, back.get("b.f64").doubles());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, 7}, back.get("b.i32").ints());
        assertEquals(List.of("x.safetensors"), listing(dir), "no temporary file left");
    }

    @Test
    void layoutIsTheSpecification() throws IOException {
        Path f = dir.resolve("x.safetensors");
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("w", Entry.f32(new float[] {1f, 2f}, 2));
        t.put("n", Entry.i64Scalar(3));
        SafeTensors.write(f, t, Map.of());
        byte[] b = Files.readAllBytes(f);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long n = le.getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String json = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}", json.stripTrailing());
        assertTrue(json.substring(json.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        assertEquals(8 + n + 16, b.length);
        assertEquals(1f, le.getFloat((int) (8 + n)));
        assertEquals(2f, le.getFloat((int) (8 + n + 4)));
        assertEquals(3L, le.getLong((int) (8 + n + 8)));
    }

    @Test
    void headerDescribesWithoutReadingData() throws IOException {
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, sample(), meta());
        Header h = SafeTensors.readHeader(f);
        assertEquals(List.copyOf(sample().keySet()), List.copyOf(h.tensors().keySet()));
        assertEquals(DType.F32, h.tensors().get("a.weight").dtype());
        assertArrayEquals(new long[] {2, 3}, h.tensors().get("a.weight").shape());
        assertEquals(24, h.tensors().get("a.weight").byteLength());
        assertEquals(Files.size(f), h.dataStart() + h.dataSize());
        assertEquals(0, h.dataStart() % 8, "data region 8-byte aligned");
    }

    @Test
    void emptyFileOfNoTensors() throws IOException {
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, Map.of(), null);
        assertEquals(16, Files.size(f));
        assertTrue(SafeTensors.read(f).isEmpty());
        assertTrue(SafeTensors.metadata(f).isEmpty());
    }

    @Test
    void whitespaceAndEscapesInForeignHeaders() throws IOException {
        // another writer's formatting: newlines, indentation, escapes, fields in another order
        String json = "{\n  \"__metadata__\" : {\"k\\u00e9\\/\" : \"v\\\\\"},\n"
                + "  \"t\\ud83d\\ude00\" : {\"shape\" : [ 1 ], \"data_offsets\" : [0, 4], \"dtype\" : \"F32\"}\n}\n";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).putFloat(42f);
        Path f = dir.resolve("foreign.safetensors");
        Files.write(f, b.array());
        assertEquals(Map.of("ké/", "v\\"), SafeTensors.metadata(f));
        assertArrayEquals(new float[] {42f}, SafeTensors.read(f).get("t\uD83D\uDE00").floats());
    }

    @Test
    void entryRefusesDataOfTheWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Entry(DType.F32, new long[] {3}, new byte[8]));
        assertTrue(e.getMessage().contains("needs 12 bytes of data, got 8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Entry(DType.F32, new long[] {-1}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new Entry(DType.F32, new long[] {1L << 40, 1L << 40}, new byte[0]));
        assertThrows(IllegalStateException.class, () -> Entry.i64Scalar(1).floats(), "typed accessor checks the dtype");
    }

    // ---- atomic writes -------------------------------------------------------------------

    private Path existing() throws IOException {
        Path f = dir.resolve("model.safetensors");
        SafeTensors.write(f, sample(), meta());
        return f;
    }

    @Test
    void overwriteReplacesTheFile() throws IOException {
        Path f = existing();
        Map<String, Entry> next = Map.of("only", Entry.f32(new float[] {9f}, 1));
        SafeTensors.write(f, next, null);
        assertEquals(next, SafeTensors.read(f));
        assertEquals(List.of("model.safetensors"), listing(dir));
    }

    @Test
    void failureAfterTheTemporaryFileIsWrittenLeavesTheOldFile() throws IOException {
        Path f = existing();
        byte[] before = Files.readAllBytes(f);
        Path[] seen = new Path[1];
        IOException e = assertThrows(IOException.class, () -> SafeTensors.write(f, Map.of("x", Entry.f32(new float[] {1f}, 1)), null,
                tmp -> {
                    seen[0] = tmp;
                    assertEquals(tmp.getParent(), f.getParent(), "temporary file in the target's directory");
                    assertTrue(Files.size(tmp) > 0, "temporary file written before the rename");
                    throw new IOException("simulated: disk full");
                }));
        assertEquals("simulated: disk full", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f), "target untouched");
        assertTrue(Files.notExists(seen[0]), "temporary file deleted");
        assertEquals(List.of("model.safetensors"), listing(dir));
    }

    @Test
    void runtimeFailureAlsoCleansUp() throws IOException {
        Path f = existing();
        byte[] before = Files.readAllBytes(f);
        assertThrows(IllegalStateException.class, () -> SafeTensors.write(f, sample(), null, tmp -> {
            throw new IllegalStateException("simulated");
        }));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing(dir));
    }

    @Test
    void targetThatCannotBeReplacedIsLeftAsItWas() throws IOException {
        Path target = dir.resolve("taken");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> SafeTensors.write(target, sample(), null));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of("taken"), listing(dir), "no temporary file left");
    }

    @Test
    void invalidInputIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path f = existing();
        byte[] before = Files.readAllBytes(f);
        Map<String, Entry> reserved = Map.of("__metadata__", Entry.f32(new float[] {1f}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, reserved, null));
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, sample(), nullValue));
        Map<String, Entry> surrogate = Map.of("bad\uD800", Entry.f32(new float[] {1f}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, surrogate, null));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing(dir));
    }

    @Test
    void unwritableDirectory() throws IOException {
        Path f = existing();
        byte[] before = Files.readAllBytes(f);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-x------"));
        } catch (UnsupportedOperationException notPosix) {
            assumeFalse(true, "no POSIX permissions here");
        }
        try {
            assumeFalse(Files.isWritable(dir), "running as root: permissions do not stop writes");
            assertThrows(IOException.class, () -> SafeTensors.write(f, sample(), null));
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing(dir));
    }
}
