package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire format by hand: round trips, packed and unpacked repeated fields, and every way a length can lie. */
class ProtobufTest {
    static final Path FILE = Path.of("t.onnx");

    @Test
    void varintRoundTrip() throws Exception {
        long[] values = {0, 1, 127, 128, 300, 16_383, 16_384, Integer.MAX_VALUE, 1L << 35, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        ProtoWriter w = new ProtoWriter();
        for (long v : values) w.varint(1, v);
        byte[] b = w.toByteArray();
        ProtoReader r = new ProtoReader(b, FILE);
        for (long v : values) {
            int tag = r.readTag();
            assertEquals(1, ProtoReader.fieldNumber(tag));
            assertEquals(ProtoReader.VARINT, ProtoReader.wireType(tag));
            assertEquals(v, r.readVarint());
        }
        assertTrue(!r.hasMore());
        // 300 is the protobuf documentation's example: ac 02
        assertArrayEquals(new byte[] {0x08, (byte) 0xac, 0x02}, new ProtoWriter().varint(1, 300).toByteArray());
        assertEquals(11, new ProtoWriter().varint(1, -1).size(), "a negative int64 takes ten bytes after the tag");
    }

    @Test
    void fixedAndLengthDelimited() throws Exception {
        ProtoWriter w = new ProtoWriter().fixed64(1, 0x0102030405060708L).float32(2, 1.5f).string(3, "Grüße")
                .message(4, new ProtoWriter().varint(1, 7));
        ProtoReader r = new ProtoReader(w.toByteArray(), FILE);
        assertEquals(ProtoReader.I64, ProtoReader.wireType(r.readTag()));
        assertEquals(0x0102030405060708L, r.readFixed64());
        r.readTag();
        assertEquals(1.5f, r.readFloat());
        r.readTag();
        assertEquals("Grüße", r.readString());
        r.readTag();
        ProtoReader sub = r.readMessage();
        sub.readTag();
        assertEquals(7, sub.readVarint());
        assertTrue(!sub.hasMore() && !r.hasMore());
    }

    /** float_data and int64_data, packed (as declared) or unpacked (as older writers did), read the same. */
    @Test
    void packedAndUnpackedRepeatedFields() throws Exception {
        float[] f = {1f, -2.5f, 3e-8f};
        long[] l = {-1, 0, 1L << 40};
        ProtoWriter packed = new ProtoWriter().packedFloats(4, f).packedVarints(7, l);
        ProtoWriter unpacked = new ProtoWriter().floats(4, f).varints(7, l);
        for (ProtoWriter w : List.of(packed, unpacked)) {
            ProtoReader r = new ProtoReader(w.toByteArray(), FILE);
            ProtoReader.FloatList fl = new ProtoReader.FloatList();
            ProtoReader.LongList ll = new ProtoReader.LongList();
            while (r.hasMore()) {
                int tag = r.readTag();
                if (ProtoReader.fieldNumber(tag) == 4) r.readFloats(tag, fl, "float_data");
                else r.readVarints(tag, ll, "int64_data");
            }
            assertArrayEquals(f, fl.toArray());
            assertArrayEquals(l, ll.toArray());
        }
    }

    @Test
    void modelRoundTrip() throws Exception {
        Graphs g = new Graphs(1, 2, 6, 6);
        g.op("Conv", List.of(g.weight("W", 3, 2, 3, 3)), OnnxProto.intsAttr("pads", 1, 1, 1, 1), OnnxProto.intAttr("group", 1),
                OnnxProto.stringAttr("auto_pad", "NOTSET"));
        g.op("BatchNormalization", List.of(g.positive("s", 3), g.weight("b", 3), g.weight("m", 3), g.positive("v", 3)),
                OnnxProto.floatAttr("epsilon", 1e-3f));
        g.op("Flatten");
        g.inits.add(OnnxProto.floatTensorPacked("packed", new long[] {2}, new float[] {1, 2}));
        OnnxProto.Model m = g.model();
        OnnxProto.Model back = OnnxProto.decodeModel(OnnxProto.encode(m), FILE);
        assertEquals(8, back.irVersion());
        assertEquals("norm4j-test", back.producerName());
        assertEquals(m.opsets(), back.opsets());
        assertEquals(3, back.graph().nodes().size());
        OnnxProto.Node conv = back.graph().nodes().get(0);
        assertEquals(List.of("x", "W"), conv.inputs());
        assertArrayEquals(new long[] {1, 1, 1, 1}, conv.attribute("pads").ints());
        assertEquals("NOTSET", new String(conv.attribute("auto_pad").s(), java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(1e-3f, back.graph().nodes().get(1).attribute("epsilon").f());
        assertEquals("[N, 2, 6, 6]", back.graph().inputs().get(0).dims().toString());
        OnnxProto.TensorProto w = back.graph().initializers().get(0);
        assertArrayEquals(OnnxProto.floatData(m.graph().initializers().get(0), FILE), OnnxProto.floatData(w, FILE));
        assertArrayEquals(new float[] {1, 2}, OnnxProto.floatData(back.graph().initializers().get(5), FILE));
    }

    // ---- lies ---------------------------------------------------------------------------------

    @Test
    void lengthPastTheEnd() {
        // field 7 (graph), LEN, length 100, but only 3 bytes follow
        byte[] b = {0x08, 0x08, 0x3a, 0x64, 1, 2, 3};
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(b, FILE));
        assertEquals(3, e.offset());
        assertTrue(e.getMessage().contains("length 100 runs past the end") && e.getMessage().startsWith("t.onnx: "), e.getMessage());
    }

    @Test
    void hugeLengthAllocatesNothing() {
        // field 9 (raw_data) inside a tensor inside a graph, claiming 2^62 bytes
        ProtoWriter tensor = new ProtoWriter().varint(2, 1);
        byte[] t = tensor.toByteArray();
        byte[] lie = {0x4a, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40};
        byte[] tensorBytes = concat(t, lie);
        byte[] graph = concat(new byte[] {0x2a, (byte) tensorBytes.length}, tensorBytes);
        byte[] model = concat(new byte[] {0x3a, (byte) graph.length}, graph);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(model, FILE));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
        assertEquals(2 + 2 + t.length + 1, e.offset(), "the offset of the length varint in the file");
    }

    @Test
    void truncatedAndOverlongVarints() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(new byte[] {0x08, (byte) 0x80}, FILE));
        assertTrue(e.getMessage().contains("truncated varint"), e.getMessage());
        assertEquals(1, e.offset());
        byte[] eleven = {0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, 0x01};
        e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(eleven, FILE));
        assertTrue(e.getMessage().contains("varint"), e.getMessage());
    }

    @Test
    void wrongWireTypesAndGroups() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(new byte[] {0x0b}, FILE));
        assertTrue(e.getMessage().contains("group wire type"), e.getMessage());
        e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(new byte[] {0x0e}, FILE));
        assertTrue(e.getMessage().contains("unknown wire type 6"), e.getMessage());
        e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(new byte[] {0x0a, 0x00}, FILE));   // ir_version as LEN
        assertTrue(e.getMessage().contains("ModelProto.ir_version (1) has wire type 2, expected 0"), e.getMessage());
        e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(new byte[] {0x00}, FILE));
        assertTrue(e.getMessage().contains("invalid field number 0"), e.getMessage());
    }

    @Test
    void invalidUtf8() {
        byte[] b = {0x12, 0x02, (byte) 0xc3, 0x28};   // producer_name: a broken two-byte sequence
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(b, FILE));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        assertEquals(1, e.offset());
    }

    @Test
    void packedFloatsNotAMultipleOfFour() {
        byte[] tensor = {0x22, 0x03, 0, 0, 0};   // float_data, 3 bytes
        byte[] graph = concat(new byte[] {0x2a, (byte) tensor.length}, tensor);
        byte[] model = concat(new byte[] {0x3a, (byte) graph.length}, graph);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxProto.decodeModel(model, FILE));
        assertTrue(e.getMessage().contains("not a multiple of 4"), e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
