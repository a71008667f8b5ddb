package org.norm4j.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The subset of onnx/onnx.proto (proto2) that norm4j reads and writes, as records, with the
 * decoder and encoder of each message. Field numbers, checked against onnx/onnx.proto:
 * <pre>
 * ModelProto          ir_version=1 producer_name=2 producer_version=3 graph=7 opset_import=8
 * OperatorSetIdProto  domain=1 version=2
 * GraphProto          node=1 name=2 initializer=5 input=11 output=12 value_info=13
 * NodeProto           input=1 output=2 name=3 op_type=4 attribute=5 domain=7
 * AttributeProto      name=1 f=2 i=3 s=4 t=5 g=6 floats=7 ints=8 strings=9 tensors=10 graphs=11 type=20
 * TensorProto         dims=1 data_type=2 segment=3 float_data=4 (packed) int32_data=5 (packed) int64_data=7 (packed)
 *                     name=8 raw_data=9 uint64_data=11 (packed) external_data=13 data_location=14
 * ValueInfoProto      name=1 type=2;  TypeProto tensor_type=1;  TypeProto.Tensor elem_type=1 shape=2
 * TensorShapeProto    dim=1;  Dimension dim_value=1 dim_param=2
 * </pre>
 * Fields outside this list are skipped (after their length is checked). A field that occurs twice
 * where one is declared keeps the last value. Offsets in the records are absolute byte offsets
 * in the file, for error messages.
 */
final class OnnxProto {
    private OnnxProto() {}

    /** TensorProto.DataType values used here. */
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int INT8 = 3;
    static final int UINT16 = 4;
    static final int INT16 = 5;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int BOOL = 9;
    static final int UINT32 = 12;
    static final int UINT64 = 13;

    /** AttributeProto.AttributeType values. */
    static final int ATTR_UNDEFINED = 0;
    static final int ATTR_FLOAT = 1;
    static final int ATTR_INT = 2;
    static final int ATTR_STRING = 3;
    static final int ATTR_TENSOR = 4;
    static final int ATTR_GRAPH = 5;
    static final int ATTR_FLOATS = 6;
    static final int ATTR_INTS = 7;
    static final int ATTR_STRINGS = 8;

    record OpsetId(String domain, long version) {}

    record Model(long irVersion, String producerName, String producerVersion, Graph graph, List<OpsetId> opsets) {}

    record Graph(String name, List<Node> nodes, List<TensorProto> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs,
                 List<ValueInfo> valueInfo) {}

