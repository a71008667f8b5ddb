package org.norm4j.kernels;

/**
 * Per-thread work arrays that outlive one call, so a kernel's temporary buffers (im2col columns,
 * a gathered gradient) are allocated once per thread and size, not once per step: fresh
 * multi-megabyte arrays cost a page-zeroing pass each, as much as the work they hold.
 *
 * <p>A kernel takes slot {@code k} with {@link #floats}, uses it, and calls no other kernel that
 * could take the same slot before it is done. The contents are garbage on entry.
 */
public final class Scratch {
    private static final int SLOTS = 7;
    private static final ThreadLocal<float[][]> ARRAYS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);

    private Scratch() {}

    /** This thread's array in slot {@code slot}, at least {@code size} floats long. */
    public static float[] floats(int slot, int size) {
        float[][] a = ARRAYS.get();
        if (a[slot].length < size) a[slot] = new float[size];
        return a[slot];
    }
}
