package org.norm4j.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** The two {@link Loops} twins as test parameters; the vector twin is skipped when its module is absent. */
final class Twins {
    private Twins() {}

    static Stream<String> names() {
        return Stream.of("scalar", "vector");
    }

    static Loops get(String name) {
        if (name.equals("scalar")) return Loops.scalar();
        Assumptions.assumeTrue(Loops.vector() != null, "jdk.incubator.vector is not in the boot layer: vector twin skipped");
        return Loops.vector();
    }
}
