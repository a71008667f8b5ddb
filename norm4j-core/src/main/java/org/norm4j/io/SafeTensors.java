package org.norm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face safetensors format: an 8-byte little-endian unsigned header length N, N bytes
 * of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}}, then the data region: each tensor little-endian in C order
 * at [begin, end) relative to the start of the region. The tensors tile the region exactly.
 *
 * <p>Reading trusts nothing: the header length is checked against the file size (and a 100 MB cap)
 * before anything is allocated; the JSON, every dtype, shape and offset are validated; tensors
 * may not overlap nor leave holes. Any violation is a {@link SafeTensorsFormatException} naming the
 * file, the tensor and the byte offset. Writing is atomic: a temporary file in the target's
 * directory, forced to disk, then renamed over the target; a failed write leaves the target as it
 * was and no temporary file behind.
 *
 * <p>Not a memory-mapped or lazy reader: {@link #read} loads every tensor into a {@code byte[]}
 * (at most 2^31 − 9 bytes per tensor). {@link #readHeader} reads only the header.
 */
public final class SafeTensors {
    /** Largest header accepted, as the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private SafeTensors() {}

    /** The element types of the format, with their sizes in bytes. Values are typed by {@link Entry}'s accessors for F32, F64, I32 and I64. */
    public enum DType {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4), F64(8), I64(8), U64(8);

        private final int size;

        DType(int size) {
            this.size = size;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        /** The dtype named exactly {@code name} in a header ("F32"), or null. */
        public static DType parse(String name) {
            for (DType d : values()) if (d.name().equals(name)) return d;
            return null;
        }

        static String namesList() {
            return String.join(", ", Arrays.stream(values()).map(Enum::name).toArray(String[]::new));
        }
    }

    /**
     * One tensor: dtype, shape ({@code []} for a 0-dim scalar, one element) and its raw
     * little-endian bytes. The data array is not copied: do not modify it after handing it over.
     *
     * @throws IllegalArgumentException if a dimension is negative or data does not hold exactly
     *                                  prod(shape)·dtype.size() bytes
     */
    public record Entry(DType dtype, long[] shape, byte[] data) {
        public Entry {
            if (dtype == null || shape == null || data == null) throw new IllegalArgumentException("Entry: dtype, shape and data must not be null");
            shape = shape.clone();
            long bytes = byteLength(dtype, shape);
            if (bytes != data.length) {
                throw new IllegalArgumentException("Entry " + dtype + " " + str(shape) + ": needs " + bytes + " bytes of data, got "
                        + data.length);
            }
        }

        public static Entry f32(float[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(checkedBytes(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            return new Entry(DType.F32, shape, buf.array());
        }

        public static Entry f64(double[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(checkedBytes(values.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
            buf.asDoubleBuffer().put(values);
            return new Entry(DType.F64, shape, buf.array());
        }

        public static Entry i32(int[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(checkedBytes(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
            buf.asIntBuffer().put(values);
            return new Entry(DType.I32, shape, buf.array());
        }

        public static Entry i64(long[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(checkedBytes(values.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(values);
            return new Entry(DType.I64, shape, buf.array());
        }

        /** A 0-dim I64 scalar (shape []), as PyTorch's num_batches_tracked. */
        public static Entry i64Scalar(long value) {
            return i64(new long[] {value});
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long numel() {
            return data.length / dtype.size;
        }

        public float[] floats() {
            float[] v = new float[(int) numel()];
            le(DType.F32).asFloatBuffer().get(v);
            return v;
        }

        public double[] doubles() {
            double[] v = new double[(int) numel()];
            le(DType.F64).asDoubleBuffer().get(v);
            return v;
        }

        public int[] ints() {
            int[] v = new int[(int) numel()];
            le(DType.I32).asIntBuffer().get(v);
            return v;
        }

        public long[] longs() {
            long[] v = new long[(int) numel()];
            le(DType.I64).asLongBuffer().get(v);
            return v;
        }

        private ByteBuffer le(DType want) {
            if (dtype != want) throw new IllegalStateException("Entry " + dtype + " " + str(shape) + ": holds " + dtype + ", not " + want);
            return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        private static int checkedBytes(int n, int size) {
            if (n > (Integer.MAX_VALUE - 8) / size) throw new IllegalArgumentException("Entry: " + n + " values do not fit a byte[]");
            return n * size;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && e.dtype == dtype && Arrays.equals(e.shape, shape) && Arrays.equals(e.data, data);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return dtype + " " + str(shape);
        }
    }

    /** What the header says about one tensor; begin and end are relative to the data region. */
    public record TensorInfo(DType dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long numel() {
            return (end - begin) / dtype.size;
        }

        public long byteLength() {
            return end - begin;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.begin == begin && t.end == end;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(shape) * 31 + Long.hashCode(begin) * 17 + dtype.hashCode();
        }

        @Override
        public String toString() {
            return dtype + " " + str(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    /**
     * A validated header: the tensors in header order, the {@code __metadata__} strings (empty when
     * absent), where the data region starts in the file and how long it is.
     */
    public record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart, long dataSize) {
        public Header {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    // ---- reading -------------------------------------------------------------------------

    /** Reads and validates the header only (the data region's extent is checked, its bytes are not read). */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return parseHeader(file, ch);
        }
    }

    /** The {@code __metadata__} strings of a file (empty when it has none), after validating its header. */
    public static Map<String, String> metadata(Path file) throws IOException {
        return readHeader(file).metadata();
    }

    /** Every tensor of a valid file and its {@code __metadata__}, read in one pass. */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    /** Every tensor of a valid file, in header order. */
    public static Map<String, Entry> read(Path file) throws IOException {
        return readContents(file).tensors();
    }

    /** Every tensor of a valid file, in header order, and its metadata. */
    public static Contents readContents(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = parseHeader(file, ch);
            Map<String, Entry> out = new LinkedHashMap<>();
            for (Map.Entry<String, TensorInfo> e : h.tensors().entrySet()) {
                TensorInfo t = e.getValue();
                if (t.byteLength() > Integer.MAX_VALUE - 8) {
                    throw new SafeTensorsFormatException(file, e.getKey(), h.dataStart() + t.begin(), t.byteLength()
                            + " bytes of data, more than one Java array holds (readHeader() can still describe it)");
                }
                byte[] data = new byte[(int) t.byteLength()];   // bounded by the file size: checked in the header
                readFully(file, e.getKey(), ch, ByteBuffer.wrap(data), h.dataStart() + t.begin());
                out.put(e.getKey(), new Entry(t.dtype(), t.shape(), data));
            }
            return new Contents(out, h.metadata());
        }
    }

    private static Header parseHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new SafeTensorsFormatException(file, null, 0, "the file is " + size + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lenField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, null, ch, lenField, 0);
        long n = lenField.getLong(0);   // unsigned in the format: negative here means ≥ 2^63
        long limit = Math.min(size - 8, MAX_HEADER_BYTES);
        if (n < 2 || n > limit) {
            String why = n >= 0 && n < 2 ? "less than 2 (the smallest header is \"{}\")"
                    : "more than " + (limit == MAX_HEADER_BYTES ? "the 100 MB limit" : "the " + (size - 8) + " bytes after the length field");
            throw new SafeTensorsFormatException(file, null, 0, "header length " + Long.toUnsignedString(n) + " is " + why
                    + " (file size " + size + ")");
        }
        byte[] header = new byte[(int) n];
        readFully(file, null, ch, ByteBuffer.wrap(header), 8);
        return new HeaderParser(file, header, size - 8 - n).parse();
    }

    private static void readFully(Path file, String tensor, FileChannel ch, ByteBuffer buf, long at) throws IOException {
        long p = at;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) throw new SafeTensorsFormatException(file, tensor, p, "the file ended early (did it change while being read?)");
            p += r;
        }
    }

    // ---- writing -------------------------------------------------------------------------

    /**
     * Writes {@code tensors} (in map order) and {@code metadata} atomically: the target is either
     * replaced by the complete new file or, on any failure, left as it was. The header is padded
     * with spaces to a multiple of 8 bytes so that the data region is 8-byte aligned.
     *
     * @throws IllegalArgumentException for a null or empty name, the reserved name
     *                                  "__metadata__", a null metadata key or value, or a string that is not valid Unicode
     */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, tmp -> {});
    }

    static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata, AtomicFile.BeforeCommit beforeCommit)
            throws IOException {
        if (file == null || tensors == null) throw new IllegalArgumentException("SafeTensors.write: file and tensors must not be null");
        List<Entry> order = new ArrayList<>(tensors.size());
        byte[] header = encodeHeader(tensors, metadata == null ? Map.of() : metadata, order);
        AtomicFile.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFile.writeFully(ch, len);
            AtomicFile.writeFully(ch, ByteBuffer.wrap(header));
            for (Entry e : order) AtomicFile.writeFully(ch, ByteBuffer.wrap(e.data()));
        }, beforeCommit);
    }

    /** The padded header bytes; fills {@code order} with the entries in data order. Validates before anything is written. */
    private static byte[] encodeHeader(Map<String, Entry> tensors, Map<String, String> metadata, List<Entry> order) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("SafeTensors.write: metadata key and value must not be null, got " + m.getKey()
                            + "=" + m.getValue());
                }
                json.append(first ? "" : ",");
                quote(json, m.getKey()).append(':');
                quote(json, m.getValue());
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            String name = t.getKey();
            Entry e = t.getValue();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("SafeTensors.write: invalid tensor name " + (name == null ? "null" : "\"" + name + "\""));
            }
            if (e == null) throw new IllegalArgumentException("SafeTensors.write: tensor \"" + name + "\" is null");
            json.append(json.length() > 1 ? "," : "");
            quote(json, name).append(":{\"dtype\":\"").append(e.dtype().name()).append("\",\"shape\":[");
            long[] shape = e.shape();
            for (int i = 0; i < shape.length; i++) json.append(i == 0 ? "" : ",").append(shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + e.data().length).append("]}");
            offset += e.data().length;
            order.add(e);
        }
        json.append('}');
        ByteBuffer raw;
        try {
            raw = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(json));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("SafeTensors.write: a tensor name or metadata string is not valid Unicode (unpaired surrogate)", e);
        }
        long padded = (raw.remaining() + 7L) & ~7L;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("SafeTensors.write: header of " + padded + " bytes exceeds the 100 MB limit of the format");
        }
        byte[] header = new byte[(int) padded];
        Arrays.fill(header, (byte) ' ');
        raw.get(header, 0, raw.remaining());
        return header;
    }

    private static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"');
    }


    // ---- helpers ---------------------------------------------------------------------------

    static long byteLength(DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape " + str(shape) + " has a negative dimension");
            if (n != 0 && d > Long.MAX_VALUE / n) throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^63 elements");
            n *= d;
        }
        if (n > Long.MAX_VALUE / dtype.size()) throw new IllegalArgumentException("shape " + str(shape) + " of " + dtype + " has more than 2^63 bytes");
        return n * dtype.size();
    }

    static String str(long[] shape) {
        return Arrays.toString(shape);
    }
}
