package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * ONNX's backend node tests, run by {@link OnnxGraph}: a test is a directory with
 * {@code model.onnx} and {@code test_data_set_*} folders of {@code input_K.pb} /
 * {@code output_K.pb} tensors (Debian's {@code libonnx-testdata} installs the suite under
 * {@value #DEBIAN_NODE_TESTS}). Inputs are fed, in order, to the graph inputs that have no
 * initializer; outputs are compared, in order, with the graph outputs: same type and shape, every
 * element within {@code atol + rtol·|expected|} (numpy's assert_allclose, NaN equal to NaN,
 * integers exact), ONNX's own tolerances rtol 1e-3 and atol 1e-7 unless {@link #tolerance}
 * names a case that needs looser (none does at present).
 *
 * <p>A test passes when every data set does; it is unsupported when loading or running refuses
 * an operator, attribute or data type ({@link UnsupportedOnnxException}); any other outcome —
 * a difference, a wrong shape, an error — is a failure.
 */
public final class OnnxConformance {
    /** Where the node tests are read from when no directory is given: this variable, else {@link #DEBIAN_NODE_TESTS}. */
    public static final String DATA_ENV = "NORM4J_ONNX_TESTDATA";
    public static final String DEBIAN_NODE_TESTS = "/usr/share/libonnx-testdata/data/node";
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-7;

    /** Cases that need a looser tolerance than ONNX's default, with {rtol, atol}; docs/onnx.md says why. Empty: none does. */
    private static final Map<String, double[]> LOOSER = Map.of();

    private OnnxConformance() {}

    public enum Status { PASS, FAIL, UNSUPPORTED }

    /**
     * One test's outcome: its directory name, the operators its model uses (empty when the model
     * could not be read), what happened, and the detail: the largest difference for a pass, the
     * worst element or the error for a failure, the operator, attribute and reason when unsupported.
     */
    public record Result(String name, List<String> operators, Status status, String detail) {
        /** "pass  test_relu  Relu  max |diff| 0", one line. */
        public String line() {
            String ops = operators.isEmpty() ? "?" : String.join("+", operators);
            return String.format(Locale.ROOT, "%-11s %-52s %-26s %s", status.name().toLowerCase(Locale.ROOT), name, ops, detail);
        }
    }

    /** {@code $NORM4J_ONNX_TESTDATA}, else Debian's {@value #DEBIAN_NODE_TESTS}. */
    public static Path defaultDir() {
        String env = System.getenv(DATA_ENV);
        return Path.of(env != null && !env.isBlank() ? env : DEBIAN_NODE_TESTS);
    }

    /** The tolerance {rtol, atol} for a case. */
    public static double[] tolerance(String caseName) {
        return LOOSER.getOrDefault(caseName, new double[] {RTOL, ATOL});
    }

    /** {@code dir} itself when it holds a model.onnx, else its subdirectories that do, by name. */
    public static List<Path> cases(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("model.onnx"))) return List.of(dir);
        if (!Files.isDirectory(dir)) throw new java.nio.file.NoSuchFileException(dir + " (no such directory)");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("model.onnx"))).sorted().toList();
        }
    }

    /** The operators of a case's model, in order of first use; empty when the file cannot be read. */
    public static List<String> operators(Path caseDir) {
        try {
            OnnxProto.Model m = OnnxProto.decodeModel(Files.readAllBytes(caseDir.resolve("model.onnx")), caseDir.resolve("model.onnx"));
            List<String> ops = new ArrayList<>();
            for (OnnxProto.Node n : m.graph().nodes()) if (!ops.contains(n.opType())) ops.add(n.opType());
            return ops;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Runs one test with its tolerance ({@link #tolerance}). */
    public static Result run(Path caseDir) {
        double[] tol = tolerance(caseDir.getFileName().toString());
        return run(caseDir, tol[0], tol[1]);
    }

    public static Result run(Path caseDir, double rtol, double atol) {
        String name = caseDir.getFileName().toString();
        List<String> ops = operators(caseDir);
        try {
            OnnxGraph g = OnnxGraph.load(caseDir.resolve("model.onnx"));
            List<Path> sets;
            try (Stream<Path> s = Files.list(caseDir)) {
                sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_") && Files.isDirectory(p)).sorted().toList();
            }
            if (sets.isEmpty()) return new Result(name, ops, Status.FAIL, "error: no test_data_set_* directory");
            double worst = 0;
            int compared = 0;
            for (Path set : sets) {
                List<OnnxTensor> in = numbered(set, "input_"), want = numbered(set, "output_");
                List<OnnxTensor> got = g.run(in);
                if (want.size() != got.size()) {
                    return new Result(name, ops, Status.FAIL, set.getFileName() + ": " + want.size() + " expected outputs, the graph has " + got.size());
                }
                for (int k = 0; k < want.size(); k++) {
                    Diff d = compare(got.get(k), want.get(k), rtol, atol);
                    if (d.problem() != null) {
                        String where = (sets.size() > 1 ? set.getFileName() + " " : "") + "output " + k + " " + OnnxProto.quote(g.outputNames().get(k));
                        return new Result(name, ops, Status.FAIL, where + ": " + d.problem());
                    }
                    worst = Math.max(worst, d.maxDiff());
                    compared++;
                }
            }
            return new Result(name, ops, Status.PASS, String.format(Locale.ROOT, "max |diff| %.2g (%d output%s, %d data set%s)", worst, compared,
                    compared == 1 ? "" : "s", sets.size(), sets.size() == 1 ? "" : "s"));
        } catch (UnsupportedOnnxException e) {
            return new Result(name, ops, Status.UNSUPPORTED, unsupported(e));
        } catch (IOException | RuntimeException e) {
            return new Result(name, ops, Status.FAIL, "error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        }
    }

    private static String unsupported(UnsupportedOnnxException e) {
        String m = e.getMessage();
        String prefix = e.file() + ": ";
        if (m.startsWith(prefix)) m = m.substring(prefix.length());
        int list = m.indexOf("; norm4j runs ");   // the list of every operator that runs: too long for one line per test
        if (list >= 0) m = m.substring(0, list);
        StringBuilder sb = new StringBuilder();
        if (e.opType() != null) sb.append("operator ").append(e.opType());
        if (e.attribute() != null) sb.append(", attribute ").append(e.attribute());
        return sb.length() == 0 ? m : sb.append(": ").append(m).toString();
    }

    /** input_0.pb, input_1.pb, … in numeric order. */
    private static List<OnnxTensor> numbered(Path set, String prefix) throws IOException {
        List<OnnxTensor> r = new ArrayList<>();
        for (int k = 0; ; k++) {
            Path f = set.resolve(prefix + k + ".pb");
            if (!Files.isRegularFile(f)) return r;
            r.add(OnnxTensor.read(f));
        }
    }

    /** The largest |got − want|, and what is wrong (null when within tolerance). */
    record Diff(double maxDiff, String problem) {}

    static Diff compare(OnnxTensor got, OnnxTensor want, double rtol, double atol) {
        if (got.dataType() != want.dataType()) return new Diff(Double.NaN, "type " + got.dataTypeName() + ", expected " + want.dataTypeName());
        if (!Arrays.equals(got.shapeRef(), want.shapeRef())) {
            return new Diff(Double.NaN, "shape " + Arrays.toString(got.shapeRef()) + ", expected " + Arrays.toString(want.shapeRef()));
        }
        boolean exact = !want.isFloat();
        double maxDiff = 0;
        int bad = 0, worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < want.size(); i++) {
            double g = got.get(i), w = want.get(i);
            if (Double.isNaN(g) && Double.isNaN(w)) continue;
            if (!exact && g == w) continue;   // also equal infinities
            double d = exact ? (got.longs()[i] == want.longs()[i] ? 0 : Math.abs(g - w)) : Math.abs(g - w);
            double allowed = exact ? 0 : atol + rtol * Math.abs(w);
            if (!(d <= allowed)) {
                bad++;
                double excess = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d - allowed;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
            if (Double.isNaN(d) || d > maxDiff) maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        }
        if (bad == 0) return new Diff(maxDiff, null);
        int[] at = new int[want.rank()];
        OnnxOps.unravel(worst, want.shapeRef(), at);
        String tol = exact ? "differ" : String.format(Locale.ROOT, "exceed atol %.0e + rtol %.0e·|expected|", atol, rtol);
        return new Diff(maxDiff, String.format(Locale.ROOT, "%d of %d elements %s; worst |diff| %.3g at %s (got %.9g, expected %.9g)", bad,
                want.size(), tol, Math.abs(got.get(worst) - want.get(worst)), Arrays.toString(at), got.get(worst), want.get(worst)));
    }
}
