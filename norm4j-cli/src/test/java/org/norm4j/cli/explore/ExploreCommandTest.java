package org.norm4j.cli.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import picocli.CommandLine;

/**
 * {@code norm4j explore}: small real runs on Fashion-MNIST (skipped where the data set is not
 * installed), checked by the numbers behind the pictures against references computed here, and
 * the PNGs by existence, size and dimensions.
 */
class ExploreCommandTest {
    static Path data;

    @BeforeAll
    static void needData() {
        data = FashionMnist.resolveDir(null);
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST not installed in " + data);
    }

    record Run(int exit, String out, String err) {}

    static Run explore(String... args) {
        CommandLine cl = new CommandLine(new ExploreCommand());
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The rows of a CSV as header name → cell. */
    static List<Map<String, String>> csv(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file);
        String[] header = lines.get(0).split(",");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            assertEquals(header.length, f.length, file + ": " + line);
            Map<String, String> row = new java.util.LinkedHashMap<>();
            for (int i = 0; i < f.length; i++) row.put(header[i], f[i]);
            rows.add(row);
        }
        return rows;
    }

    static double num(Map<String, String> row, String column) {
        return Double.parseDouble(row.get(column));
    }

    static void assertPng(Path png, int width, int height) throws Exception {
        assertTrue(Files.isRegularFile(png), png + " written");
        assertTrue(Files.size(png) > 10_000, png + " has content: " + Files.size(png) + " bytes");
        assertTrue(Files.size(png) < 1_000_000, png + " stays small: " + Files.size(png) + " bytes");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(width, img.getWidth(), png + " width");
        assertEquals(height, img.getHeight(), png + " height");
    }

    /** The standard deviation of f(Z) for Z ~ N(0, 1), by the trapezoid rule over [−12, 12] in double. */
    static double stdOfStandardNormalThrough(DoubleUnaryOperator f) {
        int n = 200_000;
        double a = -12, h = 24.0 / n, m1 = 0, m2 = 0;
        for (int i = 0; i <= n; i++) {
            double z = a + i * h, w = (i == 0 || i == n ? 0.5 : 1) * h * Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI), y = f.applyAsDouble(z);
            m1 += w * y;
            m2 += w * y * y;
        }
        return Math.sqrt(m2 - m1 * m1);
    }

    @Test
    void withoutBnTheSigmoidStackCollapsesWithBnItStaysSpread(@TempDir Path dir) throws Exception {
        Run r = explore("activations", "--data", data.toString(), "--batch-size", "64", "--out", dir.toString(), "--no-progress");
        assertEquals(0, r.exit(), r.err());
        List<Map<String, String>> rows = csv(dir.resolve("activations.csv"));
        assertEquals(20, rows.size());
        List<Map<String, String>> plain = rows.subList(0, 10), bn = rows.subList(10, 20);
        assertEquals("none", plain.get(0).get("norm"));
        assertEquals("batch", bn.get(0).get("norm"));
        double first = num(plain.get(0), "batch_spread"), last = num(plain.get(9), "batch_spread");
        assertTrue(last < first / 1000, "without BN the 10th layer's batch spread is far below the 1st's: " + first + " -> " + last);
        // Layer to layer, a small spread passes through Linear (Xavier: sqrt(100)·sqrt(2/200) = 1 per unit on average) and
        // the sigmoid (slope at most 1/4): about a quarter of it survives each layer.
        for (int l = 1; l < 10; l++) {
            double ratio = num(plain.get(l), "batch_spread") / num(plain.get(l - 1), "batch_spread");
            assertTrue(ratio > 0.18 && ratio < 0.27, "layer " + (l + 1) + " keeps about 1/4 of layer " + l + "'s spread: " + ratio);
        }
        // With BN each unit's input to the sigmoid is standardized over the batch, so its output
        // spread is about the standard deviation of sigmoid(Z), Z ~ N(0, 1): 0.2083.
        double reference = stdOfStandardNormalThrough(z -> 1 / (1 + Math.exp(-z)));
        assertEquals(0.2083, reference, 1e-4);
        for (Map<String, String> row : bn) {
            assertEquals(reference, num(row, "batch_spread"), 0.02, "with BN, layer " + row.get("layer") + " stays spread");
        }
        // gradients: without BN they vanish towards the input; with BN they stay within a factor 10
        double g1 = num(plain.get(0), "grad_norm"), g10 = num(plain.get(9), "grad_norm");
        assertTrue(g1 < g10 / 1000, "without BN the first layer's gradient vanishes: " + g1 + " vs " + g10);
        double b1 = num(bn.get(0), "grad_norm"), b10 = num(bn.get(9), "grad_norm");
        assertTrue(b1 > b10 / 10 && b1 < b10 * 10, "with BN the gradients stay even: " + b1 + " vs " + b10);

        // layer 1 without BN recomputed here in double from the same batch and weights
        Dataset train = FashionMnist.load(data, true);
        DataLoader.Batch batch = new DataLoader(train, 64, true, 0).epoch(0).iterator().next();
        List<Module> net = DeepNet.build(784, 10, 10, 100, DeepNet.Act.sigmoid, DeepNet.InitScheme.parse("xavier"), false, 0);
        Linear l1 = (Linear) net.get(0);
        float[] x = batch.x().data(), w = l1.weight().data(), b = l1.bias().data();
        double spread = 0;
        for (int u = 0; u < 100; u++) {
            double[] h = new double[64];
            double mean = 0;
            for (int i = 0; i < 64; i++) {
                double z = b[u];
                for (int k = 0; k < 784; k++) z += (double) x[i * 784 + k] * w[u * 784 + k];
                h[i] = 1 / (1 + Math.exp(-z));
                mean += h[i] / 64;
            }
            double var = 0;
            for (double v : h) var += (v - mean) * (v - mean) / 64;
            spread += Math.sqrt(var) / 100;
        }
        assertEquals(spread, first, 1e-5 * spread, "layer 1's batch spread recomputed in double");

        assertPng(dir.resolve("activations.png"), 800, 1700);
        assertPng(dir.resolve("spread.png"), 800, 480);
        assertPng(dir.resolve("gradients.png"), 800, 480);
        String report = Files.readString(dir.resolve("report.md"));
        for (String png : List.of("activations.png", "spread.png", "gradients.png")) assertTrue(report.contains("](" + png + ")"), report);
        assertTrue(report.contains(Report.g(first)) && report.contains(Report.g(last)), report);
    }

    @Test
    void tanhAndReluWithBnMatchTheirStandardNormalSpread(@TempDir Path dir) throws Exception {
        for (String act : List.of("tanh", "relu")) {
            Path out = dir.resolve(act);
            Run r = explore("activations", "--data", data.toString(), "--activation", act, "--init", "kaiming", "--depth", "4", "--width", "50",
                    "--batch-size", "128", "--out", out.toString(), "--no-progress");
            assertEquals(0, r.exit(), r.err());
            double reference = stdOfStandardNormalThrough(act.equals("tanh") ? Math::tanh : z -> Math.max(z, 0));
            for (Map<String, String> row : csv(out.resolve("activations.csv"))) {
                if (row.get("norm").equals("batch")) assertEquals(reference, num(row, "batch_spread"), 0.04, act + " layer " + row.get("layer"));
            }
            assertPng(out.resolve("activations.png"), 800, 4 * 170);
        }
    }

    @Test
    void atBatchSizeTwoBatchNormFallsBelowGroupNorm(@TempDir Path dir) throws Exception {
        Run r = explore("batch-size", "--data", data.toString(), "--norms", "batch,group", "--batch-sizes", "2,32", "--images", "4096", "--lr", "4",
                "--test-images", "2000", "--precise-bn", "0", "--out", dir.toString(), "--no-progress");
        assertEquals(0, r.exit(), r.err());
        List<Map<String, String>> rows = csv(dir.resolve("batch-size.csv"));
        assertEquals(4, rows.size());
        Map<String, Double> acc = new java.util.HashMap<>();
        for (Map<String, String> row : rows) {
            acc.put(row.get("norm") + row.get("batch_size"), num(row, "test_acc"));
            int b = Integer.parseInt(row.get("batch_size"));
            assertEquals(4096 / b, Integer.parseInt(row.get("steps")), "the same images at every batch size: " + row);
            assertEquals(4.0 * b / 256, num(row, "lr"), 1e-12, "linear scaling: " + row);
        }
        assertTrue(acc.get("batch2") < acc.get("group2") - 0.1, "at batch 2 BatchNorm is below GroupNorm: " + acc);
        assertTrue(acc.get("batch32") > acc.get("batch2") + 0.1, "BatchNorm recovers at batch 32: " + acc);
        assertPng(dir.resolve("batch-size.png"), 760, 120 + 90 * 2);
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("](batch-size.png)") && report.contains(String.format(java.util.Locale.ROOT, "%.4f", acc.get("batch2"))), report);
    }

    @Test
    void onlyBnBeforeTheActivationFoldsAndTheFoldedNetAgrees(@TempDir Path dir) throws Exception {
        Run r = explore("placement", "--data", data.toString(), "--epochs", "1", "--images", "2560", "--test-images", "1000", "--precise-bn", "2",
                "--out", dir.toString(), "--no-progress");
        assertEquals(0, r.exit(), r.err());
        List<Map<String, String>> rows = csv(dir.resolve("placement.csv"));
        assertEquals(List.of("bn-act", "act-bn"), rows.stream().map(m -> m.get("placement")).toList());
        for (Map<String, String> row : rows) assertTrue(num(row, "test_acc") > 0.3, "both learn something in 10 steps: " + row);
        List<Map<String, String>> folds = csv(dir.resolve("fold.csv"));
        Map<String, String> bnAct = folds.get(0), actBn = folds.get(1);
        assertEquals("4", bnAct.get("folded"));
        assertEquals("0", actBn.get("folded"));
        assertEquals("4", actBn.get("batch_norm_layers"));
        // the folded network (no BN left) against the unfolded one in eval mode, on the same test images
        assertEquals(num(bnAct, "test_acc_unfolded"), num(bnAct, "test_acc_folded"), 0.0015, bnAct.toString());
        assertTrue(num(bnAct, "max_logit_diff") < 1e-3, bnAct.toString());
        assertPng(dir.resolve("placement.png"), 1000, 560);
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.contains("kept     2: BatchNorm") && report.contains("it follows 1: Sigmoid()"), report);
    }

    @Test
    void withFrozenWeightsTheRunningVarianceForgetsItsStartAsPointNineToTheN(@TempDir Path dir) throws Exception {
        // lr 0: the population statistics stay put, and PyTorch's running variance (momentum 0.1,
        // started at 1) is 0.9^n·1 + (1 − 0.9^n)·v after n steps, so its gap to v shrinks as 0.9^n
        Run r = explore("statistics", "--data", data.toString(), "--epochs", "1", "--images", "5120", "--lr", "0", "--points-per-epoch", "2",
                "--precise-batches", "2", "--test-images", "500", "--out", dir.toString(), "--no-progress");
        assertEquals(0, r.exit(), r.err());
        List<Map<String, String>> rows = csv(dir.resolve("statistics.csv"));
        assertEquals(3 * 4, rows.size(), "3 points (steps 0, 10, 20) × 4 BN layers");
        for (int l = 0; l < 4; l++) {
            Map<String, String> start = rows.get(l);
            assertEquals("0", start.get("step"));
            assertTrue(num(start, "var_gap") > 10 * num(start, "var_gap_floor"), "the initial variance 1 is far from the population's: " + start);
            for (int p = 1; p < 3; p++) {
                Map<String, String> row = rows.get(4 * p + l);
                int n = Integer.parseInt(row.get("step"));
                assertEquals(10 * p, n);
                double ratio = num(row, "var_gap") / num(start, "var_gap");
                assertEquals(Math.pow(0.9, n), ratio, 0.02, "layer " + row.get("layer") + " after " + n + " steps");
            }
        }
        assertPng(dir.resolve("statistics.png"), 1200, 840);
        assertPng(dir.resolve("accuracy.png"), 900, 500);
        assertTrue(Files.readString(dir.resolve("report.md")).contains("](statistics.png)"));
    }

    @Test
    void badOptionsAreNamed(@TempDir Path dir) {
        Run r = explore("activations", "--init", "gaussian", "--out", dir.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--init must be xavier, kaiming, torch or normal:STD") && r.err().contains("'gaussian'"), r.err());
        Run b = explore("batch-size", "--norms", "batch,instance", "--out", dir.toString());
        assertEquals(2, b.exit());
        assertTrue(b.err().contains("--norms") && b.err().contains("'instance'"), b.err());
        Run s = explore("batch-size", "--batch-sizes", "2,1", "--out", dir.toString());
        assertEquals(2, s.exit());
        assertTrue(s.err().contains("--batch-sizes") && s.err().contains("got 1"), s.err());
    }
}
