package org.norm4j.testing;

import java.util.stream.LongStream;

/**
 * Seeded random cases for property tests: a test draws everything of one case from
 * {@code new Random(seed)}, and a failure names the seed and the command that reruns that case
 * alone. {@code -Dnorm4j.seed=S} runs only seed S; {@code -Dnorm4j.cases=N} changes how many
 * seeds each property gets (the default keeps the suite fast).
 */
public final class Seeded {
    private Seeded() {}

    /** A case's body; anything it throws is reported with the seed. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /**
     * The seeds of property {@code salt}: {@code salt·1 000 000 + 1 … + n} (n scaled by
     * {@code -Dnorm4j.cases}, relative to a default of 100), or only {@code -Dnorm4j.seed}.
     */
    public static LongStream seeds(int salt, int n) {
        String one = System.getProperty("norm4j.seed");
        if (one != null && !one.isBlank()) return LongStream.of(Long.parseLong(one.trim()));
        String cases = System.getProperty("norm4j.cases");
        int count = cases == null || cases.isBlank() ? n : Math.max(1, (int) ((long) n * Integer.parseInt(cases.trim()) / 100));
        return LongStream.rangeClosed(1, count).map(i -> salt * 1_000_000L + i);
    }

    /**
     * Runs {@code body}; an assertion failure or an unexpected exception is rethrown as an
     * AssertionError that starts with the test, the seed, the rerun command and the case.
     */
    public static void check(Class<?> testClass, String method, long seed, Object theCase, Body body) {
        try {
            body.run();
        } catch (Throwable e) {
            if (e instanceof VirtualMachineError vm && !(e instanceof StackOverflowError)) throw vm;
            throw new AssertionError(testClass.getSimpleName() + "." + method + " seed " + seed + " (rerun alone: mvn -pl norm4j-core test -Dtest="
                    + testClass.getSimpleName() + "#" + method + " -Dnorm4j.seed=" + seed + ")\n  case: " + theCase + "\n  " + e, e);
        }
    }
}
