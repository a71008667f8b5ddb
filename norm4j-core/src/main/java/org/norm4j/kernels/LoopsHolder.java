package org.norm4j.kernels;

/**
 * Chooses the {@link Loops} twin once. The vector class is loaded by name only after checking that
 * the incubator module is in the boot layer, so no user needs a JVM flag: without the module the
 * vector class is never linked and the scalar twin serves.
 */
final class LoopsHolder {
    static final Loops VECTOR = loadVector();
    static final Loops INSTANCE = Boolean.getBoolean("norm4j.scalar") || VECTOR == null ? ScalarLoops.INSTANCE : VECTOR;
    static final DirectConv DIRECT_CONV = INSTANCE == VECTOR ? load("org.norm4j.kernels.vector.VectorDirectConv", DirectConv.class) : null;
    static final LaneConv LANE_CONV = INSTANCE == VECTOR ? load("org.norm4j.kernels.vector.VectorLaneConv", LaneConv.class) : null;

    private LoopsHolder() {}

    private static Loops loadVector() {
        return load("org.norm4j.kernels.vector.VectorLoops", Loops.class);
    }

    private static <T> T load(String className, Class<T> type) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return null;
        try {
            return type.cast(Class.forName(className).getField("INSTANCE").get(null));
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;   // a JVM whose incubator module cannot serve us: the scalar twin is complete
        }
    }
}
