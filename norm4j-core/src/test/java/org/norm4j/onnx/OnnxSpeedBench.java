package org.norm4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Gemm;
import org.norm4j.kernels.Loops;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Tensor;

/**
 * Inference speed of LeNet-BN, unfolded and folded, in norm4j and in ONNX Runtime on the files
 * norm4j exports, in one run: images/s at batch 256 and batch 1. Not part of the suite (a hand
 * loop, not JMH: ONNX Runtime is a test-scope dependency of norm4j-core only); run by hand:
 * <pre>
 *   OPENBLAS_NUM_THREADS=1 mvn -B -pl norm4j-core test -Dtest=OnnxSpeedBench -Dnorm4j.bench=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * Each figure is the median of 5 timed windows of ≥ 1 s after 1 s of warm-up; ONNX Runtime runs
 * with one intra-op thread and one inter-op thread, norm4j with its BLAS as configured (one
 * OpenBLAS thread with the variable above). The table goes to stdout and docs/onnx.md.
 */
@EnabledIfSystemProperty(named = "norm4j.bench", matches = "true")
class OnnxSpeedBench {
    static final int TRIALS = 5;
    static final double WINDOW_S = 1.0;

    @Test
    void lenetBn(@TempDir Path dir) throws Exception {
        Sequential net = OnnxTesting.trainedLeNet(Convention.PYTORCH, 1);
        Sequential folded = Folding.fold(net).model();
        Path unfoldedFile = dir.resolve("lenet.onnx"), foldedFile = dir.resolve("folded.onnx");
        OnnxExport.write(net, new int[] {1, 1, 28, 28}, unfoldedFile);
        OnnxExport.write(folded, new int[] {1, 1, 28, 28}, foldedFile);

        System.out.println("machine: " + cpu() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs; JDK " + Runtime.version()
                + "; norm4j BLAS " + Gemm.implementation() + ", loops " + Loops.get().getClass().getSimpleName()
                + "; OPENBLAS_NUM_THREADS=" + System.getenv("OPENBLAS_NUM_THREADS") + "; load before: " + load());
        List<String> rows = new ArrayList<>();
        rows.add("| model | runtime | batch 256 (images/s) | batch 1 (images/s) |");
        rows.add("|---|---|---|---|");
        double[] n4Unfolded = {norm4j(net, 256), norm4j(net, 1)};
        double[] n4Folded = {norm4j(folded, 256), norm4j(folded, 1)};
        double[] ortUnfolded = {ort(unfoldedFile, 256, true), ort(unfoldedFile, 1, true)};
        double[] ortFolded = {ort(foldedFile, 256, true), ort(foldedFile, 1, true)};
        double[] ortRaw = {ort(unfoldedFile, 256, false), ort(unfoldedFile, 1, false)};
        rows.add(row("LeNet-BN, unfolded", "norm4j", n4Unfolded));
        rows.add(row("LeNet-BN, folded (`Folding.fold`)", "norm4j", n4Folded));
        rows.add(row("lenet.onnx (BatchNormalization nodes)", "ONNX Runtime", ortUnfolded));
        rows.add(row("folded.onnx (`export --fold`)", "ONNX Runtime", ortFolded));
        rows.add(row("lenet.onnx, graph optimizations off", "ONNX Runtime", ortRaw));
        rows.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "folded/unfolded: norm4j %.2fx (batch 256), %.2fx (batch 1); ONNX Runtime/norm4j folded: %.2fx, %.2fx%n",
                n4Folded[0] / n4Unfolded[0], n4Folded[1] / n4Unfolded[1], ortFolded[0] / n4Folded[0], ortFolded[1] / n4Folded[1]);
        System.out.println("load after: " + load());
    }

    private static String row(String model, String runtime, double[] v) {
        return String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f |", model, runtime, v[0], v[1]);
    }

    private static double norm4j(Sequential net, int batch) {
        Tensor x = Tensor.of(OnnxTesting.uniform(batch * 784, batch), batch, 1, 28, 28);
        return measure(batch, () -> {
            try (var g = Autograd.noGrad()) {
                net.forward(x);
            }
        });
    }

    private static double ort(Path file, int batch, boolean optimize) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(optimize ? OrtSession.SessionOptions.OptLevel.ALL_OPT : OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession s = env.createSession(file.toString(), opts);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(OnnxTesting.uniform(batch * 784, batch)),
                         new long[] {batch, 1, 28, 28})) {
                Map<String, OnnxTensor> in = Map.of("input", t);
                return measure(batch, () -> {
                    try (OrtSession.Result r = s.run(in)) {
                        r.get(0);
                    }
                });
            }
        }
    }

    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    /** Median images/s over TRIALS windows of ≥ WINDOW_S seconds, after one window of warm-up. */
    private static double measure(int batch, Step step) {
        try {
            window(step);
            double[] rates = new double[TRIALS];
            for (int t = 0; t < TRIALS; t++) rates[t] = batch * window(step);
            Arrays.sort(rates);
            return rates[TRIALS / 2];
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Calls per second over one window. */
    private static double window(Step step) throws Exception {
        long start = System.nanoTime(), end = start + (long) (WINDOW_S * 1e9);
        long calls = 0, now;
        do {
            step.run();
            calls++;
            now = System.nanoTime();
        } while (now < end);
        return calls / ((now - start) / 1e9);
    }

    private static String cpu() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }
}
