package org.norm4j.tensor;

import java.util.Arrays;

/** Shape arithmetic and formatting; shapes are plain {@code int[]} throughout norm4j. */
public final class Shape {
    public static final int MAX_RANK = 5;

    private Shape() {}

    /** Number of elements; throws if the product overflows an int (Java arrays are int-indexed). */
    public static int size(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + str(shape) + " has " + n + " elements, more than a Java array holds");
        }
        return (int) n;
    }

    /** Product of shape[from..to). */
    public static int product(int[] shape, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Checks rank 1..5 and positive dimensions; returns a defensive copy. */
    public static int[] checked(int[] shape) {
        if (shape == null || shape.length < 1 || shape.length > MAX_RANK) {
            throw new IllegalArgumentException("a tensor has rank 1 to " + MAX_RANK + ", got shape "
                    + (shape == null ? "null" : str(shape)));
        }
        for (int d : shape) {
            if (d < 1) throw new IllegalArgumentException("every dimension must be at least 1, got shape " + str(shape));
        }
        return shape.clone();
    }

    /** Resolves a possibly negative axis (-1 = last) against a rank, or throws naming both. */
    public static int axis(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }
}
