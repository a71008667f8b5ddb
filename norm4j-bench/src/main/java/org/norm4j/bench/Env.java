package org.norm4j.bench;

import org.norm4j.kernels.Loops;

/**
 * Prints what the benchmarks run on, for the report's header: the JVM, the {@link Loops} twin in
 * use, the Vector API's preferred width, processors and heap. Run with the same flags as the forks.
 */
public final class Env {
    private Env() {}

    public static void main(String[] args) {
        Loops loops = Loops.get();
        String width = "none (jdk.incubator.vector not loaded)";
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            width = VectorWidth.describe();
        }
        System.out.println("jvm: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        System.out.println("loops: " + loops.getClass().getSimpleName()
                + (Boolean.getBoolean("norm4j.scalar") ? " (-Dnorm4j.scalar=true)" : ""));
        System.out.println("vector: " + width);
        System.out.println("processors: " + Runtime.getRuntime().availableProcessors());
        System.out.println("max heap: " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    }

    /** Loaded only when the incubator module is present. */
    private static final class VectorWidth {
        static String describe() {
            var f = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            return f.vectorBitSize() + " bits (" + f.length() + " floats)";
        }
    }
}
