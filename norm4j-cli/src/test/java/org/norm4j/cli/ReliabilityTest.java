package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.LeNet;

/**
 * Faults against the real {@code norm4j train} on Fashion-MNIST (skipped where it is not
 * installed): a process SIGKILLed during an epoch, while model.safetensors is being written and
 * while train-state.safetensors is being written, each resumed with --resume to the bit-identical
 * result of an uninterrupted run (one BLAS thread, same seed; SGD with momentum, so that a lost
 * optimizer state would show); a learning rate that diverges, which stops with one line and
 * leaves the last checkpoint byte for byte; a damaged checkpoint given to --resume; a batch too
 * large for the heap and a heap too small for the data set, each one line with the memory
 * involved instead of an OutOfMemoryError.
 *
 * <p>Killed runs are child JVMs started from this test's classpath ({@code java -cp …
 * org.norm4j.cli.Main train …}); a kill inside a write uses the test-only pause that
 * {@code org.norm4j.io.AtomicFile} takes before its rename when
 * {@code -Dnorm4j.test.pauseBeforeCommitMs} is set.
 */
class ReliabilityTest {
    static Path data;
    static Path root;
    static ExecutorService pool;
    static final List<Process> children = new java.util.concurrent.CopyOnWriteArrayList<>();
    static CompletableFuture<Path> reference;
    static CompletableFuture<Void> inEpoch, inModelWrite, inStateWrite;

    /** 2 epochs of 3000 images: SGD with momentum, precise BN on (the default), one BLAS thread. */
    static List<String> common() {
        return List.of("--data", data.toString(), "--limit", "3000", "--epochs", "2", "--batch-size", "128", "--lr", "0.1",
                "--momentum", "0.9", "--seed", "7", "--no-progress");
    }

