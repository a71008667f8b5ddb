package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels use no operator that {@code kernels.vector.SharedProfiles} leaves out of
 * its warm-up. An operator the warm-up never ran can still meet a C2 compile of the API's shared
 * methods that speculated on the others, and its traps would bring back the boxed kernels the
 * warm-up prevents (docs/benchmarks.md, twenty-sixth session). Read from the sources: the kernels'
 * vector method calls and {@code VectorOperators} constants against the operators the warm-up
 * names.
 */
class SharedProfilesCoverageTest {
    private static final Path VECTOR = Path.of("src/main/java/org/norm4j/kernels/vector");

    /** Vector methods that take an operator's shared path, and the operator each stands for. */
    private static final Map<String, String> METHODS = Map.ofEntries(
            Map.entry("add", "ADD"), Map.entry("sub", "SUB"), Map.entry("mul", "MUL"), Map.entry("div", "DIV"),
            Map.entry("max", "MAX"), Map.entry("min", "MIN"), Map.entry("neg", "NEG"), Map.entry("abs", "ABS"),
            Map.entry("fma", "fma"), Map.entry("lt", "lt"), Map.entry("blend", "blend"));

    /**
     * Operators whose shared path sees only this one operator in norm4j: a conversion has nothing
     * to be told apart from, so its profile cannot be polluted by another and cannot trap.
     */
    private static final Set<String> SINGLE = Set.of("F2D");

    @Test
    void everyOperatorTheKernelsUseIsWarmed() throws IOException {
        String warm = Files.readString(VECTOR.resolve("SharedProfiles.java"));
        Set<String> used = new TreeSet<>();
        try (Stream<Path> files = Files.list(VECTOR)) {
            for (Path f : (Iterable<Path>) files.filter(p -> !p.endsWith("SharedProfiles.java"))::iterator) {
                String src = Files.readString(f);
                // a vector method call: not Math.max, Integer.min and the like
                Matcher m = Pattern.compile("(?<!Math|Integer|Long|Float|Double)\\.(" + String.join("|", METHODS.keySet()) + ")\\(")
                        .matcher(src);
                while (m.find()) used.add(METHODS.get(m.group(1)));
                Matcher c = Pattern.compile("VectorOperators\\.([A-Z0-9_]+)").matcher(src);
                while (c.find()) used.add(c.group(1));
            }
        }
        assertTrue(used.contains("ADD") && used.contains("fma"), "the scan found no kernel operators: " + used);
        Set<String> missing = new TreeSet<>();
        for (String op : used) {
            boolean warmed = op.equals(op.toLowerCase()) ? warm.contains("." + op + "(") : warm.contains("VectorOperators." + op);
            if (!warmed && !SINGLE.contains(op)) missing.add(op);
        }
        assertTrue(missing.isEmpty(), "kernels use operators SharedProfiles does not warm: " + missing);
    }
}
