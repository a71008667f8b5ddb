package org.norm4j.data;

import java.util.Arrays;

/**
 * The contents of one unsigned-byte IDX file: its dimensions (outermost first, as in the header)
 * and its values, row-major, one byte each (read them with {@code & 0xff}).
 *
 * <p>{@link #dims()} returns a copy; {@link #data()} returns the array itself, shared rather than
 * copied because it is tens of megabytes: treat it as read-only.
 */
public record IdxData(int[] dims, byte[] data) {
    public IdxData {
        dims = dims.clone();
        long n = 1;
        for (int d : dims) n *= d;
        if (n != data.length) {
            throw new IllegalArgumentException("IdxData: dims " + Arrays.toString(dims) + " hold " + n
                    + " values, data has " + data.length);
        }
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int axis) {
        return dims[axis];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxData other && Arrays.equals(dims, other.dims) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "IdxData" + Arrays.toString(dims);
    }
}