    /**
     * Starts the uninterrupted run and the three interrupted ones at once (each kill waits for an
     * event, not a time, so they may share the cores); the tests below collect their outcomes.
     */
    @BeforeAll
    static void startTheRuns() throws IOException {
        data = FashionMnist.resolveDir(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST not installed in " + data);
        root = Files.createTempDirectory("norm4j-reliability");
        pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "reliability-run");
            t.setDaemon(true);
            return t;
        });
        Path dir = root.resolve("reference");
        reference = CompletableFuture.supplyAsync(() -> {
            try {
                Child c = Child.start(dir, List.of(), concat(List.of("train", "--out", dir.toString()), common()));
                assertEquals(0, c.waitFor(240), "uninterrupted run: " + c.output());
                return dir;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, pool);
        inEpoch = scenario(ReliabilityTest::killDuringAnEpoch);
        inModelWrite = scenario(ReliabilityTest::killWhileWritingTheModelCheckpoint);
        inStateWrite = scenario(ReliabilityTest::killWhileWritingTheTrainState);
    }

    interface Scenario {
        void run() throws Exception;
    }

    static CompletableFuture<Void> scenario(Scenario s) {
        return CompletableFuture.runAsync(() -> {
            try {
                s.run();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, pool);
    }

    /** The scenario's outcome: its assertion failure or exception, rethrown as is. */
    static void outcome(CompletableFuture<Void> f) throws Throwable {
        try {
            f.get(290, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable t = e.getCause();
            throw t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        for (Process p : children) p.destroyForcibly();
        if (pool != null) pool.shutdownNow();
        if (root == null) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A child JVM running the CLI, its stdout and stderr in files beside the run directory. */
    record Child(Process process, Path out, Path err) {
        static Child start(Path runDir, List<String> jvmOptions, List<String> args) throws IOException {
            Files.createDirectories(runDir.getParent());
            String name = runDir.getFileName().toString();
            Path out = runDir.resolveSibling(name + ".out." + System.nanoTime()), err = runDir.resolveSibling(name + ".err." + System.nanoTime());
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(jvmOptions);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("org.norm4j.cli.Main");
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            Process p = pb.start();
            children.add(p);
            return new Child(p, out, err);
        }

        int waitFor(int seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("child did not finish in " + seconds + " s: " + output());
            }
            return process.exitValue();
        }

        String stdout() {
            try {
                return Files.exists(out) ? Files.readString(out) : "";
            } catch (IOException e) {
                return "";
            }
        }

        String stderr() {
            try {
                return Files.exists(err) ? Files.readString(err) : "";
            } catch (IOException e) {
                return "";
            }
        }

        /** stderr without the two lines java.util.logging prints when netlib's VectorBLAS is not loadable (no Vector API module). */
        String messages() {
            return stderr().lines().filter(l -> !l.matches("[A-Z][a-z]{2} \\d+, \\d{4} .* dev\\.ludovic\\.netlib\\..*")
                    && !l.startsWith("WARNING: Failed to load implementation from:dev.ludovic.netlib")).collect(java.util.stream.Collectors.joining("\n"));
        }

        String output() {
            return "stdout:\n" + stdout() + "\nstderr:\n" + stderr();
        }

        /** SIGKILL (Process.destroyForcibly), then wait for it to be gone. */
        void kill() throws InterruptedException {
            assertTrue(process.isAlive(), "still running when killed: " + output());
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "killed process gone");
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** Waits until {@code done} holds, polling every 10 ms, or fails after {@code seconds}. */
    static void await(Child c, int seconds, String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long until = System.nanoTime() + seconds * 1_000_000_000L;
        while (!done.getAsBoolean()) {
            if (!c.process.isAlive()) fail("the run ended before " + what + ": " + c.output());
            if (System.nanoTime() > until) fail("no " + what + " after " + seconds + " s: " + c.output());
            Thread.sleep(10);
        }
    }

    /** The epoch in the metadata of a complete temporary file of {@code target} beside it, or null. */
    static String pendingEpoch(Path dir, String target) {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("." + target + ".")).toList()) {
                try {
                    return SafeTensors.readHeader(p).metadata().get("epoch");
                } catch (IOException stillBeingWritten) {
                    // not complete yet (the pause comes after the content is on disk)
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") && n.endsWith(".tmp")).sorted().toList();
        }
    }

    /** The checkpoint loads strictly into the network it claims to be; returns its epoch. */
    static int intactCheckpoint(Path dir) throws IOException {
        Map<String, String> meta = StateDict.load(LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0), dir.resolve("model.safetensors"));
        return Integer.parseInt(meta.get("epoch"));
    }

    /** Resumes {@code dir}'s run and checks that everything equals the uninterrupted run's, bit for bit. */
    static void resumeAndCompare(Path dir, int checkpointEpoch) throws Exception {
        Child resumed = Child.start(dir.resolveSibling(dir.getFileName() + "-resume"), List.of(),
                concat(List.of("train", "--resume", dir.resolve("model.safetensors").toString()), common()));
        assertEquals(0, resumed.waitFor(240), resumed.output());
        assertTrue(resumed.stdout().contains("resuming after epoch " + checkpointEpoch), resumed.output());
        assertFalse(resumed.stdout().contains("note: no"), "the train state of the checkpoint's epoch was found: " + resumed.output());
        assertEquals(List.of(), leftovers(dir), "no temporary files left once resumed");
        assertFalse(Files.exists(dir.resolve(TrainCommand.PREVIOUS_STATE)), "previous train state removed after the last checkpoint");
        Path ref = reference.get(240, TimeUnit.SECONDS);
        for (String file : new String[] {"model.safetensors", TrainState.FILE}) {
            SafeTensors.Contents a = SafeTensors.readContents(ref.resolve(file)), b = SafeTensors.readContents(dir.resolve(file));
            assertEquals(a.tensors().keySet(), b.tensors().keySet(), file);
            for (String k : a.tensors().keySet()) {
                assertArrayEquals(a.tensors().get(k).data(), b.tensors().get(k).data(), file + ": tensor " + k + " after resume");
            }
            assertEquals(a.metadata().get("epoch"), b.metadata().get("epoch"), file + " epoch");
        }
        List<String> ma = Files.readAllLines(ref.resolve("metrics.csv")), mb = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(3, mb.size(), "one row per epoch, none lost or repeated: " + mb);
        for (int i = 1; i < ma.size(); i++) {
            String[] x = ma.get(i).split(","), y = mb.get(i).split(",");
            x[4] = y[4] = "seconds";
            assertArrayEquals(x, y, "metrics row " + i);
        }
    }

    @Test
    void killedDuringAnEpoch() throws Throwable {
        outcome(inEpoch);
    }

    @Test
    void killedWhileWritingTheModelCheckpoint() throws Throwable {
        outcome(inModelWrite);
    }

    @Test
    void killedWhileWritingTheTrainState() throws Throwable {
        outcome(inStateWrite);
    }

    static void killDuringAnEpoch() throws Exception {
        Path dir = root.resolve("killed-in-epoch");
        Child c = Child.start(dir, List.of(), concat(List.of("train", "--out", dir.toString()), common()));
        await(c, 120, "epoch 1's line", () -> c.stdout().contains("epoch  1:"));
        Thread.sleep(300);   // into epoch 2's batches
        c.kill();
        assertEquals(1, intactCheckpoint(dir), "the last checkpoint is epoch 1's and loads strictly");
        assertEquals(2, Files.readAllLines(dir.resolve("metrics.csv")).size(), "header and epoch 1");
        resumeAndCompare(dir, 1);
    }

    /** Killed with epoch 2's model.safetensors complete in its temporary file, before the rename; then the resumed run the same way. */
    static void killWhileWritingTheModelCheckpoint() throws Exception {
        Path dir = root.resolve("killed-in-model-write");
        Child c = Child.start(dir, List.of("-Dnorm4j.test.pauseBeforeCommitMs=2000", "-Dnorm4j.test.pauseBeforeCommitFile=model.safetensors"),
                concat(List.of("train", "--out", dir.toString()), common()));
        await(c, 120, "epoch 2's model.safetensors being written", () -> "2".equals(pendingEpoch(dir, "model.safetensors")));
        c.kill();
        assertEquals(1, leftovers(dir).size(), "the interrupted write's temporary file: " + leftovers(dir));
        assertEquals(1, intactCheckpoint(dir), "model.safetensors is still epoch 1's, intact");
        assertEquals("2", SafeTensors.metadata(dir.resolve(TrainState.FILE)).get("epoch"), "train state of epoch 2 was already written");
        assertEquals("1", SafeTensors.metadata(dir.resolve(TrainCommand.PREVIOUS_STATE)).get("epoch"), "epoch 1's kept beside it");

        // the resumed run killed at the same point again: its rotation must keep epoch 1's state
        List<String> pause = List.of("-Dnorm4j.test.pauseBeforeCommitMs=2000", "-Dnorm4j.test.pauseBeforeCommitFile=model.safetensors");
        Child again = Child.start(dir.resolveSibling(dir.getFileName() + "-again"), pause,
                concat(List.of("train", "--resume", dir.resolve("model.safetensors").toString()), common()));
        await(again, 120, "the resumed run's start", () -> again.stdout().contains("resuming after epoch 1"));
        assertFalse(again.stdout().contains("note: no"), "epoch 1's train state found: " + again.output());
        await(again, 120, "epoch 2's model.safetensors being written again", () -> "2".equals(pendingEpoch(dir, "model.safetensors")));
        again.kill();
        assertEquals(1, intactCheckpoint(dir));
        assertEquals("1", SafeTensors.metadata(dir.resolve(TrainCommand.PREVIOUS_STATE)).get("epoch"), "epoch 1's state kept again");
        resumeAndCompare(dir, 1);
    }

    /** Killed with epoch 2's train-state.safetensors complete in its temporary file (epoch 1's renamed aside). */
    static void killWhileWritingTheTrainState() throws Exception {
        Path dir = root.resolve("killed-in-state-write");
        Child c = Child.start(dir, List.of("-Dnorm4j.test.pauseBeforeCommitMs=2000", "-Dnorm4j.test.pauseBeforeCommitFile=train-state.safetensors"),
                concat(List.of("train", "--out", dir.toString()), common()));
        await(c, 120, "epoch 2's train-state.safetensors being written", () -> "2".equals(pendingEpoch(dir, TrainState.FILE)));
        c.kill();
        assertEquals(1, intactCheckpoint(dir));
        assertFalse(Files.exists(dir.resolve(TrainState.FILE)), "not yet renamed into place");
        assertEquals("1", SafeTensors.metadata(dir.resolve(TrainCommand.PREVIOUS_STATE)).get("epoch"));
        resumeAndCompare(dir, 1);
    }

    // ---- in-process runs (one line on stderr, exit code 1) -------------------------------------

    static TrainCommandTest.Run run(String... args) {
        return TrainCommandTest.run(args);
    }

    static void oneLine(TrainCommandTest.Run r) {
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace or exception name: " + r.err());
    }

    /**
     * Epoch 1 at a sane learning rate, then --resume with lr 1e38: epoch 2 diverges, the command
     * stops with one line naming epoch and batch, and every file of epoch 1 stays byte for byte.
     * (With batch norm LeNet does not produce a non-finite loss at lr 100, nor 1e30: the loss
     * stays finite and training runs at chance; the command warns. 1e38 overflows float.)
     */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void divergenceStopsWithOneLineAndKeepsTheLastCheckpoint(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        String[] base = {"--data", data.toString(), "--limit", "2000", "--no-progress", "--seed", "1", "--precise-bn", "2"};
        TrainCommandTest.Run first = run(TrainCommandTest.concat(new String[] {"train", "--epochs", "1", "--out", dir.toString()}, base));
        assertEquals(0, first.exit(), first.err());
        Map<String, byte[]> before = new java.util.TreeMap<>();
        for (String f : new String[] {"model.safetensors", TrainState.FILE, "metrics.csv"}) before.put(f, Files.readAllBytes(dir.resolve(f)));

        TrainCommandTest.Run diverged = run(TrainCommandTest.concat(new String[] {"train", "--epochs", "3", "--lr", "1e38", "--resume",
                dir.resolve("model.safetensors").toString()}, base));
        oneLine(diverged);
        assertTrue(diverged.err().matches("(?s)norm4j train: training diverged: .* at epoch 2, batch \\d+ of 8.*; try a lower learning rate \\(--lr\\)\\s*"),
                diverged.err());
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())), e.getKey() + " unchanged");
        }
        assertEquals(1, intactCheckpoint(dir));
        assertEquals(List.of(), leftovers(dir));

        String[] small = {"--data", data.toString(), "--limit", "1000", "--no-progress", "--seed", "1", "--precise-bn", "1"};
        TrainCommandTest.Run fromScratch = run(TrainCommandTest.concat(new String[] {"train", "--epochs", "1", "--lr", "1e38", "--out",
                tmp.resolve("scratch").toString()}, small));
        oneLine(fromScratch);
        assertTrue(fromScratch.err().contains("at epoch 1, batch "), fromScratch.err());
        assertFalse(Files.exists(tmp.resolve("scratch/model.safetensors")), "no checkpoint of a diverged first epoch");

        TrainCommandTest.Run high = run(TrainCommandTest.concat(new String[] {"train", "--epochs", "1", "--lr", "100", "--out",
                tmp.resolve("lr100").toString()}, small));
        assertEquals(0, high.exit(), high.err());
        assertTrue(high.err().contains("warning: epoch 1's mean training loss") && high.err().contains("try a lower --lr"), high.err());
    }

    @Test
    void aDamagedCheckpointGivenToResumeIsOneLineWithFileAndOffset(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        String[] base = {"--data", data.toString(), "--limit", "500", "--no-progress", "--precise-bn", "1"};
        assertEquals(0, run(TrainCommandTest.concat(new String[] {"train", "--epochs", "1", "--out", dir.toString()}, base)).exit());
        Path ckpt = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(ckpt);
        Files.write(ckpt, Arrays.copyOf(bytes, bytes.length - 100));
        TrainCommandTest.Run r = run(TrainCommandTest.concat(new String[] {"train", "--epochs", "2", "--resume", ckpt.toString()}, base));
        oneLine(r);
        assertTrue(r.err().contains(ckpt.toString()) && r.err().contains("(at byte "), r.err());
    }

    // ---- memory: child JVMs with a small heap ---------------------------------------------------

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aBatchTooLargeForTheHeapIsOneLineWithTheMemoryNeeded(@TempDir Path tmp) throws Exception {
        Child c = Child.start(tmp.resolve("huge"), List.of("-Xmx512m"),
                List.of("train", "--data", data.toString(), "--batch-size", "1000000", "--epochs", "1", "--no-progress", "--out",
                        tmp.resolve("huge").toString()));
        assertEquals(1, c.waitFor(100), c.output());
        String err = c.messages().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.matches("norm4j train: a batch of 60000 images \\(--batch-size 1000000, the whole training set\\) needs about "
                + "[0-9.]+ GiB of activations and gradients per training step; the heap holds 0\\.[45] GiB \\(-Xmx\\), 0\\.2 GiB of it taken by "
                + "the data set: use a smaller --batch-size \\(about \\d+ fits\\) or a larger heap \\(-Xmx\\d+g; bin/norm4j reads NORM4J_JAVA_OPTS\\)"),
                err);
        assertFalse(Files.exists(tmp.resolve("huge/model.safetensors")));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aHeapTooSmallForTheDataSetIsOneLine(@TempDir Path tmp) throws Exception {
        Child c = Child.start(tmp.resolve("tiny"), List.of("-Xmx64m"),
                List.of("train", "--data", data.toString(), "--epochs", "1", "--no-progress", "--out", tmp.resolve("tiny").toString()));
        assertEquals(1, c.waitFor(100), c.output());
        String err = c.messages().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("norm4j train: out of memory loading Fashion-MNIST from " + data + ": it needs about 0.3 GiB and the heap holds "),
                err);
        assertTrue(err.matches(".* the heap holds (6\\d) MiB; raise it with -Xmx \\(bin/norm4j: NORM4J_JAVA_OPTS=-Xmx1g\\)"), err);
    }
}
