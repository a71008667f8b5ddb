package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors;
import picocli.CommandLine;

/**
 * Real, short training runs on Fashion-MNIST through the command line (skipped where the data set
 * is not installed; CI installs Debian's dataset-fashion-mnist).
 */
class TrainCommandTest {
    static Path data;

    @BeforeAll
    static void needData() {
        data = FashionMnist.resolveDir(null);
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST not installed in " + data);
    }

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static final List<String> D2L_KEYS = List.of(
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked",
            "9.weight", "9.bias", "10.weight", "10.bias", "10.running_mean", "10.running_var", "10.num_batches_tracked",
            "12.weight", "12.bias", "13.weight", "13.bias", "13.running_mean", "13.running_var", "13.num_batches_tracked",
            "15.weight", "15.bias");

    @Test
    void shortRealTrainingLearnsAndWritesTheRunDirectory(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Run r = run("train", "--data", data.toString(), "--limit", "4000", "--epochs", "2", "--out", out.toString(), "--no-progress");
        assertEquals(0, r.exit, r.err);
        List<String> lines = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,train_acc,test_acc,seconds,test_acc_running", lines.get(0));
        assertEquals(3, lines.size(), String.join("\n", lines));
        double[] e1 = parse(lines.get(1)), e2 = parse(lines.get(2));
        assertTrue(e2[1] < e1[1], "training loss falls: " + lines);
        assertTrue(e2[3] > 0.5, "test accuracy far above chance (0.1): " + lines);
        assertEquals(D2L_KEYS, List.copyOf(SafeTensors.readHeader(out.resolve("model.safetensors")).tensors().keySet()));
        assertTrue(Files.size(out.resolve("curves.png")) > 10_000, "curves.png written");
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.resolve("curves.png").toFile());
        assertEquals(800, png.getWidth());
        String json = Files.readString(out.resolve("run.json"));
        assertTrue(json.contains("\"seed\": 0") && json.contains("\"blas\"") && json.contains("\"epochs\": 2"), json);
        assertTrue(r.out.contains("epoch  2: loss"), r.out);

        Run ev = run("eval", "--checkpoint", out.resolve("model.safetensors").toString(), "--data", data.toString());
        assertEquals(0, ev.exit, ev.err);
        assertTrue(ev.out.contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f", e2[3])), ev.out + " vs " + lines.get(2));
        assertTrue(Files.size(out.resolve("confusion.png")) > 10_000);
        Run info = run("info", out.resolve("model.safetensors").toString());
        assertEquals(0, info.exit, info.err);
        assertTrue(info.out.contains("1.num_batches_tracked") && info.out.contains("I64") && info.out.contains("metadata epoch = 2"), info.out);
    }

