package org.norm4j.onnx;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A reader of the protobuf wire format over one message's bytes: varints, 64-bit and 32-bit fixed
 * fields, length-delimited fields (strings, bytes, sub-messages, packed repeated scalars). Not a
 * general protobuf library: no groups (wire types 3 and 4 are refused), no schema; the ONNX
 * messages in {@link OnnxProto} drive it field by field.
 *
 * <p>Every length is checked against the bytes left in the enclosing message before anything is
 * allocated or read, so a corrupt length is an {@link OnnxFormatException} naming the file and
 * the absolute byte offset, never an out-of-memory or an index error. Offsets count from the start
 * of the file: sub-readers share the file's array.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int I64 = 1;
    static final int LEN = 2;
    static final int I32 = 5;

    private final byte[] buf;
    private final Path file;
    private final int end;
    private int pos;
    private int tagStart;

    ProtoReader(byte[] buf, Path file) {
        this(buf, 0, buf.length, file);
    }

    private ProtoReader(byte[] buf, int start, int end, Path file) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.file = file;
        this.tagStart = start;
    }

    boolean hasMore() {
        return pos < end;
    }

    /** Absolute offset of the next byte. */
    int position() {
        return pos;
    }

    /** Absolute offset of the tag of the field being read: where errors about that field point. */
    int fieldStart() {
        return tagStart;
    }

    Path file() {
        return file;
    }

    OnnxFormatException error(long offset, String problem) {
        return new OnnxFormatException(file, offset, problem);
    }

    /** Reads a tag; returns it whole (field number = tag >>> 3, wire type = tag & 7). */
    int readTag() throws OnnxFormatException {
        tagStart = pos;
        long tag = readVarint();
        long field = tag >>> 3;
        int wire = (int) (tag & 7);
        if (field < 1 || field > (1 << 29) - 1) throw error(tagStart, "invalid field number " + field);
        if (wire == 3 || wire == 4) throw error(tagStart, "field " + field + " uses the group wire type " + wire + ", which ONNX never uses");
        if (wire != VARINT && wire != I64 && wire != LEN && wire != I32) {
            throw error(tagStart, "field " + field + " has unknown wire type " + wire);
        }
        return (int) tag;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    long readVarint() throws OnnxFormatException {
        int start = pos;
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw error(start, "truncated varint: the message ends after " + (pos - start) + " of its bytes");
            int b = buf[pos++] & 0xff;
            if (shift == 63 && b > 1) throw error(start, "varint longer than 64 bits");
            v |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw error(start, "varint longer than 10 bytes");
    }

    int readFixed32() throws OnnxFormatException {
        need(4, "a 32-bit fixed field");
        int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long readFixed64() throws OnnxFormatException {
        need(8, "a 64-bit fixed field");
        long lo = readFixed32() & 0xffffffffL;
        long hi = readFixed32() & 0xffffffffL;
        return lo | hi << 32;
    }

    float readFloat() throws OnnxFormatException {
        return Float.intBitsToFloat(readFixed32());
    }

    private void need(long n, String what) throws OnnxFormatException {
        if (n > end - pos) throw error(pos, "truncated " + what + ": " + n + " bytes needed, " + (end - pos) + " left in the message");
    }

    /** A length prefix, checked against the bytes left in this message. */
    private int readLength() throws OnnxFormatException {
        int at = pos;
        long n = readVarint();
        if (n < 0 || n > end - pos) {
            throw error(at, "length " + n + " runs past the end of the enclosing message (" + (end - pos) + " bytes left)");
        }
        return (int) n;
    }

    /** A sub-message: a reader over its bytes; this reader moves past them. */
    ProtoReader readMessage() throws OnnxFormatException {
        int n = readLength();
        ProtoReader sub = new ProtoReader(buf, pos, pos + n, file);
        pos += n;
        return sub;
    }

    byte[] readBytes() throws OnnxFormatException {
        int n = readLength();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return b;
    }

    /** A UTF-8 string; malformed UTF-8 is an error (protobuf strings must be valid UTF-8). */
    String readString() throws OnnxFormatException {
        int at = pos;
        int n = readLength();
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, pos, n)).toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw error(at, "string field is not valid UTF-8");
        }
    }

    /** Skips a field of an unknown or unused number. */
    void skip(int wireType) throws OnnxFormatException {
        switch (wireType) {
            case VARINT -> readVarint();
            case I64 -> { need(8, "a 64-bit fixed field"); pos += 8; }
            case I32 -> { need(4, "a 32-bit fixed field"); pos += 4; }
            case LEN -> {
                int n = readLength();   // read first: "pos += readLength()" would add to the old pos
                pos += n;
            }
            default -> throw error(tagStart, "unknown wire type " + wireType);
        }
    }

    /** Fails unless the field has the wire type its declaration implies. */
    void expect(int tag, int wireType, String name) throws OnnxFormatException {
        if (wireType(tag) != wireType) {
            throw error(tagStart, "field " + name + " (" + fieldNumber(tag) + ") has wire type " + wireType(tag) + ", expected " + wireType);
        }
    }

    /** Appends a repeated float field, packed (one LEN field) or not (one I32 field per value). */
    void readFloats(int tag, FloatList into, String name) throws OnnxFormatException {
        if (wireType(tag) == I32) {
            into.add(readFloat());
            return;
        }
        expect(tag, LEN, name);
        int at = pos;
        int n = readLength();
        if (n % 4 != 0) throw error(at, "packed " + name + " has " + n + " bytes, not a multiple of 4");
        into.ensure(n / 4);
        int stop = pos + n;
        while (pos < stop) into.add(readFloat());
    }

    /** Appends a repeated varint field (int64/int32), packed or not. */
    void readVarints(int tag, LongList into, String name) throws OnnxFormatException {
        if (wireType(tag) == VARINT) {
            into.add(readVarint());
            return;
        }
        expect(tag, LEN, name);
        int n = readLength();
        ProtoReader packed = new ProtoReader(buf, pos, pos + n, file);
        while (packed.hasMore()) into.add(packed.readVarint());
        pos += n;
    }

    /** A growable float array; capacity grows only with values actually read. */
    static final class FloatList {
        private float[] a = new float[8];
        private int n;

        void add(float v) {
            if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[n++] = v;
        }

        /** Room for k more values; k was bounded by bytes present in the file. */
        void ensure(int k) {
            if (n + k > a.length) a = Arrays.copyOf(a, n + k);
        }

        int size() {
            return n;
        }

        float[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
