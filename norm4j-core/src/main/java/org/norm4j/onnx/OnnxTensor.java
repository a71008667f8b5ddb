package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.norm4j.io.AtomicFile;

/**
 * A value of an ONNX graph as {@link OnnxGraph} computes it: a FLOAT tensor (float[] data) or an
 * integer one (UINT8 to INT64 and BOOL, held as long[]: unsigned types zero-extended), row-major,
 * with its shape. Also the file format of ONNX's backend tests, one serialized TensorProto per
 * file ({@code input_0.pb}, {@code output_0.pb}): {@link #read} and {@link #write}.
 *
 * <p>Not a {@link org.norm4j.tensor.Tensor}: it has no gradient, and it carries integer types,
 * which ONNX graphs compute with (shapes, indices, quantized data).
 */
public final class OnnxTensor {
    private final int dataType;
    private final int[] shape;
    private final float[] floats;
    private final long[] longs;

    private OnnxTensor(int dataType, int[] shape, float[] floats, long[] longs) {
        this.dataType = dataType;
        this.shape = shape;
        this.floats = floats;
        this.longs = longs;
    }

    /** A FLOAT tensor; copies nothing ({@code data} becomes the tensor's storage). */
    public static OnnxTensor ofFloats(float[] data, int... shape) {
        checkCount(data.length, shape);
        return new OnnxTensor(OnnxProto.FLOAT, shape.clone(), data, null);
    }

    /** An INT64 tensor; copies nothing. */
    public static OnnxTensor ofInt64(long[] data, int... shape) {
        return ofIntegers(OnnxProto.INT64, data, shape);
    }

    /** A tensor of an integer ONNX data type (TensorProto.DataType: 2 UINT8 ... 13 UINT64, 9 BOOL); copies nothing. */
    static OnnxTensor ofIntegers(int dataType, long[] data, int... shape) {
        if (OnnxProto.integerSize(dataType) == 0) throw new IllegalArgumentException(OnnxProto.dataTypeName(dataType) + " is not an integer type");
        checkCount(data.length, shape);
        return new OnnxTensor(dataType, shape.clone(), null, data);
    }

    private static void checkCount(int n, int[] shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            count *= d;
        }
        if (count != n) throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(shape) + " (" + count + ")");
    }

    /** Reads a serialized TensorProto (an ONNX backend test's {@code input_0.pb}). */
    public static OnnxTensor read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) throw new OnnxFormatException(file, 0, "file of " + size + " bytes is larger than protobuf's 2 GiB limit");
        return fromProto(OnnxProto.decodeTensorFile(Files.readAllBytes(file), file), file);
    }

    /** Writes this tensor as a serialized TensorProto named {@code name}, atomically. */
    public void write(Path file, String name) throws IOException {
        byte[] bytes = OnnxProto.encodeTensorFile(toProto(name));
        AtomicFile.write(file, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }

    /** A stored tensor's value: FLOAT or an integer type, data checked against the dims. */
    static OnnxTensor fromProto(OnnxProto.TensorProto t, Path file) throws IOException {
        if (t.external() || t.segmented()) {
            throw new OnnxFormatException(file, t.offset(), "tensor " + OnnxProto.quote(t.name()) + " keeps its data externally or in segments, "
                    + "which norm4j does not read");
        }
        int[] shape = new int[t.dims().length];
        OnnxProto.elementCount(t, file);   // every dim ≥ 0, the product within an int
        for (int k = 0; k < shape.length; k++) shape[k] = (int) t.dims()[k];
        if (t.dataType() == OnnxProto.FLOAT) return new OnnxTensor(OnnxProto.FLOAT, shape, OnnxProto.floatData(t, file), null);
        if (OnnxProto.integerSize(t.dataType()) > 0) return new OnnxTensor(t.dataType(), shape, null, OnnxProto.integerData(t, file));
        if (t.dataType() >= 1 && t.dataType() <= 16) {   // a valid type that norm4j does not compute with
            throw new UnsupportedOnnxException(file, null, null, null, "tensor " + OnnxProto.quote(t.name()) + " is "
                    + OnnxProto.dataTypeName(t.dataType()) + "; norm4j computes with FLOAT and the integer types (at byte " + t.offset() + ")");
        }
        throw new OnnxFormatException(file, t.offset(), "tensor " + OnnxProto.quote(t.name()) + " has no valid data type (" + t.dataType() + ")");
    }

    OnnxProto.TensorProto toProto(String name) {
        long[] dims = new long[shape.length];
        for (int k = 0; k < dims.length; k++) dims[k] = shape[k];
        if (floats != null) return OnnxProto.floatTensor(name, dims, floats);
        return switch (dataType) {
            case OnnxProto.INT64 -> OnnxProto.int64Tensor(name, dims, longs);
            case OnnxProto.UINT32, OnnxProto.UINT64 -> new OnnxProto.TensorProto(name, dataType, dims, null, null, null, longs.clone(), null,
                    false, false, 0);
            default -> new OnnxProto.TensorProto(name, dataType, dims, null, null, longs.clone(), null, null, false, false, 0);
        };
    }

    /** The TensorProto.DataType: 1 FLOAT, 7 INT64, 2 UINT8, ... */
    public int dataType() {
        return dataType;
    }

    /** "FLOAT", "INT64", "UINT8", ... */
    public String dataTypeName() {
        return OnnxProto.dataTypeName(dataType);
    }

    public boolean isFloat() {
        return floats != null;
    }

    public int[] shape() {
        return shape.clone();
    }

    int[] shapeRef() {
        return shape;
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return floats != null ? floats.length : longs.length;
    }

    /** The FLOAT data (the tensor's own storage); IllegalStateException for an integer tensor. */
    public float[] floats() {
        if (floats == null) throw new IllegalStateException("tensor of " + dataTypeName() + " " + Arrays.toString(shape) + " has no float data");
        return floats;
    }

    /** The integer data (the tensor's own storage); IllegalStateException for a FLOAT tensor. */
    public long[] longs() {
        if (longs == null) throw new IllegalStateException("FLOAT tensor " + Arrays.toString(shape) + " has no integer data");
        return longs;
    }

    /** Element i as a double, whatever the type. */
    public double get(int i) {
        return floats != null ? floats[i] : longs[i];
    }

    @Override
    public String toString() {
        return dataTypeName() + Arrays.toString(shape);
    }
}
