package org.norm4j.kernels.vector;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Feeds the Vector API's shared profiles the operators the kernels use, interleaved, before any
 * kernel runs, so that HotSpot never compiles one of the API's shared methods for a single
 * operator and deoptimizes it when the next one arrives.
 *
 * <p>Why (JDK 17, C2; measured in the twenty-sixth session, docs/benchmarks.md): every vector
 * operation goes through shared methods of the API ({@code FloatVector.lanewiseTemplate},
 * {@code VectorOperators.opKind}) whose profiles record the operator's implementation class. When
 * C2 compiled such a method while its profile held one operator (say a run of additions in the
 * interpreter), and another then came, it trapped (class_check) four times and the method's
 * profile keeps those traps for the life of the JVM. C2 then charges them to every later compile
 * that inlines the method: four per inlining, twice per vector operation. Past
 * {@code PerMethodTrapLimit} (100), about the thirteenth operation of a kernel, it stops trusting
 * type profiles for the rest of that compile; the vectors after that point lose their exact
 * class, their species is no longer a constant, the intrinsics fail and every vector is boxed. A
 * kernel compiled in such a JVM ran 2-8x slower for the JVM's life (3 of 25 two-thread benchmark
 * JVMs before this warm-up, none of 25 after it; with the trap limit raised instead, none of 25 of
 * a build without it, which is how the cause was confirmed).
 *
 * <p>Interleaving the operators here, long enough for the profiling tier to be installed and see
 * them all, leaves those profiles polymorphic: C2 never speculates on one operator at those
 * shared points, never traps there, and the kernels compile as in a clean JVM. The float species
 * gets every binary and unary operator the kernels use (and a few more), fma, compare and blend;
 * its double-lane and int-lane twins of the same width the binary operators (int shifts both by
 * a vector and by a scalar count). No other shape appears: a second float shape would pollute the
 * receiver profiles instead (see {@link VectorLoops}' class notes). A kernel that starts using an
 * operator not listed here must add it. The warm-up takes about 0.1 s, once per JVM, and touches
 * no kernel's state.
 */
final class SharedProfiles {
    /** Rounds of all the operators: thousands of calls each, past the profiling tier's thresholds. */
    private static final int ROUNDS = 2000;

    /** Keeps the results alive so the loop is not dead code. */
    private static volatile float sink;

    private SharedProfiles() {}

    /** Runs the operators on {@code f} (and its double and int twins) interleaved, {@link #ROUNDS} times. */
    static void warm(VectorSpecies<Float> f) {
        VectorSpecies<Double> d = VectorSpecies.of(double.class, f.vectorShape());
        VectorSpecies<Integer> ints = VectorSpecies.of(int.class, f.vectorShape());
        VectorOperators.Binary[] binary = {VectorOperators.ADD, VectorOperators.SUB, VectorOperators.MUL, VectorOperators.DIV,
                VectorOperators.MAX, VectorOperators.MIN};
        VectorOperators.Unary[] unary = {VectorOperators.NEG, VectorOperators.ABS};
        VectorOperators.Binary[] intBinary = {VectorOperators.ADD, VectorOperators.LSHL, VectorOperators.SUB, VectorOperators.AND};
        FloatVector x = FloatVector.broadcast(f, 1.5f), y = x, one = FloatVector.broadcast(f, 1f);
        DoubleVector u = DoubleVector.broadcast(d, 1.5), w = u;
        IntVector k = IntVector.broadcast(ints, 3), m = k;
        for (int r = 0; r < ROUNDS; r++) {
            for (VectorOperators.Binary op : binary) {
                y = x.lanewise(op, y);
                w = u.lanewise(op, w);
            }
            for (VectorOperators.Unary op : unary) y = y.lanewise(op);
            for (VectorOperators.Binary op : intBinary) m = k.lanewise(op, m);
            m = m.lanewise(VectorOperators.LSHL, 3);   // a scalar count: the shifts' own path (the sigmoid's)
            y = y.fma(one, x).blend(x, y.lt(0f));
        }
        sink = y.reduceLanes(VectorOperators.ADD) + (float) w.reduceLanes(VectorOperators.ADD) + m.reduceLanes(VectorOperators.ADD);
    }
}
