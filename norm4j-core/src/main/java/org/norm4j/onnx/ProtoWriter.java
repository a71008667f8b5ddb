package org.norm4j.onnx;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A writer of the protobuf wire format into a growable byte array: varint, 32-bit fixed and
 * length-delimited fields, packed and unpacked repeated scalars. A sub-message is written into its
 * own writer first and then embedded with its length, so every length prefix is exact.
 */
final class ProtoWriter {
    private byte[] buf = new byte[64];
    private int n;

    byte[] toByteArray() {
        return Arrays.copyOf(buf, n);
    }

    int size() {
        return n;
    }

    private void ensure(int k) {
        if (n + k > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + k));
    }

    private void rawByte(int b) {
        ensure(1);
        buf[n++] = (byte) b;
    }

    private void rawVarint(long v) {
        while ((v & ~0x7fL) != 0) {
            rawByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        rawByte((int) v);
    }

    private void rawFixed32(int v) {
        ensure(4);
        buf[n++] = (byte) v;
        buf[n++] = (byte) (v >>> 8);
        buf[n++] = (byte) (v >>> 16);
        buf[n++] = (byte) (v >>> 24);
    }

    private void tag(int field, int wireType) {
        rawVarint((long) field << 3 | wireType);
    }

    /** An int64/int32/enum field (negative values take ten bytes, as protobuf's int32/int64). */
    ProtoWriter varint(int field, long v) {
        tag(field, ProtoReader.VARINT);
        rawVarint(v);
        return this;
    }

    /** A 64-bit fixed field (fixed64, sfixed64, double). */
    ProtoWriter fixed64(int field, long v) {
        tag(field, ProtoReader.I64);
        rawFixed32((int) v);
        rawFixed32((int) (v >>> 32));
        return this;
    }

    ProtoWriter float32(int field, float v) {
        tag(field, ProtoReader.I32);
        rawFixed32(Float.floatToRawIntBits(v));
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        tag(field, ProtoReader.LEN);
        rawVarint(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, n, b.length);
        n += b.length;
        return this;
    }

    ProtoWriter string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter sub) {
        return bytes(field, sub.toByteArray());
    }

    /** A repeated int64 declared without [packed = true] (proto2's default): one field per value. */
    ProtoWriter varints(int field, long[] values) {
        for (long v : values) varint(field, v);
        return this;
    }

    /** A repeated float declared without [packed = true]. */
    ProtoWriter floats(int field, float[] values) {
        for (float v : values) float32(field, v);
        return this;
    }

    /** A repeated float declared [packed = true]: one length-delimited field of little-endian floats. */
    ProtoWriter packedFloats(int field, float[] values) {
        tag(field, ProtoReader.LEN);
        rawVarint(4L * values.length);
        for (float v : values) rawFixed32(Float.floatToRawIntBits(v));
        return this;
    }

    /** A repeated int64 declared [packed = true]. */
    ProtoWriter packedVarints(int field, long[] values) {
        ProtoWriter body = new ProtoWriter();
        for (long v : values) body.rawVarint(v);
        return bytes(field, body.toByteArray());
    }
}
