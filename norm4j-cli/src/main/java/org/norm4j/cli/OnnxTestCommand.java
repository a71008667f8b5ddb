package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.norm4j.onnx.OnnxConformance;
import org.norm4j.onnx.OnnxGraph;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code norm4j onnx-test [DIR...]}: runs ONNX's backend node tests ({@code model.onnx} plus
 * {@code test_data_set_*}/{@code input_K.pb}, {@code output_K.pb}) through norm4j's ONNX graph
 * runner. Each DIR is one test or a folder of tests; none given: {@code $NORM4J_ONNX_TESTDATA}, else
 * Debian's libonnx-testdata. One line per test (pass, fail with the worst difference, unsupported
 * with the operator and attribute), then {@code N passed, M failed, K unsupported}. Exit code 1
 * when a test failed (or, with {@code --strict}, was unsupported). docs/onnx.md.
 */
@Command(name = "onnx-test", mixinStandardHelpOptions = true,
        description = "Run ONNX backend node tests (libonnx-testdata) through norm4j's ONNX runner.")
final class OnnxTestCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "DIR",
            description = "A test directory (with model.onnx) or a folder of them (default: $NORM4J_ONNX_TESTDATA, else "
                    + OnnxConformance.DEBIAN_NODE_TESTS + ").")
    List<Path> dirs = new ArrayList<>();

    @Option(names = "--ops", split = ",", paramLabel = "OP",
            description = "Run only the tests whose model uses no operator outside this list (e.g. Conv,Relu).")
    List<String> ops;

    @Option(names = "--rtol", description = "Relative tolerance (default: ONNX's 1e-3, or the looser one docs/onnx.md lists for a test).")
    Double rtol;

    @Option(names = "--atol", description = "Absolute tolerance (default: ONNX's 1e-7, or the looser one docs/onnx.md lists for a test).")
    Double atol;

    @Option(names = "--strict", description = "Exit with 1 when a test is unsupported, not only when one fails.")
    boolean strict;

    @Option(names = "--by-operator", description = "After the tests, a table of passed/failed/unsupported per operator.")
    boolean byOperator;

    @Option(names = "--quiet", description = "Print only the lines of tests that did not pass, and the summary.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (rtol != null && !(rtol >= 0)) throw new CommandLine.ParameterException(cl, "--rtol must be ≥ 0, got " + rtol);
        if (atol != null && !(atol >= 0)) throw new CommandLine.ParameterException(cl, "--atol must be ≥ 0, got " + atol);
        List<Path> roots = dirs.isEmpty() ? List.of(OnnxConformance.defaultDir()) : dirs;
        List<Path> cases = new ArrayList<>();
        for (Path d : roots) {
            if (!Files.isDirectory(d)) {
                String hint = dirs.isEmpty() ? " (install Debian's libonnx-testdata: bin/setup, or set " + OnnxConformance.DATA_ENV + ")" : "";
                throw new CommandLine.ParameterException(cl, "no directory " + d + hint);
            }
            List<Path> found = OnnxConformance.cases(d);
            if (found.isEmpty()) throw new CommandLine.ParameterException(cl, d + " holds no ONNX test (a directory with model.onnx)");
            cases.addAll(found);
        }
        PrintWriter w = cl.getOut();
        int passed = 0, failed = 0, unsupported = 0, skipped = 0;
        Map<String, int[]> perOp = new TreeMap<>();
        for (Path c : cases) {
            List<String> used = OnnxConformance.operators(c);
            if (ops != null && !ops.containsAll(used)) {
                skipped++;
                continue;
            }
            OnnxConformance.Result r;
            if (rtol == null && atol == null) {
                r = OnnxConformance.run(c);
            } else {
                double[] tol = OnnxConformance.tolerance(c.getFileName().toString());
                r = OnnxConformance.run(c, rtol != null ? rtol : tol[0], atol != null ? atol : tol[1]);
            }
            switch (r.status()) {
                case PASS -> passed++;
                case FAIL -> failed++;
                case UNSUPPORTED -> unsupported++;
            }
            String key = used.size() == 1 ? used.get(0) : "(graphs of " + (used.isEmpty() ? "unreadable" : "several") + " operators)";
            perOp.computeIfAbsent(key, k -> new int[3])[r.status().ordinal()]++;
            if (!quiet || r.status() != OnnxConformance.Status.PASS) w.println(r.line());
            w.flush();
        }
        if (byOperator) {
            w.println();
            w.printf(Locale.ROOT, "%-36s %7s %7s %12s%n", "operator", "passed", "failed", "unsupported");
            for (Map.Entry<String, int[]> e : perOp.entrySet()) {
                int[] n = e.getValue();
                String mark = e.getKey().startsWith("(") || OnnxGraph.OPERATORS.contains(e.getKey()) ? "" : " (not implemented)";
                w.printf(Locale.ROOT, "%-36s %7d %7d %12d%s%n", e.getKey(), n[0], n[1], n[2], mark);
            }
        }
        if (skipped > 0) w.printf(Locale.ROOT, "(%d tests skipped: they use operators outside --ops %s)%n", skipped, String.join(",", ops));
        w.printf(Locale.ROOT, "%d passed, %d failed, %d unsupported%n", passed, failed, unsupported);
        w.flush();
        return failed > 0 || (strict && unsupported > 0) ? 1 : 0;
    }
}