    record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs, List<Attribute> attributes,
                int offset) {
        Attribute attribute(String attrName) {
            Attribute found = null;
            for (Attribute a : attributes) if (a.name().equals(attrName)) found = a;
            return found;
        }
    }

    /** One attribute; {@code type} is the declared type, or inferred from the field present when the file says UNDEFINED. */
    record Attribute(String name, int type, float f, long i, byte[] s, TensorProto t, float[] floats, long[] ints, int offset) {}

    /**
     * A tensor as stored: the data is in exactly one of floatData, int64Data, int32Data (the
     * int32_data field, which also holds the 8- and 16-bit types and BOOL), uint64Data (UINT32,
     * UINT64), rawData (checked against dims only when read, by {@link #floatData},
     * {@link #int64Data} and {@link #integerData}).
     */
    record TensorProto(String name, int dataType, long[] dims, float[] floatData, long[] int64Data, long[] int32Data,
                       long[] uint64Data, byte[] rawData, boolean external, boolean segmented, int offset) {
        TensorProto(String name, int dataType, long[] dims, float[] floatData, long[] int64Data, byte[] rawData,
                    boolean external, boolean segmented, int offset) {
            this(name, dataType, dims, floatData, int64Data, null, null, rawData, external, segmented, offset);
        }
    }

    /** A graph input/output/value_info; elemType is -1 for a non-tensor type, dims null when no shape is given. */
    record ValueInfo(String name, int elemType, List<Dim> dims, int offset) {}

    /** A dimension: a value (≥ 0), a symbolic name (value -1), or unknown (value -1, param null). */
    record Dim(long value, String param) {
        static Dim of(long v) {
            return new Dim(v, null);
        }

        static Dim symbolic(String name) {
            return new Dim(-1, name);
        }

        @Override
        public String toString() {
            return value >= 0 ? Long.toString(value) : param != null ? param : "?";
        }
    }

    // ---- decoding -----------------------------------------------------------------------------

    static Model decodeModel(byte[] bytes, Path file) throws OnnxFormatException {
        ProtoReader r = new ProtoReader(bytes, file);
        long ir = 0;
        String producer = "", producerVersion = "";
        Graph graph = null;
        int graphAt = 0;
        List<OpsetId> opsets = new ArrayList<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.VARINT, "ModelProto.ir_version"); ir = r.readVarint(); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "ModelProto.producer_name"); producer = r.readString(); }
                case 3 -> { r.expect(tag, ProtoReader.LEN, "ModelProto.producer_version"); producerVersion = r.readString(); }
                case 7 -> { r.expect(tag, ProtoReader.LEN, "ModelProto.graph"); graphAt = r.fieldStart(); graph = decodeGraph(r.readMessage()); }
                case 8 -> { r.expect(tag, ProtoReader.LEN, "ModelProto.opset_import"); opsets.add(decodeOpset(r.readMessage())); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        if (graph == null) throw r.error(graphAt, "the model has no graph (ModelProto field 7); is this an ONNX file?");
        return new Model(ir, producer, producerVersion, graph, opsets);
    }

    private static OpsetId decodeOpset(ProtoReader r) throws OnnxFormatException {
        String domain = "";
        long version = 0;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "OperatorSetIdProto.domain"); domain = r.readString(); }
                case 2 -> { r.expect(tag, ProtoReader.VARINT, "OperatorSetIdProto.version"); version = r.readVarint(); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        return new OpsetId(domain, version);
    }

    private static Graph decodeGraph(ProtoReader r) throws OnnxFormatException {
        String name = "";
        List<Node> nodes = new ArrayList<>();
        List<TensorProto> inits = new ArrayList<>();
        List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>(), info = new ArrayList<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            int at = r.fieldStart();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.node"); nodes.add(decodeNode(r.readMessage(), at)); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.name"); name = r.readString(); }
                case 5 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.initializer"); inits.add(decodeTensor(r.readMessage(), at)); }
                case 11 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.input"); inputs.add(decodeValueInfo(r.readMessage(), at)); }
                case 12 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.output"); outputs.add(decodeValueInfo(r.readMessage(), at)); }
                case 13 -> { r.expect(tag, ProtoReader.LEN, "GraphProto.value_info"); info.add(decodeValueInfo(r.readMessage(), at)); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        return new Graph(name, nodes, inits, inputs, outputs, info);
    }

    private static Node decodeNode(ProtoReader r, int offset) throws OnnxFormatException {
        String name = "", op = "", domain = "";
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        List<Attribute> attrs = new ArrayList<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            int at = r.fieldStart();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.input"); in.add(r.readString()); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.output"); out.add(r.readString()); }
                case 3 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.name"); name = r.readString(); }
                case 4 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.op_type"); op = r.readString(); }
                case 5 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.attribute"); attrs.add(decodeAttribute(r.readMessage(), at)); }
                case 7 -> { r.expect(tag, ProtoReader.LEN, "NodeProto.domain"); domain = r.readString(); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        if (op.isEmpty()) throw r.error(offset, "node " + quote(name) + " has no op_type");
        return new Node(name, op, domain, in, out, attrs, offset);
    }

    private static Attribute decodeAttribute(ProtoReader r, int offset) throws OnnxFormatException {
        String name = "";
        int type = ATTR_UNDEFINED, seen = ATTR_UNDEFINED;
        float f = 0;
        long i = 0;
        byte[] s = null;
        TensorProto t = null;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.hasMore()) {
            int tag = r.readTag();
            int at = r.fieldStart();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "AttributeProto.name"); name = r.readString(); }
                case 2 -> { r.expect(tag, ProtoReader.I32, "AttributeProto.f"); f = r.readFloat(); seen = ATTR_FLOAT; }
                case 3 -> { r.expect(tag, ProtoReader.VARINT, "AttributeProto.i"); i = r.readVarint(); seen = ATTR_INT; }
                case 4 -> { r.expect(tag, ProtoReader.LEN, "AttributeProto.s"); s = r.readBytes(); seen = ATTR_STRING; }
                case 5 -> { r.expect(tag, ProtoReader.LEN, "AttributeProto.t"); t = decodeTensor(r.readMessage(), at); seen = ATTR_TENSOR; }
                case 6 -> { r.expect(tag, ProtoReader.LEN, "AttributeProto.g"); r.skip(ProtoReader.LEN); seen = ATTR_GRAPH; }
                case 7 -> { r.readFloats(tag, floats, "AttributeProto.floats"); seen = ATTR_FLOATS; }
                case 8 -> { r.readVarints(tag, ints, "AttributeProto.ints"); seen = ATTR_INTS; }
                case 9 -> { r.expect(tag, ProtoReader.LEN, "AttributeProto.strings"); r.skip(ProtoReader.LEN); seen = ATTR_STRINGS; }
                case 20 -> { r.expect(tag, ProtoReader.VARINT, "AttributeProto.type"); type = (int) r.readVarint(); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        if (name.isEmpty()) throw r.error(offset, "attribute without a name");
        int kind = type != ATTR_UNDEFINED ? type : seen;
        if (kind == ATTR_STRING && s == null) throw r.error(offset, "attribute " + quote(name) + " is declared STRING but holds no string");
        if (kind == ATTR_TENSOR && t == null) throw r.error(offset, "attribute " + quote(name) + " is declared TENSOR but holds no tensor");
        return new Attribute(name, kind, f, i, s, t, floats.toArray(), ints.toArray(), offset);
    }

    private static TensorProto decodeTensor(ProtoReader r, int offset) throws OnnxFormatException {
        String name = "";
        int dataType = 0;
        ProtoReader.LongList dims = new ProtoReader.LongList(), int64 = new ProtoReader.LongList();
        ProtoReader.LongList int32 = new ProtoReader.LongList(), uint64 = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        byte[] raw = null;
        boolean external = false, segmented = false, hasFloats = false, hasInt64 = false, hasInt32 = false, hasUint64 = false;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> r.readVarints(tag, dims, "TensorProto.dims");
                case 2 -> { r.expect(tag, ProtoReader.VARINT, "TensorProto.data_type"); dataType = (int) r.readVarint(); }
                case 3 -> { r.skip(ProtoReader.wireType(tag)); segmented = true; }
                case 4 -> { r.readFloats(tag, floats, "TensorProto.float_data"); hasFloats = true; }
                case 5 -> { r.readVarints(tag, int32, "TensorProto.int32_data"); hasInt32 = true; }
                case 7 -> { r.readVarints(tag, int64, "TensorProto.int64_data"); hasInt64 = true; }
                case 11 -> { r.readVarints(tag, uint64, "TensorProto.uint64_data"); hasUint64 = true; }
                case 8 -> { r.expect(tag, ProtoReader.LEN, "TensorProto.name"); name = r.readString(); }
                case 9 -> { r.expect(tag, ProtoReader.LEN, "TensorProto.raw_data"); raw = r.readBytes(); }
                case 13 -> { r.skip(ProtoReader.wireType(tag)); external = true; }
                case 14 -> { r.expect(tag, ProtoReader.VARINT, "TensorProto.data_location"); external |= r.readVarint() == 1; }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        return new TensorProto(name, dataType, dims.toArray(), hasFloats ? floats.toArray() : null, hasInt64 ? int64.toArray() : null,
                hasInt32 ? int32.toArray() : null, hasUint64 ? uint64.toArray() : null, raw, external, segmented, offset);
    }

    /** A serialized TensorProto on its own, as ONNX's backend tests store their inputs and outputs (input_0.pb). */
    static TensorProto decodeTensorFile(byte[] bytes, Path file) throws OnnxFormatException {
        return decodeTensor(new ProtoReader(bytes, file), 0);
    }

    static byte[] encodeTensorFile(TensorProto t) {
        return encodeTensor(t).toByteArray();
    }

    private static ValueInfo decodeValueInfo(ProtoReader r, int offset) throws OnnxFormatException {
        String name = "";
        int elemType = -1;
        List<Dim> dims = null;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "ValueInfoProto.name"); name = r.readString(); }
                case 2 -> {
                    r.expect(tag, ProtoReader.LEN, "ValueInfoProto.type");
                    ProtoReader type = r.readMessage();
                    while (type.hasMore()) {
                        int t = type.readTag();
                        if (ProtoReader.fieldNumber(t) != 1) {
                            type.skip(ProtoReader.wireType(t));
                            continue;
                        }
                        type.expect(t, ProtoReader.LEN, "TypeProto.tensor_type");
                        ProtoReader tensor = type.readMessage();
                        elemType = 0;
                        while (tensor.hasMore()) {
                            int u = tensor.readTag();
                            switch (ProtoReader.fieldNumber(u)) {
                                case 1 -> { tensor.expect(u, ProtoReader.VARINT, "TypeProto.Tensor.elem_type"); elemType = (int) tensor.readVarint(); }
                                case 2 -> { tensor.expect(u, ProtoReader.LEN, "TypeProto.Tensor.shape"); dims = decodeShape(tensor.readMessage()); }
                                default -> tensor.skip(ProtoReader.wireType(u));
                            }
                        }
                    }
                }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        return new ValueInfo(name, elemType, dims, offset);
    }

    private static List<Dim> decodeShape(ProtoReader r) throws OnnxFormatException {
        List<Dim> dims = new ArrayList<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            if (ProtoReader.fieldNumber(tag) != 1) {
                r.skip(ProtoReader.wireType(tag));
                continue;
            }
            r.expect(tag, ProtoReader.LEN, "TensorShapeProto.dim");
            ProtoReader d = r.readMessage();
            long value = -1;
            String param = null;
            while (d.hasMore()) {
                int t = d.readTag();
                switch (ProtoReader.fieldNumber(t)) {
                    case 1 -> {
                        d.expect(t, ProtoReader.VARINT, "Dimension.dim_value");
                        int at = d.position();
                        value = d.readVarint();
                        if (value < 0) throw d.error(at, "negative dimension " + value);
                        param = null;
                    }
                    case 2 -> { d.expect(t, ProtoReader.LEN, "Dimension.dim_param"); param = d.readString(); value = -1; }
                    default -> d.skip(ProtoReader.wireType(t));
                }
            }
            dims.add(new Dim(value, param));
        }
        return dims;
    }

    // ---- tensor data ----------------------------------------------------------------------------

    /** The element count its dims imply, checked: every dim ≥ 0, the product fits an int. */
    static int elementCount(TensorProto t, Path file) throws OnnxFormatException {
        long n = 1;
        boolean empty = false;
        for (long d : t.dims()) {
            if (d < 0) throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + " has a negative dimension " + d);
            if (d == 0) empty = true;
            n = d > (Long.MAX_VALUE / Math.max(n, 1)) ? Long.MAX_VALUE : n * d;   // saturate: the check below reports it
        }
        if (empty) return 0;
        if (n > Integer.MAX_VALUE - 8) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + " has more than 2^31 elements (dims "
                    + java.util.Arrays.toString(t.dims()) + ")");
        }
        return (int) n;
    }

    /** A FLOAT tensor's values, from raw_data or float_data, checked against its dims. */
    static float[] floatData(TensorProto t, Path file) throws OnnxFormatException {
        int n = elementCount(t, file);
        if (t.rawData() != null) {
            if (t.rawData().length != 4L * n) {
                throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": raw_data has " + t.rawData().length
                        + " bytes, dims " + java.util.Arrays.toString(t.dims()) + " need " + 4L * n);
            }
            float[] v = new float[n];
            ByteBuffer.wrap(t.rawData()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return v;
        }
        float[] v = t.floatData() != null ? t.floatData() : new float[0];
        if (v.length != n) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": " + v.length + " values in float_data, dims "
                    + java.util.Arrays.toString(t.dims()) + " need " + n);
        }
        return v;
    }

    /** An INT64 tensor's values, from raw_data or int64_data, checked against its dims. */
    static long[] int64Data(TensorProto t, Path file) throws OnnxFormatException {
        int n = elementCount(t, file);
        if (t.rawData() != null) {
            if (t.rawData().length != 8L * n) {
                throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": raw_data has " + t.rawData().length
                        + " bytes, dims " + java.util.Arrays.toString(t.dims()) + " need " + 8L * n);
            }
            long[] v = new long[n];
            ByteBuffer.wrap(t.rawData()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
            return v;
        }
        long[] v = t.int64Data() != null ? t.int64Data() : new long[0];
        if (v.length != n) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": " + v.length + " values in int64_data, dims "
                    + java.util.Arrays.toString(t.dims()) + " need " + n);
        }
        return v;
    }

    /** Bytes per element of the integer data types ({@link #integerData}), 0 for any other type. */
    static int integerSize(int dataType) {
        return switch (dataType) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case INT32, UINT32 -> 4;
            case INT64, UINT64 -> 8;
            default -> 0;
        };
    }

    /**
     * An integer (or BOOL) tensor's values as longs, from raw_data (little-endian, the type's
     * width; unsigned types zero-extended) or the field the type is stored in (int32_data,
     * int64_data or uint64_data), checked against its dims.
     */
    static long[] integerData(TensorProto t, Path file) throws OnnxFormatException {
        int size = integerSize(t.dataType());
        if (size == 0) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + " is " + dataTypeName(t.dataType()) + ", not an integer type");
        }
        int n = elementCount(t, file);
        String field = switch (t.dataType()) {
            case INT64 -> "int64_data";
            case UINT32, UINT64 -> "uint64_data";
            default -> "int32_data";
        };
        if (t.rawData() != null) {
            if (t.rawData().length != (long) size * n) {
                throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": raw_data has " + t.rawData().length
                        + " bytes, dims " + java.util.Arrays.toString(t.dims()) + " of " + dataTypeName(t.dataType()) + " need " + (long) size * n);
            }
            ByteBuffer b = ByteBuffer.wrap(t.rawData()).order(ByteOrder.LITTLE_ENDIAN);
            long[] v = new long[n];
            for (int i = 0; i < n; i++) {
                v[i] = switch (t.dataType()) {
                    case UINT8, BOOL -> b.get() & 0xFFL;
                    case INT8 -> b.get();
                    case UINT16 -> b.getShort() & 0xFFFFL;
                    case INT16 -> b.getShort();
                    case INT32 -> b.getInt();
                    case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                    default -> b.getLong();
                };
            }
            return v;
        }
        long[] stored = switch (field) {
            case "int64_data" -> t.int64Data();
            case "uint64_data" -> t.uint64Data();
            default -> t.int32Data();
        };
        long[] v = stored != null ? stored.clone() : new long[0];
        if (v.length != n) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + quote(t.name()) + ": " + v.length + " values in " + field + ", dims "
                    + java.util.Arrays.toString(t.dims()) + " need " + n);
        }
        if (field.equals("int32_data")) for (int i = 0; i < n; i++) v[i] = (int) v[i];   // varints of int32 are sign-extended
        return v;
    }

    static String quote(String name) {
        return "\"" + name + "\"";
    }

    static String attributeTypeName(int t) {
        return switch (t) {
            case ATTR_UNDEFINED -> "UNDEFINED";
            case ATTR_FLOAT -> "FLOAT";
            case ATTR_INT -> "INT";
            case ATTR_STRING -> "STRING";
            case ATTR_TENSOR -> "TENSOR";
            case ATTR_GRAPH -> "GRAPH";
            case ATTR_FLOATS -> "FLOATS";
            case ATTR_INTS -> "INTS";
            case ATTR_STRINGS -> "STRINGS";
            default -> "attribute type " + t;
        };
    }

    static String dataTypeName(int t) {
        return switch (t) {
            case 0 -> "UNDEFINED";
            case 1 -> "FLOAT";
            case 2 -> "UINT8";
            case 3 -> "INT8";
            case 4 -> "UINT16";
            case 5 -> "INT16";
            case 6 -> "INT32";
            case 7 -> "INT64";
            case 8 -> "STRING";
            case 9 -> "BOOL";
            case 10 -> "FLOAT16";
            case 11 -> "DOUBLE";
            case 12 -> "UINT32";
            case 13 -> "UINT64";
            case 16 -> "BFLOAT16";
            default -> "data type " + t;
        };
    }

    // ---- construction and encoding --------------------------------------------------------------

    /** A FLOAT tensor stored as raw_data (little-endian), as PyTorch's exporter writes them. */
    static TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new TensorProto(name, FLOAT, dims.clone(), null, null, b.array(), false, false, 0);
    }

    /** A FLOAT tensor stored in the packed float_data field. */
    static TensorProto floatTensorPacked(String name, long[] dims, float[] values) {
        return new TensorProto(name, FLOAT, dims.clone(), values.clone(), null, null, false, false, 0);
    }

    /** An INT64 tensor stored in the packed int64_data field. */
    static TensorProto int64Tensor(String name, long[] dims, long[] values) {
        return new TensorProto(name, INT64, dims.clone(), null, values.clone(), null, false, false, 0);
    }

    static Attribute intAttr(String name, long v) {
        return new Attribute(name, ATTR_INT, 0, v, null, null, new float[0], new long[0], 0);
    }

    static Attribute floatAttr(String name, float v) {
        return new Attribute(name, ATTR_FLOAT, v, 0, null, null, new float[0], new long[0], 0);
    }

    static Attribute intsAttr(String name, long... v) {
        return new Attribute(name, ATTR_INTS, 0, 0, null, null, new float[0], v.clone(), 0);
    }

    static Attribute stringAttr(String name, String v) {
        return new Attribute(name, ATTR_STRING, 0, 0, v.getBytes(java.nio.charset.StandardCharsets.UTF_8), null, new float[0], new long[0], 0);
    }

    static Attribute tensorAttr(String name, TensorProto t) {
        return new Attribute(name, ATTR_TENSOR, 0, 0, null, t, new float[0], new long[0], 0);
    }

    static Node node(String name, String op, List<String> inputs, List<String> outputs, Attribute... attrs) {
        return new Node(name, op, "", List.copyOf(inputs), List.copyOf(outputs), List.of(attrs), 0);
    }

    static byte[] encode(Model m) {
        ProtoWriter w = new ProtoWriter();
        w.varint(1, m.irVersion());
        if (!m.producerName().isEmpty()) w.string(2, m.producerName());
        if (!m.producerVersion().isEmpty()) w.string(3, m.producerVersion());
        w.message(7, encodeGraph(m.graph()));
        for (OpsetId o : m.opsets()) {
            ProtoWriter ow = new ProtoWriter();
            if (!o.domain().isEmpty()) ow.string(1, o.domain());
            ow.varint(2, o.version());
            w.message(8, ow);
        }
        return w.toByteArray();
    }

    private static ProtoWriter encodeGraph(Graph g) {
        ProtoWriter w = new ProtoWriter();
        for (Node n : g.nodes()) w.message(1, encodeNode(n));
        w.string(2, g.name());
        for (TensorProto t : g.initializers()) w.message(5, encodeTensor(t));
        for (ValueInfo v : g.inputs()) w.message(11, encodeValueInfo(v));
        for (ValueInfo v : g.outputs()) w.message(12, encodeValueInfo(v));
        for (ValueInfo v : g.valueInfo()) w.message(13, encodeValueInfo(v));
        return w;
    }

    private static ProtoWriter encodeNode(Node n) {
        ProtoWriter w = new ProtoWriter();
        for (String s : n.inputs()) w.string(1, s);
        for (String s : n.outputs()) w.string(2, s);
        if (!n.name().isEmpty()) w.string(3, n.name());
        w.string(4, n.opType());
        for (Attribute a : n.attributes()) w.message(5, encodeAttribute(a));
        if (!n.domain().isEmpty()) w.string(7, n.domain());
        return w;
    }

    private static ProtoWriter encodeAttribute(Attribute a) {
        ProtoWriter w = new ProtoWriter();
        w.string(1, a.name());
        switch (a.type()) {
            case ATTR_FLOAT -> w.float32(2, a.f());
            case ATTR_INT -> w.varint(3, a.i());
            case ATTR_STRING -> w.bytes(4, a.s());
            case ATTR_TENSOR -> w.message(5, encodeTensor(a.t()));
            case ATTR_FLOATS -> w.floats(7, a.floats());
            case ATTR_INTS -> w.varints(8, a.ints());
            default -> throw new IllegalArgumentException("attribute " + a.name() + ": cannot encode type " + a.type());
        }
        w.varint(20, a.type());
        return w;
    }

    private static ProtoWriter encodeTensor(TensorProto t) {
        ProtoWriter w = new ProtoWriter();
        w.varints(1, t.dims());
        w.varint(2, t.dataType());
        if (t.floatData() != null) w.packedFloats(4, t.floatData());
        if (t.int32Data() != null) w.packedVarints(5, t.int32Data());
        if (t.int64Data() != null) w.packedVarints(7, t.int64Data());
        if (t.uint64Data() != null) w.packedVarints(11, t.uint64Data());
        if (!t.name().isEmpty()) w.string(8, t.name());
        if (t.rawData() != null) w.bytes(9, t.rawData());
        return w;
    }

    private static ProtoWriter encodeValueInfo(ValueInfo v) {
        ProtoWriter tensor = new ProtoWriter().varint(1, v.elemType());
        if (v.dims() != null) {
            ProtoWriter shape = new ProtoWriter();
            for (Dim d : v.dims()) {
                ProtoWriter dw = new ProtoWriter();
                if (d.value() >= 0) dw.varint(1, d.value());
                else if (d.param() != null) dw.string(2, d.param());
                shape.message(1, dw);
            }
            tensor.message(2, shape);
        }
        return new ProtoWriter().string(1, v.name()).message(2, new ProtoWriter().message(1, tensor));
    }
}