    /** Interrupted after epoch 1, resumed: the same weights and metrics as one uninterrupted run. */
    @Test
    void resumeLosesNothing(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), parts = dir.resolve("parts");
        String[] common = {"--data", data.toString(), "--limit", "2000", "--no-progress", "--seed", "3"};
        assertEquals(0, run(concat(new String[] {"train", "--epochs", "2", "--out", whole.toString()}, common)).exit);
        assertEquals(0, run(concat(new String[] {"train", "--epochs", "1", "--out", parts.toString()}, common)).exit);
        Run resumed = run(concat(new String[] {"train", "--epochs", "2", "--resume", parts.resolve("model.safetensors").toString()}, common));
        assertEquals(0, resumed.exit, resumed.err);
        assertTrue(resumed.out.contains("resuming after epoch 1"), resumed.out);
        Map<String, SafeTensors.Entry> a = SafeTensors.read(whole.resolve("model.safetensors"));
        Map<String, SafeTensors.Entry> b = SafeTensors.read(parts.resolve("model.safetensors"));
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), "tensor " + k + " after resume");
        List<String> ma = Files.readAllLines(whole.resolve("metrics.csv")), mb = Files.readAllLines(parts.resolve("metrics.csv"));
        assertEquals(3, mb.size(), String.join("\n", mb));
        for (int i = 1; i < 3; i++) {
            double[] x = parse(ma.get(i)), y = parse(mb.get(i));
            assertArrayEquals(java.util.Arrays.copyOf(x, 4), java.util.Arrays.copyOf(y, 4), "metrics row " + i);
            assertEquals(x[5], y[5], "test_acc_running row " + i);
        }
    }

    /**
     * --rng picks whose random numbers start the run: PyTorch's generator by default (its draws are
     * checked against PyTorch in TorchGeneratorTest), norm4j's streams on request; run.json says which.
     */
    @Test
    void rngPicksTheGeneratorAndRunJsonSaysWhich(@TempDir Path dir) throws Exception {
        String[] common = {"--data", data.toString(), "--limit", "600", "--epochs", "1", "--no-progress", "--precise-bn", "0"};
        assertEquals(0, run(concat(new String[] {"train", "--out", dir.resolve("torch").toString()}, common)).exit);
        assertEquals(0, run(concat(new String[] {"train", "--rng", "norm4j", "--out", dir.resolve("own").toString()}, common)).exit);
        assertTrue(Files.readString(dir.resolve("torch/run.json")).contains("\"rng\": \"torch\""), "default --rng is torch");
        assertTrue(Files.readString(dir.resolve("own/run.json")).contains("\"rng\": \"norm4j\""));
        byte[] a = SafeTensors.read(dir.resolve("torch/model.safetensors")).get("0.weight").data();
        byte[] b = SafeTensors.read(dir.resolve("own/model.safetensors")).get("0.weight").data();
        assertFalse(java.util.Arrays.equals(a, b), "different generators, different runs");
        Run bad = run(concat(new String[] {"train", "--rng", "numpy"}, common));
        assertEquals(2, bad.exit);
        assertTrue(bad.err.contains("--rng"), bad.err);
        // resuming with the other generator would change the batch order: refused, nothing written
        byte[] before = Files.readAllBytes(dir.resolve("own/model.safetensors"));
        Run other = run(concat(new String[] {"train", "--resume", dir.resolve("own/model.safetensors").toString()}, common));
        assertTrue(other.exit != 0, other.out);
        assertTrue(other.err.contains("trained with --rng norm4j") && other.err.contains("resume with --rng norm4j"), other.err);
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("own/model.safetensors")));
        assertTrue(Files.readString(dir.resolve("own/run.json")).contains("\"rng\": \"norm4j\""), "run.json untouched");
    }

    /** Precise BN works on a copy: the trained weights are those of a run without it. */
    @Test
    void preciseBnLeavesTrainingUnchanged(@TempDir Path dir) throws Exception {
        String[] common = {"--data", data.toString(), "--limit", "2000", "--epochs", "2", "--no-progress"};
        assertEquals(0, run(concat(new String[] {"train", "--out", dir.resolve("on").toString()}, common)).exit);
        assertEquals(0, run(concat(new String[] {"train", "--precise-bn", "0", "--out", dir.resolve("off").toString()}, common)).exit);
        Map<String, SafeTensors.Entry> on = SafeTensors.read(dir.resolve("on/model.safetensors"));
        Map<String, SafeTensors.Entry> off = SafeTensors.read(dir.resolve("off/model.safetensors"));
        int differing = 0;
        for (String k : on.keySet()) {
            boolean same = java.util.Arrays.equals(on.get(k).data(), off.get(k).data());
            if (k.endsWith("running_mean") || k.endsWith("running_var")) {
                if (!same) differing++;
            } else {
                assertTrue(same, "trained tensor " + k + " equal with and without precise BN");
            }
        }
        assertEquals(8, differing, "every BN's statistics are the recomputed ones in the checkpoint");
        double[] rowOn = parse(Files.readAllLines(dir.resolve("on/metrics.csv")).get(2));
        double[] rowOff = parse(Files.readAllLines(dir.resolve("off/metrics.csv")).get(2));
        assertEquals(rowOff[5], rowOn[5], "accuracy with the plain running averages is the same in both runs");
        assertEquals(rowOff[3], rowOff[5], "without precise BN test_acc is the running-stats accuracy");
    }

    /** The first epoch's JIT warm-up (an evaluation and a precise-BN pass after batch 4 of 8 here) changes no result. */
    @Test
    void warmUpLeavesTheRunsResultsAsTheyWere(@TempDir Path dir) throws Exception {
        String[] common = {"--data", data.toString(), "--limit", "2000", "--epochs", "2", "--no-progress"};
        assertEquals(0, run(concat(new String[] {"train", "--out", dir.resolve("on").toString()}, common)).exit);
        String old = System.setProperty("norm4j.train.warmUp", "false");
        try {
            assertEquals(0, run(concat(new String[] {"train", "--out", dir.resolve("off").toString()}, common)).exit);
        } finally {
            if (old == null) System.clearProperty("norm4j.train.warmUp");
            else System.setProperty("norm4j.train.warmUp", old);
        }
        for (String f : new String[] {"model.safetensors", "train-state.safetensors"}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("off").resolve(f)), Files.readAllBytes(dir.resolve("on").resolve(f)), f);
        }
        List<String> on = Files.readAllLines(dir.resolve("on/metrics.csv")), off = Files.readAllLines(dir.resolve("off/metrics.csv"));
        assertEquals(3, on.size());
        for (int i = 1; i < on.size(); i++) {
            double[] a = parse(on.get(i)), b = parse(off.get(i));
            a[4] = b[4] = 0;   // seconds
            assertArrayEquals(b, a, "metrics.csv row " + i + " apart from seconds");
        }
    }

    @Test
    void badInputIsAOneLineErrorWithWhatToDo(@TempDir Path dir) throws Exception {
        Run missing = run("train", "--data", dir.resolve("nowhere").toString(), "--epochs", "1");
        assertEquals(1, missing.exit);
        assertTrue(missing.err.contains("apt-get install dataset-fashion-mnist") && missing.err.contains("--data"), missing.err);
        assertFalse(missing.err.contains("\tat "), "no stack trace without --verbose: " + missing.err);
        assertEquals(1, missing.err.strip().lines().count(), missing.err);

        Path corrupt = dir.resolve("corrupt");
        Files.createDirectories(corrupt);
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            byte[] bytes = Files.readAllBytes(data.resolve(f));
            Files.write(corrupt.resolve(f), f.startsWith("train-images") ? java.util.Arrays.copyOf(bytes, bytes.length / 2) : bytes);
        }
        Run bad = run("train", "--data", corrupt.toString(), "--epochs", "1");
        assertEquals(1, bad.exit);
        assertTrue(bad.err.contains("train-images-idx3-ubyte.gz") && bad.err.contains("offset"), bad.err);

        Run unknown = run("train", "--epoch", "3");
        assertEquals(2, unknown.exit);
        assertTrue(unknown.err.contains("Unknown option") || unknown.err.contains("--epoch"), unknown.err);

        Path none = dir.resolve("none");
        assertEquals(0, run("train", "--data", data.toString(), "--limit", "500", "--epochs", "1", "--norm", "none", "--out", none.toString(),
                "--no-progress").exit);
        Run other = run("eval", "--checkpoint", none.resolve("model.safetensors").toString(), "--norm", "batch", "--data", data.toString());
        assertEquals(1, other.exit);
        assertTrue(other.err.contains("is not a checkpoint of LeNet with batch norm") && other.err.contains("another --norm"), other.err);
        assertEquals(1, other.err.strip().lines().count(), other.err);

        Run verbose = run("train", "--data", dir.resolve("nowhere").toString(), "--verbose");
        assertTrue(verbose.err.contains("\tat "), "stack trace with --verbose");
    }

    static double[] parse(String csv) {
        String[] f = csv.split(",");
        double[] v = new double[f.length];
        for (int i = 0; i < f.length; i++) v[i] = Double.parseDouble(f[i]);
        return v;
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
