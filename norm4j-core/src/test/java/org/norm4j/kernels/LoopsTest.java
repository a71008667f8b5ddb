package org.norm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every {@link Loops} method of both twins against a naive double-precision reference written
 * here, on awkward sizes (around 8- and 16-lane vectors, primes, longer than a float chunk), with a
 * different non-zero offset in every array, random data and data of mean 1e4 with spread 1e-2.
 * The vector twin is skipped (not failed) when the JVM runs without {@code jdk.incubator.vector};
 * {@link #vectorTwinLoadsWhenModulePresent} makes sure it really runs when the module is there.
 *
 * <p>Tolerances, in units of U = 2⁻²⁴ (float rounding) and DU = 2⁻⁵³ (double rounding):
 * <ul>
 *   <li>float elementwise results: 8·U·Σ|terms| per element. Each result is at most six float
 *       roundings of partial results bounded by Σ|terms| (the absolute values of every product and
 *       addend of the formula), so this is a few ulps of the largest term, for either twin.</li>
 *   <li>the "columns" sums and rowBackwardSums' dGamma / dBeta, float-array updates acc + term: {@link #elementTol} of |acc| + |term|
 *       (the difference, the product and the sum are each one float rounding); both twins do the
 *       same float operations, so they are also compared with each other exactly.</li>
 *   <li>plain reductions: {@value #REDUCE_REL}·Σ|terms|. The vector twin adds at most 32 terms per
 *       lane in float before folding each chunk into double, and both twins round x − c to float;
 *       the worst error measured over these data, sizes up to 1e6 and 20 seeds was 1.5e-7 of
 *       Σ|terms|. A float accumulator over the whole run, the bug this guards against, fails
 *       {@code sumSquares} at n = 4099 with mean 1e4, and {@link #longRuns} by two orders of magnitude.</li>
 *   <li>{@code rowBackwardSums} row sums: a plain reduction ({@value #REDUCE_REL}·Σ|terms|).</li>
 * </ul>
 * The elementwise kernels of the two twins are documented as bit-identical, so those are also
 * compared with each other exactly.
 */
class LoopsTest {
    private static final int[] SIZES = {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 97, 128, 1000, 4099};
    private static final double U = 0x1p-24;
    private static final double DU = 0x1p-53;
    private static final double REDUCE_REL = 1e-6;
    /** A different offset for every role, so a swapped offset cannot go unnoticed. */
    private static final int X_OFF = 3, Y_OFF = 5, DY_OFF = 7, DX_OFF = 2, P_OFF = 4;
    /**
     * Rows of the "columns" sums: several, so the row stride is exercised; 29 = one pass of the
     * vector twin's sixteen rows at a time, three of its four rows at a time and a single row after
     * them (within one fold of {@link Normalization#FOLD_ROWS} rows).
     */
    private static final int ROWS = 29;

    enum Kind { RANDOM, LARGE_MEAN }

    @Test
    void vectorTwinLoadsWhenModulePresent() throws ReflectiveOperationException {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            assertNotNull(Loops.vector(), "jdk.incubator.vector is present but the vector twin did not load");
            assertEquals("org.norm4j.kernels.vector.VectorLoops", Loops.vector().getClass().getName());
            Object species = Class.forName("jdk.incubator.vector.FloatVector").getField("SPECIES_PREFERRED").get(null);
            System.out.println("LoopsTest: vector twin active, " + species);
        } else {
            assertNull(Loops.vector());
            System.out.println("LoopsTest: jdk.incubator.vector absent, scalar twin only");
        }
    }

    // ---- data ----------------------------------------------------------------------------------

    /** Seed per (method, n, kind): each case reproducible on its own. */
    private static Random random(String method, int n, Kind kind) {
        return new Random(31L * (31L * method.hashCode() + n) + kind.ordinal());
    }

    /** off + n floats, all of them set (the prefix too, to detect stray writes). */
    private static float[] data(Random r, int off, int n, Kind kind) {
        float[] a = new float[off + n];
        for (int i = 0; i < a.length; i++) {
            a[i] = kind == Kind.LARGE_MEAN ? (float) (1e4 + 1e-2 * r.nextGaussian()) : (float) r.nextGaussian();
        }
        return a;
    }

    private static float[] gauss(Random r, int len, double base, double spread) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) (base + spread * r.nextGaussian());
        return a;
    }

    private static double[] doubles(Random r, int len) {
        double[] a = new double[len];
        for (int i = 0; i < len; i++) a[i] = r.nextGaussian();
        return a;
    }

    /** The center a caller would pass: float(mean estimate) for large means, any value otherwise. */
    private static float center(Random r, float[] x, int off, int n, Kind kind) {
        if (kind == Kind.RANDOM) return (float) (0.5 * r.nextGaussian());
        if (n == 0) return 1e4f;
        double s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return (float) (s / n);
    }

    /** Per-column centers: near the data for large means (as channel means are), anything otherwise. */
    private static float[] centers(Random r, int len, Kind kind) {
        return kind == Kind.LARGE_MEAN ? gauss(r, len, 1e4, 1e-3) : gauss(r, len, 0, 0.5);
    }

    /** Scales: about 1/std, so about 100 for the large-mean data. */
    private static float scaleFor(Random r, Kind kind) {
        return (float) ((kind == Kind.LARGE_MEAN ? 100 : 1) * (0.5 + r.nextDouble()));
    }

    private static String label(String twin, String method, int n, Kind kind) {
        return twin + " " + method + " n=" + n + " " + kind;
    }

    // ---- checks --------------------------------------------------------------------------------

    /** Fails with the label, the first elements outside tolerance and the max difference. */
    private static void check(String label, int n, IntToDoubleFunction expected, IntToDoubleFunction actual, IntToDoubleFunction tol) {
        int bad = 0, maxAt = -1;
        double maxDiff = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < n; i++) {
            double e = expected.applyAsDouble(i), a = actual.applyAsDouble(i), t = tol.applyAsDouble(i);
            double diff = Math.abs(a - e);
            if (Double.isNaN(diff) || diff > maxDiff) {
                maxDiff = diff;
                maxAt = i;
            }
            if (!(diff <= t) && bad++ < 3) {
                first.append(String.format("%n  [%d] expected %.9g, actual %.9g, |diff| %.3g > tol %.3g", i, e, a, diff, t));
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d outside tolerance, max |diff| %.3g at [%d]; first:%s", label, bad, n, maxDiff, maxAt, first));
        }
    }

    private static void checkValue(String label, double expected, double actual, double tol) {
        check(label, 1, i -> expected, i -> actual, i -> tol);
    }

    private static void checkPrefix(String label, float[] before, float[] after, int off) {
        assertArrayEquals(Arrays.copyOf(before, off), Arrays.copyOf(after, off), label + ": wrote before its offset");
    }

    private static void checkPrefix(String label, double[] before, double[] after, int off) {
        assertArrayEquals(Arrays.copyOf(before, off), Arrays.copyOf(after, off), label + ": wrote before its offset");
    }

    /** The elementwise kernels promise bit-identical twins: compare with the scalar twin's result exactly. */
    private static void checkSameAsScalar(String label, Loops l, float[] actual, float[] scalarResult) {
        if (l == Loops.scalar()) return;
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(scalarResult[i])) {
                fail(String.format("%s: differs from the scalar twin first at [%d]: %.9g vs %.9g", label, i, actual[i], scalarResult[i]));
            }
        }
    }

    private static void checkSameAsScalar(String label, Loops l, double[] actual, double[] scalarResult) {
        if (l == Loops.scalar()) return;
        for (int i = 0; i < actual.length; i++) {
            if (Double.doubleToLongBits(actual[i]) != Double.doubleToLongBits(scalarResult[i])) {
                fail(String.format("%s: differs from the scalar twin first at [%d]: %.17g vs %.17g", label, i, actual[i], scalarResult[i]));
            }
        }
    }

    private static double elementTol(double mag) {
        return 8 * U * mag;
    }

    private static double updateTol(double acc, double term) {
        return 4 * U * Math.abs(term) + 4 * DU * (Math.abs(acc) + Math.abs(term));
    }

    // ---- plain reductions ----------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sum(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                float[] x = data(random("sum", n, kind), X_OFF, n, kind);
                double s = 0, abs = 0;
                for (int i = 0; i < n; i++) {
                    s += x[X_OFF + i];
                    abs += Math.abs(x[X_OFF + i]);
                }
                checkValue(label(name, "sum", n, kind), s, l.sum(x, X_OFF, n), REDUCE_REL * abs);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sumShifted(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("sumShifted", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float shift = center(r, x, X_OFF, n, kind);
                double[] acc = {r.nextGaussian(), Math.abs(r.nextGaussian())};
                double s1 = acc[0], s2 = acc[1], abs1 = Math.abs(acc[0]), abs2 = acc[1];
                for (int i = 0; i < n; i++) {
                    double d = (double) x[X_OFF + i] - shift;
                    s1 += d;
                    s2 += d * d;
                    abs1 += Math.abs(d);
                    abs2 += d * d;
                }
                l.sumShifted(acc, x, X_OFF, n, shift);
                String label = label(name, "sumShifted", n, kind);
                checkValue(label + " acc[0]", s1, acc[0], REDUCE_REL * abs1);
                checkValue(label + " acc[1]", s2, acc[1], REDUCE_REL * abs2);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sumSquares(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                float[] x = data(random("sumSquares", n, kind), X_OFF, n, kind);
                double s = 0;
                for (int i = 0; i < n; i++) s += (double) x[X_OFF + i] * x[X_OFF + i];
                checkValue(label(name, "sumSquares", n, kind), s, l.sumSquares(x, X_OFF, n), REDUCE_REL * s);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void dotShifted(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("dotShifted", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float[] dy = data(r, DY_OFF, n, Kind.RANDOM);
                float center = center(r, x, X_OFF, n, kind);
                double[] acc = {r.nextGaussian(), r.nextGaussian()};
                double s1 = acc[0], s2 = acc[1], abs1 = Math.abs(acc[0]), abs2 = Math.abs(acc[1]);
                for (int i = 0; i < n; i++) {
                    double g = dy[DY_OFF + i], t = g * ((double) x[X_OFF + i] - center);
                    s1 += g;
                    s2 += t;
                    abs1 += Math.abs(g);
                    abs2 += Math.abs(t);
                }
                l.dotShifted(acc, dy, DY_OFF, x, X_OFF, n, center);
                String label = label(name, "dotShifted", n, kind);
                checkValue(label + " acc[0]", s1, acc[0], REDUCE_REL * abs1);
                checkValue(label + " acc[1]", s2, acc[1], REDUCE_REL * abs2);
            }
        }
    }

    /**
     * A million terms of mean 1e4 (and their squares): lanes that add in float over the whole run
     * are off by about 2e-4 relative here; the chunked lanes must stay within {@value #REDUCE_REL}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void longRuns(String name) {
        Loops l = Twins.get(name);
        int n = 1_000_003;
        Random r = random("longRuns", n, Kind.LARGE_MEAN);
        float[] x = data(r, X_OFF, n, Kind.LARGE_MEAN);
        float[] dy = data(r, DY_OFF, n, Kind.LARGE_MEAN);
        double s = 0, sq = 0, dot = 0;
        for (int i = 0; i < n; i++) {
            double v = x[X_OFF + i];
            s += v;
            sq += v * v;
            dot += dy[DY_OFF + i] * v;
        }
        String label = label(name, "longRuns", n, Kind.LARGE_MEAN);
        checkValue(label + " sum", s, l.sum(x, X_OFF, n), REDUCE_REL * s);
        checkValue(label + " sumSquares", sq, l.sumSquares(x, X_OFF, n), REDUCE_REL * sq);
        double[] acc = new double[2];
        l.sumShifted(acc, x, X_OFF, n, 0f);
        checkValue(label + " sumShifted acc[0]", s, acc[0], REDUCE_REL * s);
        checkValue(label + " sumShifted acc[1]", sq, acc[1], REDUCE_REL * sq);
        acc = new double[2];
        l.dotShifted(acc, dy, DY_OFF, x, X_OFF, n, 0f);
        checkValue(label + " dotShifted acc[1]", dot, acc[1], REDUCE_REL * dot);
    }

    // ---- elementwise over one run --------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affine(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("affine", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float center = center(r, x, X_OFF, n, kind), scale = scaleFor(r, kind), shift = (float) r.nextGaussian();
                float[] y = data(r, Y_OFF, n, Kind.RANDOM), yBefore = y.clone();
                l.affine(y, Y_OFF, x, X_OFF, n, center, scale, shift);
                String label = label(name, "affine", n, kind);
                IntToDoubleFunction term = i -> ((double) x[X_OFF + i] - center) * scale;
                check(label, n, i -> term.applyAsDouble(i) + shift, i -> y[Y_OFF + i],
                        i -> elementTol(Math.abs(term.applyAsDouble(i)) + Math.abs(shift)));
                checkPrefix(label, yBefore, y, Y_OFF);
                float[] yScalar = yBefore.clone();
                Loops.scalar().affine(yScalar, Y_OFF, x, X_OFF, n, center, scale, shift);
                checkSameAsScalar(label, l, y, yScalar);

                float[] inPlace = x.clone();   // y = x at the same offset
                l.affine(inPlace, X_OFF, inPlace, X_OFF, n, center, scale, shift);
                assertArrayEquals(Arrays.copyOfRange(y, Y_OFF, Y_OFF + n), Arrays.copyOfRange(inPlace, X_OFF, X_OFF + n),
                        label + " in place");
                checkPrefix(label + " in place", x, inPlace, X_OFF);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineBackward(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("affineBackward", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float[] dy = data(r, DY_OFF, n, Kind.RANDOM);
                float[] dx = data(r, DX_OFF, n, Kind.RANDOM), dxBefore = dx.clone();
                float center = center(r, x, X_OFF, n, kind);
                float coefDy = scaleFor(r, kind), coefX = (float) r.nextGaussian() * scaleFor(r, kind), coefK = (float) r.nextGaussian();
                l.affineBackward(dx, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK);
                String label = label(name, "affineBackward", n, kind);
                IntToDoubleFunction t0 = i -> dxBefore[DX_OFF + i];
                IntToDoubleFunction t1 = i -> (double) coefDy * dy[DY_OFF + i];
                IntToDoubleFunction t2 = i -> coefX * ((double) x[X_OFF + i] - center);
                check(label, n, i -> t0.applyAsDouble(i) + t1.applyAsDouble(i) + t2.applyAsDouble(i) + coefK, i -> dx[DX_OFF + i],
                        i -> elementTol(Math.abs(t0.applyAsDouble(i)) + Math.abs(t1.applyAsDouble(i)) + Math.abs(t2.applyAsDouble(i))
                                + Math.abs(coefK)));
                checkPrefix(label, dxBefore, dx, DX_OFF);
                float[] dxScalar = dxBefore.clone();
                Loops.scalar().affineBackward(dxScalar, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK);
                checkSameAsScalar(label, l, dx, dxScalar);
                float[] assigned = withRange(dxBefore, DX_OFF, n, Float.NaN), added = withRange(dxBefore, DX_OFF, n, 0f);
                l.affineBackward(assigned, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, true);
                l.affineBackward(added, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, false);
                checkAssigned(label, l, assigned, added, dxBefore, DX_OFF, n,
                        o -> Loops.scalar().affineBackward(o, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, true));
            }
        }
    }

    /** A copy of a with [off, off + n) set to v. */
    private static float[] withRange(float[] a, int off, int n, float v) {
        float[] c = a.clone();
        java.util.Arrays.fill(c, off, off + n, v);
        return c;
    }

    /**
     * The assigning variant over garbage (NaN) equals the adding one over zeros (−0 and +0 alike:
     * 0 + (−0) is +0), leaves the prefix alone, and is bit-identical to the scalar twin's.
     */
    private static void checkAssigned(String label, Loops l, float[] assigned, float[] added, float[] before, int off, int n,
                                      java.util.function.Consumer<float[]> scalarAssign) {
        for (int i = off; i < added.length; i++) {
            if (!(assigned[i] == added[i] || Float.isNaN(added[i]) && Float.isNaN(assigned[i]))) {
                throw new AssertionError(label + " assign: element " + (i - off) + " is " + assigned[i] + ", adding to 0 gives " + added[i]);
            }
        }
        checkPrefix(label + " assign", before, assigned, off);
        float[] scalar = withRange(before, off, n, Float.NaN);
        scalarAssign.accept(scalar);
        checkSameAsScalar(label + " assign", l, assigned, scalar);
    }

    // ---- channels-last rows: one parameter per element -----------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sumColumns(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("sumColumns", n, kind);
                float[] x = data(r, X_OFF, ROWS * n, kind);
                float[] acc = gauss(r, P_OFF + n, 0, 1), accBefore = acc.clone();
                l.sumColumns(acc, P_OFF, x, X_OFF, ROWS, n);
                String label = label(name, "sumColumns", n, kind);
                check(label, n, i -> accBefore[P_OFF + i] + columnSum(i, n, k -> x[X_OFF + k]), i -> acc[P_OFF + i],
                        i -> elementTol(Math.abs(accBefore[P_OFF + i]) + columnSum(i, n, k -> Math.abs(x[X_OFF + k]))));
                checkPrefix(label, accBefore, acc, P_OFF);
                float[] accScalar = accBefore.clone();
                Loops.scalar().sumColumns(accScalar, P_OFF, x, X_OFF, ROWS, n);
                checkSameAsScalar(label, l, acc, accScalar);
            }
        }
    }

    /** Σ over the {@link #ROWS} rows of column i of a row-major block of n columns. */
    private static double columnSum(int i, int n, IntToDoubleFunction element) {
        double s = 0;
        for (int row = 0; row < ROWS; row++) s += element.applyAsDouble(row * n + i);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void sumShiftedColumns(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("sumShiftedColumns", n, kind);
                float[] x = data(r, X_OFF, ROWS * n, kind);
                float[] shift = centers(r, P_OFF + n, kind);
                ColumnSums sums = new ColumnSums(r, n);
                l.sumShiftedColumns(sums.s1, sums.s2, P_OFF, x, X_OFF, ROWS, n, shift, sums.f1, sums.f2);
                IntToDoubleFunction d = k -> (double) x[X_OFF + k] - shift[P_OFF + k % Math.max(1, n)];
                sums.verify(label(name, "sumShiftedColumns", n, kind), l, d, k -> d.applyAsDouble(k) * d.applyAsDouble(k),
                        (s1, s2, f1, f2) -> Loops.scalar().sumShiftedColumns(s1, s2, P_OFF, x, X_OFF, ROWS, n, shift, f1, f2));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void addWidened(String name) {
        Loops l = Twins.get(name);
        for (int n : SIZES) {
            Random r = random("addWidened", n, Kind.RANDOM);
            double[] s = doubles(r, P_OFF + n), before = s.clone();
            float[] f = gauss(r, n, 0, 1e3);
            float[] fBefore = f.clone();
            l.addWidened(s, P_OFF, f, n);
            String label = label(name, "addWidened", n, Kind.RANDOM);
            for (int i = 0; i < n; i++) {
                // one double addition of the exactly widened float: the reference is that addition
                assertEquals(before[P_OFF + i] + (double) fBefore[i], s[P_OFF + i], 0, label + " at " + i);
            }
            assertArrayEquals(new float[n], f, label + ": f not left zero");
            checkPrefix(label, before, s, P_OFF);
        }
    }

    /**
     * The double sums a "columns" kernel adds one fold into (random, at {@link #P_OFF}) and its
     * float scratch; {@link #verify} holds the result to double column sums, the scratch to zero,
     * the prefix to untouched, and the vector twin to the scalar one bit for bit.
     */
    private static final class ColumnSums {
        final int n;
        final double[] s1, s2, before1, before2;
        final float[] f1, f2;

        ColumnSums(Random r, int n) {
            this.n = n;
            s1 = doubles(r, P_OFF + n);
            s2 = doubles(r, P_OFF + n);
            before1 = s1.clone();
            before2 = s2.clone();
            f1 = new float[n];
            f2 = new float[n];
        }

        interface Kernel {
            void run(double[] s1, double[] s2, float[] f1, float[] f2);
        }

        /** term1, term2: the k-th element's terms of s1 and s2 (k = row·n + column). */
        void verify(String label, Loops l, IntToDoubleFunction term1, IntToDoubleFunction term2, Kernel scalar) {
            checkOne(label + " s1", before1, s1, term1);
            checkOne(label + " s2", before2, s2, term2);
            assertArrayEquals(new float[n], f1, label + ": scratch f1 not left zero");
            assertArrayEquals(new float[n], f2, label + ": scratch f2 not left zero");
            double[] s1Scalar = before1.clone(), s2Scalar = before2.clone();
            scalar.run(s1Scalar, s2Scalar, new float[n], new float[n]);
            checkSameAsScalar(label + " s1", l, s1, s1Scalar);
            checkSameAsScalar(label + " s2", l, s2, s2Scalar);
        }

        private void checkOne(String label, double[] before, double[] after, IntToDoubleFunction term) {
            // the float sum's rounding (ROWS terms) dominates; the double addition adds one DU
            LoopsTest.check(label, n, i -> before[P_OFF + i] + columnSum(i, n, term), i -> after[P_OFF + i],
                    i -> elementTol(columnSum(i, n, k -> Math.abs(term.applyAsDouble(k)))) + 2 * DU * Math.abs(before[P_OFF + i]));
            checkPrefix(label, before, after, P_OFF);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineColumns(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("affineColumns", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float[] center = centers(r, P_OFF + n, kind);
                float[] scale = gauss(r, P_OFF + n, scaleFor(r, kind), 0.1);
                float[] shift = gauss(r, P_OFF + n, 0, 1);
                float[] y = data(r, Y_OFF, n, Kind.RANDOM), yBefore = y.clone();
                l.affineColumns(y, Y_OFF, x, X_OFF, n, center, scale, shift, P_OFF);
                String label = label(name, "affineColumns", n, kind);
                IntToDoubleFunction term = i -> ((double) x[X_OFF + i] - center[P_OFF + i]) * scale[P_OFF + i];
                check(label, n, i -> term.applyAsDouble(i) + shift[P_OFF + i], i -> y[Y_OFF + i],
                        i -> elementTol(Math.abs(term.applyAsDouble(i)) + Math.abs(shift[P_OFF + i])));
                checkPrefix(label, yBefore, y, Y_OFF);
                float[] yScalar = yBefore.clone();
                Loops.scalar().affineColumns(yScalar, Y_OFF, x, X_OFF, n, center, scale, shift, P_OFF);
                checkSameAsScalar(label, l, y, yScalar);
            }
        }
    }

    /**
     * affineRows: each row what the scalar affineColumns writes with the parameters at 0 (four
     * vectors a row: the registers' loop), nothing else touched (the scalar twin's default is that
     * row-by-row loop itself).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineRowsIsAffineColumnsRowByRow(String name) {
        Loops l = Twins.get(name);
        for (int n : new int[] {1, 16, 17, 48, 64, 65, 128}) {
            for (int rows : new int[] {0, 1, 3, 8}) {
                Random r = random("affineRows", n * 16 + rows, Kind.RANDOM);
                float[] x = data(r, X_OFF, rows * n, Kind.RANDOM);
                float[] center = centers(r, n, Kind.RANDOM), scale = gauss(r, n, 1, 0.1), shift = gauss(r, n, 0, 1);
                float[] y = data(r, Y_OFF, rows * n + 3, Kind.RANDOM), expected = y.clone();
                l.affineRows(y, Y_OFF, x, X_OFF, rows, n, center, scale, shift);
                for (int row = 0; row < rows; row++) {
                    Loops.scalar().affineColumns(expected, Y_OFF + row * n, x, X_OFF + row * n, n, center, scale, shift, 0);
                }
                checkSameAsScalar(label(name, "affineRows " + rows + " rows", n, Kind.RANDOM), l, y, expected);
            }
        }
    }

    /**
     * affineBackwardRows: each row what the scalar affineBackwardColumns writes with the
     * coefficients at 0, assigned or added (four vectors a row, 32 or 64 floats by the machine's
     * vector width: the registers' loop), nothing else touched (the scalar twin's default is that
     * row-by-row loop itself; the vector twin's other widths go through it too).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineBackwardRowsIsAffineBackwardColumnsRowByRow(String name) {
        Loops l = Twins.get(name);
        for (int n : new int[] {1, 16, 17, 32, 48, 64, 65, 128}) {
            for (int rows : new int[] {0, 1, 3, 8}) {
                for (boolean assign : new boolean[] {true, false}) {
                    Random r = random("affineBackwardRows", n * 16 + rows, Kind.RANDOM);
                    float[] x = data(r, X_OFF, rows * n, Kind.RANDOM), dy = data(r, DY_OFF, rows * n, Kind.RANDOM);
                    float[] center = centers(r, n, Kind.RANDOM), coefDy = gauss(r, n, 1, 0.1), coefX = gauss(r, n, 0, 0.1),
                            coefK = gauss(r, n, 0, 0.01);
                    float[] dx = data(r, DX_OFF, rows * n + 3, Kind.RANDOM), expected = dx.clone();
                    l.affineBackwardRows(dx, DX_OFF, dy, DY_OFF, x, X_OFF, rows, n, coefDy, coefX, center, coefK, assign);
                    for (int row = 0; row < rows; row++) {
                        int off = row * n;
                        Loops.scalar().affineBackwardColumns(expected, DX_OFF + off, dy, DY_OFF + off, x, X_OFF + off, n, coefDy, coefX,
                                center, coefK, 0, assign);
                    }
                    checkSameAsScalar(label(name, "affineBackwardRows " + rows + " rows" + (assign ? ", assigned" : ", added"), n, Kind.RANDOM),
                            l, dx, expected);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void dotShiftedColumns(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("dotShiftedColumns", n, kind);
                float[] x = data(r, X_OFF, ROWS * n, kind);
                float[] dy = data(r, DY_OFF, ROWS * n, Kind.RANDOM);
                float[] center = centers(r, P_OFF + n, kind);
                ColumnSums sums = new ColumnSums(r, n);
                l.dotShiftedColumns(sums.s1, sums.s2, P_OFF, dy, DY_OFF, x, X_OFF, ROWS, n, center, sums.f1, sums.f2);
                IntToDoubleFunction t = k -> dy[DY_OFF + k] * ((double) x[X_OFF + k] - center[P_OFF + k % Math.max(1, n)]);
                sums.verify(label(name, "dotShiftedColumns", n, kind), l, k -> dy[DY_OFF + k], t,
                        (s1, s2, f1, f2) -> Loops.scalar().dotShiftedColumns(s1, s2, P_OFF, dy, DY_OFF, x, X_OFF, ROWS, n, center, f1, f2));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void affineBackwardColumns(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                Random r = random("affineBackwardColumns", n, kind);
                float[] x = data(r, X_OFF, n, kind);
                float[] dy = data(r, DY_OFF, n, Kind.RANDOM);
                float[] dx = data(r, DX_OFF, n, Kind.RANDOM), dxBefore = dx.clone();
                float[] coefDy = gauss(r, P_OFF + n, scaleFor(r, kind), 0.1);
                float[] coefX = gauss(r, P_OFF + n, 0, scaleFor(r, kind));
                float[] center = centers(r, P_OFF + n, kind);
                float[] coefK = gauss(r, P_OFF + n, 0, 1);
                l.affineBackwardColumns(dx, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, P_OFF);
                String label = label(name, "affineBackwardColumns", n, kind);
                IntToDoubleFunction t0 = i -> dxBefore[DX_OFF + i];
                IntToDoubleFunction t1 = i -> (double) coefDy[P_OFF + i] * dy[DY_OFF + i];
                IntToDoubleFunction t2 = i -> coefX[P_OFF + i] * ((double) x[X_OFF + i] - center[P_OFF + i]);
                IntToDoubleFunction t3 = i -> coefK[P_OFF + i];
                check(label, n, i -> t0.applyAsDouble(i) + t1.applyAsDouble(i) + t2.applyAsDouble(i) + t3.applyAsDouble(i),
                        i -> dx[DX_OFF + i],
                        i -> elementTol(Math.abs(t0.applyAsDouble(i)) + Math.abs(t1.applyAsDouble(i)) + Math.abs(t2.applyAsDouble(i))
                                + Math.abs(t3.applyAsDouble(i))));
                checkPrefix(label, dxBefore, dx, DX_OFF);
                float[] dxScalar = dxBefore.clone();
                Loops.scalar().affineBackwardColumns(dxScalar, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, P_OFF);
                checkSameAsScalar(label, l, dx, dxScalar);
                float[] assigned = withRange(dxBefore, DX_OFF, n, Float.NaN), added = withRange(dxBefore, DX_OFF, n, 0f);
                l.affineBackwardColumns(assigned, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, P_OFF, true);
                l.affineBackwardColumns(added, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, P_OFF, false);
                checkAssigned(label, l, assigned, added, dxBefore, DX_OFF, n,
                        o -> Loops.scalar().affineBackwardColumns(o, DX_OFF, dy, DY_OFF, x, X_OFF, n, coefDy, coefX, center, coefK, P_OFF, true));
            }
        }
    }

    // ---- rows: per-row statistics, per-element gamma and beta (no offset: gamma[i]) ------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void normalizeRow(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int nulls = 0; nulls < 4; nulls++) {
                    Random r = random("normalizeRow", n, kind);
                    float[] x = data(r, X_OFF, n, kind);
                    float center = center(r, x, X_OFF, n, kind), invStd = scaleFor(r, kind), corr = (float) (0.01 * r.nextGaussian());
                    float[] gamma = (nulls & 1) != 0 ? null : gauss(r, n, 1, 0.5);
                    float[] beta = (nulls & 2) != 0 ? null : gauss(r, n, 0, 1);
                    float[] y = data(r, Y_OFF, n, Kind.RANDOM), yBefore = y.clone();
                    l.normalizeRow(y, Y_OFF, x, X_OFF, n, center, invStd, corr, gamma, beta);
                    String label = label(name, "normalizeRow", n, kind) + " gamma " + (gamma == null ? "null" : "set")
                            + ", beta " + (beta == null ? "null" : "set");
                    IntToDoubleFunction xc = i -> ((double) x[X_OFF + i] - center) * invStd;
                    IntToDoubleFunction g = i -> gamma == null ? 1 : gamma[i];
                    IntToDoubleFunction b = i -> beta == null ? 0 : beta[i];
                    check(label, n, i -> (xc.applyAsDouble(i) + corr) * g.applyAsDouble(i) + b.applyAsDouble(i), i -> y[Y_OFF + i],
                            i -> elementTol((Math.abs(xc.applyAsDouble(i)) + Math.abs(corr)) * Math.abs(g.applyAsDouble(i))
                                    + Math.abs(b.applyAsDouble(i))));
                    checkPrefix(label, yBefore, y, Y_OFF);
                    float[] yScalar = yBefore.clone();
                    Loops.scalar().normalizeRow(yScalar, Y_OFF, x, X_OFF, n, center, invStd, corr, gamma, beta);
                    checkSameAsScalar(label, l, y, yScalar);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void rowBackwardSums(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int nulls = 0; nulls < 8; nulls++) {
                    Random r = random("rowBackwardSums", n, kind);
                    float[] x = data(r, X_OFF, n, kind);
                    float[] dy = data(r, DY_OFF, n, Kind.RANDOM);
                    float center = center(r, x, X_OFF, n, kind), invStd = scaleFor(r, kind), corr = (float) (0.01 * r.nextGaussian());
                    float[] gamma = (nulls & 1) != 0 ? null : gauss(r, n, 1, 0.5);
                    float[] dGamma = (nulls & 2) != 0 ? null : gauss(r, n, 0, 1);
                    float[] dBeta = (nulls & 4) != 0 ? null : gauss(r, n, 0, 1);
                    float[] dGammaBefore = dGamma == null ? null : dGamma.clone(), dBetaBefore = dBeta == null ? null : dBeta.clone();
                    double[] acc = {r.nextGaussian(), r.nextGaussian()};
                    String label = label(name, "rowBackwardSums", n, kind) + " gamma " + (gamma == null ? "null" : "set")
                            + ", dGamma " + (dGamma == null ? "null" : "set") + ", dBeta " + (dBeta == null ? "null" : "set");

                    double g1 = acc[0], g2 = acc[1], abs1 = Math.abs(acc[0]), abs2 = Math.abs(acc[1]);
                    double[] xhat = new double[n];
                    double[] xhatAbs = new double[n];   // Σ|terms| of xhat, for the tolerance of dy·xhat
                    for (int i = 0; i < n; i++) {
                        double xc = ((double) x[X_OFF + i] - center) * invStd;
                        xhat[i] = xc + corr;
                        xhatAbs[i] = Math.abs(xc) + Math.abs(corr);
                        double gd = (gamma == null ? 1 : gamma[i]) * (double) dy[DY_OFF + i];
                        g1 += gd;
                        g2 += gd * xhat[i];
                        abs1 += Math.abs(gd);
                        abs2 += Math.abs(gd) * xhatAbs[i];
                    }
                    double[] accScalar = acc.clone();
                    l.rowBackwardSums(acc, dGamma, dBeta, dy, DY_OFF, x, X_OFF, n, center, invStd, corr, gamma);
                    checkValue(label + " acc[0]", g1, acc[0], REDUCE_REL * abs1);
                    checkValue(label + " acc[1]", g2, acc[1], REDUCE_REL * abs2);
                    if (dGamma != null) {
                        check(label + " dGamma", n, i -> dGammaBefore[i] + dy[DY_OFF + i] * xhat[i], i -> dGamma[i],
                                i -> elementTol(Math.abs(dGammaBefore[i]) + Math.abs(dy[DY_OFF + i]) * xhatAbs[i]));
                    }
                    if (dBeta != null) {
                        check(label + " dBeta", n, i -> (double) dBetaBefore[i] + dy[DY_OFF + i], i -> dBeta[i],
                                i -> elementTol(Math.abs(dBetaBefore[i]) + Math.abs(dy[DY_OFF + i])));
                    }
                    float[] dGammaScalar = dGamma == null ? null : dGammaBefore.clone();
                    float[] dBetaScalar = dBeta == null ? null : dBetaBefore.clone();
                    Loops.scalar().rowBackwardSums(accScalar, dGammaScalar, dBetaScalar, dy, DY_OFF, x, X_OFF, n, center, invStd, corr, gamma);
                    if (dGamma != null) checkSameAsScalar(label + " dGamma", l, dGamma, dGammaScalar);
                    if (dBeta != null) checkSameAsScalar(label + " dBeta", l, dBeta, dBetaScalar);
                }
            }
        }
    }

    /** The two rows' parameters of a pair call, at [ROW] and [ROW + 1] of arrays of 4: a center near each row, a scale, a small correction. */
    private record PairParams(float[] center, float[] invStd, float[] corr) {
        static final int ROW = 1;

        static PairParams of(Random r, float[] x, int n, Kind kind) {
            float[] center = new float[4], invStd = new float[4], corr = new float[4];
            for (int j = 0; j < 2; j++) {
                center[ROW + j] = LoopsTest.center(r, x, X_OFF + j * n, n, kind);
                invStd[ROW + j] = scaleFor(r, kind);
                corr[ROW + j] = (float) (0.01 * r.nextGaussian());
            }
            return new PairParams(center, invStd, corr);
        }
    }

    /** Two rows' outputs in one call are the two single-row calls' (gamma and beta read once). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void normalizeRowPairIsTwoRowCalls(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int nulls = 0; nulls < 4; nulls++) {
                    Random r = random("normalizeRowPair", n, kind);
                    float[] x = data(r, X_OFF, 2 * n, kind);
                    int row = PairParams.ROW;
                    PairParams pp = PairParams.of(r, x, n, kind);
                    float[] center = pp.center(), invStd = pp.invStd(), corr = pp.corr();
                    float[] gamma = (nulls & 1) != 0 ? null : gauss(r, n, 1, 0.5);
                    float[] beta = (nulls & 2) != 0 ? null : gauss(r, n, 0, 1);
                    float[] y = data(r, Y_OFF, 2 * n, Kind.RANDOM), yRows = y.clone();
                    l.normalizeRowPair(y, Y_OFF, x, X_OFF, n, center, invStd, corr, row, gamma, beta);
                    for (int j = 0; j < 2; j++) {
                        l.normalizeRow(yRows, Y_OFF + j * n, x, X_OFF + j * n, n, center[row + j], invStd[row + j], corr[row + j], gamma, beta);
                    }
                    String label = label(name, "normalizeRowPair", n, kind) + " gamma " + (gamma == null ? "null" : "set")
                            + ", beta " + (beta == null ? "null" : "set");
                    assertArrayEquals(yRows, y, 0, label + ": the two calls' outputs, and nothing else written");
                }
            }
        }
    }

    /**
     * Two rows in one call are the two single-row calls: the same bits in acc (each row's sums)
     * and in dGamma and dBeta (row r's term added before row r + 1's), the second row read at +n,
     * each row with its own parameters.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void rowBackwardSumsPairIsTwoRowCalls(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int nulls = 0; nulls < 8; nulls++) {
                    Random r = random("rowBackwardSumsPair", n, kind);
                    float[] x = data(r, X_OFF, 2 * n, kind);
                    float[] dy = data(r, DY_OFF, 2 * n, Kind.RANDOM);
                    int row = PairParams.ROW;
                    PairParams pp = PairParams.of(r, x, n, kind);
                    float[] center = pp.center(), invStd = pp.invStd(), corr = pp.corr();
                    float[] gamma = (nulls & 1) != 0 ? null : gauss(r, n, 1, 0.5);
                    float[] dGamma = (nulls & 2) != 0 ? null : gauss(r, n, 0, 1);
                    float[] dBeta = (nulls & 4) != 0 ? null : gauss(r, n, 0, 1);
                    float[] dGammaRows = dGamma == null ? null : dGamma.clone(), dBetaRows = dBeta == null ? null : dBeta.clone();
                    double[] acc = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
                    double[] acc0 = {acc[0], acc[1]}, acc1 = {acc[2], acc[3]};
                    l.rowBackwardSumsPair(acc, dGamma, dBeta, dy, DY_OFF, x, X_OFF, n, center, invStd, corr, row, gamma);
                    for (int j = 0; j < 2; j++) {
                        l.rowBackwardSums(j == 0 ? acc0 : acc1, dGammaRows, dBetaRows, dy, DY_OFF + j * n, x, X_OFF + j * n, n,
                                center[row + j], invStd[row + j], corr[row + j], gamma);
                    }
                    String label = label(name, "rowBackwardSumsPair", n, kind) + " gamma " + (gamma == null ? "null" : "set")
                            + ", dGamma " + (dGamma == null ? "null" : "set") + ", dBeta " + (dBeta == null ? "null" : "set");
                    assertArrayEquals(new double[] {acc0[0], acc0[1], acc1[0], acc1[1]}, acc, 0, label + ": acc, the two calls' sums");
                    if (dGamma != null) assertArrayEquals(dGammaRows, dGamma, 0, label + ": dGamma, the two calls' updates");
                    if (dBeta != null) assertArrayEquals(dBetaRows, dBeta, 0, label + ": dBeta, the two calls' updates");
                }
            }
        }
    }

    /** A row's dx with the next row's backward sums in one loop is rowBackward then rowBackwardSums: the same bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void rowBackwardThenSumsIsTheTwoCalls(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int flags = 0; flags < 16; flags++) {
                    Random r = random("rowBackwardThenSums", n, kind);
                    float[] x = data(r, X_OFF, 2 * n, kind);
                    float[] dy = data(r, DY_OFF, 2 * n, Kind.RANDOM);
                    PairParams pp = PairParams.of(r, x, n, kind);
                    float[] center = pp.center(), invStd = pp.invStd(), corr = pp.corr();
                    int row = PairParams.ROW;
                    float[] gamma = (flags & 1) != 0 ? null : gauss(r, n, 1, 0.5);
                    float[] dGamma = (flags & 2) != 0 ? null : gauss(r, n, 0, 1);
                    float[] dBeta = (flags & 4) != 0 ? null : gauss(r, n, 0, 1);
                    boolean assign = (flags & 8) != 0;
                    float coefX = (float) (0.1 * r.nextGaussian()), coefK = (float) (0.1 * r.nextGaussian());
                    float[] dx = data(r, DX_OFF, 2 * n, Kind.RANDOM), dxCalls = dx.clone();
                    float[] dGammaCalls = dGamma == null ? null : dGamma.clone(), dBetaCalls = dBeta == null ? null : dBeta.clone();
                    double[] acc = {r.nextGaussian(), r.nextGaussian()}, accCalls = acc.clone();
                    l.rowBackwardThenSums(dx, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd[row], gamma, coefX, center[row], coefK, assign,
                            acc, dGamma, dBeta, DY_OFF + n, X_OFF + n, center[row + 1], invStd[row + 1], corr[row + 1]);
                    l.rowBackward(dxCalls, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd[row], gamma, coefX, center[row], coefK, assign);
                    l.rowBackwardSums(accCalls, dGammaCalls, dBetaCalls, dy, DY_OFF + n, x, X_OFF + n, n, center[row + 1], invStd[row + 1],
                            corr[row + 1], gamma);
                    String label = label(name, "rowBackwardThenSums", n, kind) + " gamma " + (gamma == null ? "null" : "set")
                            + ", dGamma " + (dGamma == null ? "null" : "set") + ", dBeta " + (dBeta == null ? "null" : "set")
                            + (assign ? ", assign" : ", add");
                    assertArrayEquals(dxCalls, dx, 0, label + ": dx, rowBackward's, and nothing else written");
                    assertArrayEquals(accCalls, acc, 0, label + ": acc, rowBackwardSums' sums of the next row");
                    if (dGamma != null) assertArrayEquals(dGammaCalls, dGamma, 0, label + ": dGamma, the next row's updates");
                    if (dBeta != null) assertArrayEquals(dBetaCalls, dBeta, 0, label + ": dBeta, the next row's updates");
                }
            }
        }
    }

    /** Two rows' dx in one call are the two single-row calls' (gamma read once), assigned or added. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void rowBackwardPairIsTwoRowCalls(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int variant = 0; variant < 4; variant++) {
                    boolean noGamma = (variant & 1) != 0, assign = (variant & 2) != 0;
                    Random r = random("rowBackwardPair", n, kind);
                    float[] x = data(r, X_OFF, 2 * n, kind);
                    float[] dy = data(r, DY_OFF, 2 * n, Kind.RANDOM);
                    int row = PairParams.ROW;
                    PairParams pp = PairParams.of(r, x, n, kind);
                    float[] center = pp.center(), invStd = pp.invStd();
                    float[] coef = {(float) (0.1 * r.nextGaussian()), pp.corr()[row], (float) (0.1 * r.nextGaussian()), pp.corr()[row + 1]};
                    float[] gamma = noGamma ? null : gauss(r, n, 1, 0.5);
                    float[] dx = data(r, DX_OFF, 2 * n, Kind.RANDOM), dxRows = dx.clone();
                    l.rowBackwardPair(dx, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, center, row, gamma, coef, assign);
                    for (int j = 0; j < 2; j++) {
                        l.rowBackward(dxRows, DX_OFF + j * n, dy, DY_OFF + j * n, x, X_OFF + j * n, n, invStd[row + j], gamma, coef[2 * j],
                                center[row + j], coef[2 * j + 1], assign);
                    }
                    String label = label(name, "rowBackwardPair", n, kind) + " gamma " + (noGamma ? "null" : "set") + (assign ? ", assign" : ", add");
                    assertArrayEquals(dxRows, dx, 0, label + ": the two calls' dx, and nothing else written");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.norm4j.kernels.Twins#names")
    void rowBackward(String name) {
        Loops l = Twins.get(name);
        for (Kind kind : Kind.values()) {
            for (int n : SIZES) {
                for (int nulls = 0; nulls < 2; nulls++) {
                    Random r = random("rowBackward", n, kind);
                    float[] x = data(r, X_OFF, n, kind);
                    float[] dy = data(r, DY_OFF, n, Kind.RANDOM);
                    float[] dx = data(r, DX_OFF, n, Kind.RANDOM), dxBefore = dx.clone();
                    float center = center(r, x, X_OFF, n, kind), invStd = scaleFor(r, kind);
                    float coefX = (float) r.nextGaussian() * scaleFor(r, kind), coefK = (float) r.nextGaussian();
                    float[] gamma = nulls == 1 ? null : gauss(r, n, 1, 0.5);
                    l.rowBackward(dx, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, gamma, coefX, center, coefK, false);
                    String label = label(name, "rowBackward", n, kind) + " gamma " + (gamma == null ? "null" : "set");
                    IntToDoubleFunction t0 = i -> dxBefore[DX_OFF + i];
                    IntToDoubleFunction t1 = i -> (double) invStd * (gamma == null ? 1 : gamma[i]) * dy[DY_OFF + i];
                    IntToDoubleFunction t2 = i -> coefX * ((double) x[X_OFF + i] - center);
                    check(label, n, i -> t0.applyAsDouble(i) + t1.applyAsDouble(i) + t2.applyAsDouble(i) + coefK, i -> dx[DX_OFF + i],
                            i -> elementTol(Math.abs(t0.applyAsDouble(i)) + Math.abs(t1.applyAsDouble(i)) + Math.abs(t2.applyAsDouble(i))
                                    + Math.abs(coefK)));
                    checkPrefix(label, dxBefore, dx, DX_OFF);
                    float[] dxScalar = dxBefore.clone();
                    Loops.scalar().rowBackward(dxScalar, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, gamma, coefX, center, coefK, false);
                    checkSameAsScalar(label, l, dx, dxScalar);
                    float[] assigned = withRange(dxBefore, DX_OFF, n, Float.NaN), added = withRange(dxBefore, DX_OFF, n, 0f);
                    l.rowBackward(assigned, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, gamma, coefX, center, coefK, true);
                    l.rowBackward(added, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, gamma, coefX, center, coefK, false);
                    checkAssigned(label, l, assigned, added, dxBefore, DX_OFF, n,
                            o -> Loops.scalar().rowBackward(o, DX_OFF, dy, DY_OFF, x, X_OFF, n, invStd, gamma, coefX, center, coefK, true));
                }
            }
        }
    }
}
