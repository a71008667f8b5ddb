package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.AtomicFile;
import org.norm4j.io.StateDict;
import org.norm4j.kernels.Gemm;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.Adam;
import org.norm4j.optim.LrSchedule;
import org.norm4j.optim.Optimizer;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.TorchGenerator;
import org.norm4j.train.LeNet;
import org.norm4j.train.PreciseBn;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code norm4j train}: the d2l LeNet-BN recipe on the real Fashion-MNIST (sigmoid, SGD lr 1.0,
 * batch 256, 10 epochs, Xavier init), with a progress bar per epoch, one summary line per epoch,
 * and a run directory holding metrics.csv, curves.png, model.safetensors (PyTorch's key names,
 * written atomically after every epoch, with precise-BN statistics), train-state.safetensors (the
 * raw running statistics and optimizer state, for an exact --resume) and run.json.
 *
 * <p>Interruptions: each epoch ends with metrics.csv, then train-state.safetensors (the previous
 * one first renamed to train-state.previous.safetensors), then model.safetensors, then the
 * previous state is deleted; each file is replaced atomically. A process killed anywhere leaves a
 * model.safetensors of some epoch E and a train state of the same epoch E in one of the two
 * files, so --resume continues bit for bit, and metrics rows after E are dropped. Divergence and
 * running out of memory end the command with one line, before that epoch's files are written.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train LeNet with batch normalization on Fashion-MNIST (the d2l recipe by default).")
final class TrainCommand implements Callable<Integer> {
    enum OptimizerKind { sgd, adam, adamw }

    enum Schedule { constant, step, cosine }

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1.0", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd, adam or adamw (default: ${DEFAULT-VALUE}).")
    OptimizerKind optimizer;

    @Option(names = "--momentum", defaultValue = "0", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "Weight decay (default: ${DEFAULT-VALUE}; adamw: 0.01 if 0).")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "constant", description = "constant, step (×0.1 every third of the run) or cosine (default: ${DEFAULT-VALUE}).")
    Schedule schedule;

    @Option(names = "--norm", defaultValue = "batch", description = "batch, layer, group or none: the normalization in every block (default: ${DEFAULT-VALUE}).")
    String norm;

    @Option(names = "--placement", defaultValue = "bn-act", description = "bn-act (normalization before the sigmoid, d2l; folds) or act-bn (after it; does not fold) (default: ${DEFAULT-VALUE}).")
    String placement;

    @Option(names = "--convention", defaultValue = "PYTORCH", description = "Batch-norm convention: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Convention convention;

    @Option(names = "--threads", description = "Threads for norm4j's kernels (images of a batch are split in fixed chunks, so the result "
            + "does not depend on it; default: $NORM4J_THREADS, else 1). OpenBLAS itself stays at 1 thread (bin/norm4j), faster on LeNet's skinny GEMMs.")
    Integer threads;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialization and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    /** Whose random numbers initialize the weights and shuffle the epochs. */
    enum RngKind { torch, norm4j }

    @Option(names = "--rng", defaultValue = "torch", description = "Random numbers for initialization and shuffling: torch (PyTorch's "
            + "generator, draw for draw: the initial weights and every epoch's batches of torch.manual_seed(SEED) in "
            + "tools/d2l_lenet_pytorch.py) or norm4j (norm4j's own streams, the only ones before 0.1's --rng) (default: ${DEFAULT-VALUE}).")
    RngKind rng;

    @Option(names = "--limit", description = "Train on the first N training images only.")
    Integer limit;

    @Option(names = "--data", description = "Directory of the four Fashion-MNIST IDX files (default: $NORM4J_DATA, else " + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--out", description = "Run directory (default: runs/<timestamp>; with --resume: the checkpoint's directory).")
    Path out;

    @Option(names = "--resume", description = "Continue from this model.safetensors (written by norm4j train).")
    Path resume;

    @Option(names = "--precise-bn", defaultValue = "10", description = "Before each evaluation and checkpoint, recompute BN statistics over K training batches, on a copy (0: off; default: ${DEFAULT-VALUE}).")
    int preciseBn;

    @Option(names = "--no-progress", description = "No progress bar (one line per epoch only).")
    boolean noProgress;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The train state of the epoch before, kept until the next model.safetensors is in place. */
    static final String PREVIOUS_STATE = "train-state.previous.safetensors";

    @Override
    public Integer call() throws Exception {
        validate();
        if (threads != null) org.norm4j.kernels.Parallel.setThreads(threads);
        PrintWriter outw = spec.commandLine().getOut();
        LeNet.Norm normKind = LeNet.Norm.valueOf(norm.toUpperCase(Locale.ROOT));
        Path dataDir = FashionMnist.resolveDir(data);
        Dataset train, test;
        try {
            train = FashionMnist.load(dataDir, true);
            test = FashionMnist.load(dataDir, false);
        } catch (OutOfMemoryError e) {
            // the training split alone is 188 MB of floats, decoded from 47 MB of bytes
            throw new IllegalStateException("out of memory loading Fashion-MNIST from " + dataDir + ": it needs about 0.3 GiB and the heap holds "
                    + gib(Runtime.getRuntime().maxMemory()) + "; raise it with -Xmx (bin/norm4j: NORM4J_JAVA_OPTS=-Xmx1g)");
        }
        if (limit != null) train = train.limit(Math.min(limit, train.size()));

        TorchGenerator torchGen = rng == RngKind.torch ? new TorchGenerator(seed) : null;
        Sequential model = torchGen != null
                ? LeNet.buildTorchSeeded(normKind, convention, Checkpoints.placement(placement), torchGen)
                : LeNet.build(normKind, convention, Checkpoints.placement(placement), seed);
        int startEpoch = 1;
        Path runDir = out;
        List<double[]> rows = new java.util.ArrayList<>();
        Optimizer opt = optimizer(model);
        boolean exactResume = false;
        if (resume != null) {
            String trainedWith = rngOfRun(resume.toAbsolutePath().getParent().resolve("run.json"));
            if (trainedWith != null && !trainedWith.equals(rng.name())) {
                throw new IllegalArgumentException("--resume " + resume + ": that run was trained with --rng " + trainedWith
                        + " (its run.json), this one would use --rng " + rng.name() + " and shuffle differently; resume with --rng "
                        + trainedWith);
            }
            Map<String, String> meta = Checkpoints.load(model, resume, "LeNet with " + norm + " norm");
            int done = Integer.parseInt(meta.getOrDefault("epoch", "0"));
            startEpoch = done + 1;
            if (runDir == null) runDir = resume.toAbsolutePath().getParent();
            Path stateDir = resume.toAbsolutePath().getParent();
            exactResume = TrainState.restore(stateDir.resolve(TrainState.FILE), done, model, opt);
            if (!exactResume && TrainState.restore(stateDir.resolve(PREVIOUS_STATE), done, model, opt)) {
                // killed between the two checkpoint files: the state of this checkpoint's epoch is the previous one;
                // put it back in place so that the next epoch's rotation keeps it
                exactResume = true;
                if (stateDir.equals(runDir.toAbsolutePath())) {
                    Files.move(stateDir.resolve(PREVIOUS_STATE), stateDir.resolve(TrainState.FILE), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
            rows = RunFiles.readMetrics(runDir.resolve("metrics.csv"));
            rows.removeIf(r -> r[0] > done);   // rows of an epoch whose checkpoint was not written
        }
        if (runDir == null) runDir = Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(runDir);
        for (String f : new String[] {"model.safetensors", TrainState.FILE, PREVIOUS_STATE, "metrics.csv", "curves.png", "run.json"}) {
            AtomicFile.deleteLeftovers(runDir.resolve(f));   // temporary files of a write that was killed
        }
        int batchImages = Math.min(batchSize, train.size());
        long stepBytes = Trainer.stepBytes(model, new int[] {1, train.height(), train.width()}, batchImages);
        checkHeap(stepBytes, batchImages, train, test);

        LrSchedule lrs = switch (schedule) {
            case constant -> LrSchedule.constant(lr);
            case step -> LrSchedule.step(lr, Math.max(1, epochs / 3), 0.1);
            case cosine -> LrSchedule.cosine(lr, epochs, 0);
        };
        DataLoader loader = torchGen != null ? DataLoader.torchShuffled(train, batchSize, seed, torchGen.draws())
                : new DataLoader(train, batchSize, true, seed);
        writeRunJson(runDir, dataDir, train.size(), test.size());
        warmUp = warmUpEnabled() ? warmUpImages(test, batchSize) : null;
        outw.printf(Locale.ROOT, "norm4j train: LeNet (%s norm, %s) on %d Fashion-MNIST images, %d epochs, batch %d, %s lr %s; BLAS %s; run directory %s%n",
                norm, convention, train.size(), epochs, batchSize, optimizer, lr, Gemm.implementation(), runDir);
        if (startEpoch > 1) outw.printf(Locale.ROOT, "resuming after epoch %d from %s%n", startEpoch - 1, resume);
        if (resume != null && !exactResume) {
            outw.printf(Locale.ROOT, "note: no %s of epoch %d beside the checkpoint: the optimizer state and the raw BN statistics start "
                    + "from the checkpoint, so the run goes on correctly but not bit for bit as an uninterrupted one%n", TrainState.FILE, startEpoch - 1);
        }
        outw.flush();

        for (int epoch = startEpoch; epoch <= epochs; epoch++) {
            try {
                epoch(epoch, model, opt, lrs, loader, train, test, runDir, rows, normKind, outw);
            } catch (OutOfMemoryError e) {
                throw new IllegalStateException("out of memory in epoch " + epoch + ": " + memoryAdvice(stepBytes, batchImages, train, test));
            }
        }
        outw.printf("wrote %s (metrics.csv, curves.png, model.safetensors, run.json)%n", runDir);
        outw.flush();
        return 0;
    }

    /**
     * The batch of the process's first epoch after which {@link #warmUpBetweenEpochs} runs: late
     * enough that norm4j's methods run as C1's profiling code (at the compile counts bin/norm4j
     * sets), early enough that C2 has not yet compiled them from a profile of the step alone
     * (docs/training.md, "What runs between epochs").
     */
    static final int WARM_UP_BATCH = 40;

    /** {@code -Dnorm4j.train.warmUp=false} leaves the warm-up out (for comparisons: the results are the same bits either way). */
    static boolean warmUpEnabled() {
        return !"false".equals(System.getProperty("norm4j.train.warmUp"));
    }

    /** The test images the warm-up evaluates, until it has run; null once it has (or when it is off). */
    private Dataset warmUp;
    /** How long the warm-up took, left out of the epoch's seconds. */
    private long warmUpNanos;

    /** One full test batch and the evaluation's short last one (or a second full one): the shapes the evaluation meets. */
    static Dataset warmUpImages(Dataset test, int batchSize) {
        int tail = test.size() % batchSize;
        return test.limit((int) Math.min(test.size(), (long) batchSize + (tail == 0 ? batchSize : tail)));
    }

    static int warmUpBatch(int batches) {
        return Math.max(1, Math.min(WARM_UP_BATCH, batches / 2));
    }

    /**
     * Runs, on a little data, what follows each epoch: the evaluation (eval mode, no gradients) and
     * the precise-BN pass, whose state it restores, so nothing of the model or its statistics
     * changes. Why: C2 compiles the training step from a profile of the step alone, where no
     * batch norm ever took its running statistics and no op ran without gradients; the first
     * end-of-epoch evaluation then hit those untaken branches, which threw the compiled code
     * away (BatchNorm.normalize, ChannelNorm.forward, Autograd.record, Workspace.take), and C2
     * compiled it again during the next epoch, on a core the step needed. Run while the step is
     * still profiled, the evaluation's branches are in the profile and the compiled step serves
     * both (docs/training.md, "What runs between epochs").
     */
    static void warmUpBetweenEpochs(Module model, Dataset test, DataLoader loader, int batchSize, boolean preciseBn) {
        Trainer.accuracy(model, test, batchSize);
        if (!preciseBn) return;
        var stats = PreciseBn.snapshot(model);
        try {
            PreciseBn.recompute(model, loader, 0, 1);
        } finally {
            PreciseBn.restore(stats);
        }
    }

    /** Trains and evaluates one epoch, then writes metrics.csv, the two checkpoint files and curves.png. */
    private void epoch(int epoch, Sequential model, Optimizer opt, LrSchedule lrs, DataLoader loader, Dataset train, Dataset test,
                       Path runDir, List<double[]> rows, LeNet.Norm normKind, PrintWriter outw) throws java.io.IOException {
        opt.lr(lrs.lr(epoch - 1));
        long t0 = System.nanoTime();
        double[] lossAcc;
        try (ProgressBar bar = noProgress ? null : ProgressBars.onStderr(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs),
                loader.batchesPerEpoch())) {
            lossAcc = Trainer.trainEpoch(model, loader, opt, epoch, new Trainer.Listener() {
                @Override
                public void batchDone(int e, int batch, int batches, double meanLoss, double imagesPerSecond) {
                    if (warmUp != null && batch == warmUpBatch(batches)) {
                        long w = System.nanoTime();
                        warmUpBetweenEpochs(model, warmUp, loader, batchSize, preciseBn > 0);
                        warmUp = null;
                        warmUpNanos = System.nanoTime() - w;
                    }
                    if (bar != null) {
                        bar.stepTo(batch);
                        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %.0f img/s", meanLoss, imagesPerSecond));
                    }
                }
            });
        }
        double seconds = (System.nanoTime() - t0 - warmUpNanos) / 1e9;   // the training pass alone
        warmUpNanos = 0;
        double testAccRunning = Trainer.accuracy(model, test, batchSize);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("epoch", String.valueOf(epoch));
        meta.put("norm", norm);
        meta.put("convention", convention.name());
        meta.put("placement", Checkpoints.placementName(Checkpoints.placement(placement)));
        meta.put("precise_bn", String.valueOf(preciseBn));
        meta.put("model", "norm4j LeNet (d2l nn.Sequential keys)");
        double testAcc = testAccRunning;
        var trainingStats = PreciseBn.snapshot(model);
        var checkpointStats = trainingStats;
        try {
            if (preciseBn > 0) {
                PreciseBn.recompute(model, loader, epoch - 1, preciseBn);
                testAcc = Trainer.accuracy(model, test, batchSize);
                checkpointStats = PreciseBn.snapshot(model);
            }
        } finally {
            PreciseBn.restore(trainingStats);   // training continues exactly as without precise BN
        }
        // Order matters for a process killed in between (see the class comment): metrics.csv first
        // (a resume drops rows past its checkpoint), then the raw training state of this epoch with
        // the previous epoch's kept aside, then the deployable model.
        rows.add(new double[] {epoch, lossAcc[0], lossAcc[1], testAcc, seconds, testAccRunning});
        RunFiles.writeMetrics(runDir.resolve("metrics.csv"), rows);
        // train-state.safetensors matches the model.safetensors in place (a resume restored that invariant)
        Path state = runDir.resolve(TrainState.FILE), previous = runDir.resolve(PREVIOUS_STATE);
        if (Files.exists(state)) Files.move(state, previous, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        TrainState.save(state, epoch, model, opt);
        try {
            PreciseBn.restore(checkpointStats);
            StateDict.save(model, runDir.resolve("model.safetensors"), meta);
        } finally {
            PreciseBn.restore(trainingStats);
        }
        Files.deleteIfExists(previous);
        Plots.curves(runDir.resolve("curves.png"), rows, "LeNet (" + norm + " norm) on Fashion-MNIST");
        outw.printf(Locale.ROOT, "epoch %2d: loss %.4f, train acc %.4f, test acc %.4f%s, %.1f s (%.0f img/s)%n",
                epoch, lossAcc[0], lossAcc[1], testAcc,
                preciseBn > 0 && normKind == LeNet.Norm.BATCH ? String.format(Locale.ROOT, " (running stats: %.4f)", testAccRunning) : "",
                seconds, train.size() / seconds);
        outw.flush();
        double uniform = Math.log(train.classes().size());
        if (lossAcc[0] > 2 * uniform) {
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "norm4j train: warning: epoch %d's mean training loss %.4f is over twice that of guessing uniformly "
                    + "(ln %d = %.4f): the learning rate is probably too high; try a lower --lr%n", epoch, lossAcc[0], train.classes().size(), uniform);
            err.flush();
        }
    }

    /** Refuses, before training, a batch whose step would not fit in the heap beside the data set. */
    private void checkHeap(long stepBytes, int batchImages, Dataset train, Dataset test) {
        long heap = Runtime.getRuntime().maxMemory();
        if (heap == Long.MAX_VALUE) return;   // no limit known
        long available = heap - dataBytes(train, test);
        if (stepBytes > available) {
            throw new IllegalArgumentException(memoryAdvice(stepBytes, batchImages, train, test));
        }
    }

    private String memoryAdvice(long stepBytes, int batchImages, Dataset train, Dataset test) {
        long heap = Runtime.getRuntime().maxMemory(), available = heap - dataBytes(train, test);
        long perImage = Math.max(1, stepBytes / batchImages);
        long fits = Math.max(0, available / perImage * 3 / 4);   // leave a quarter to the collector and the evaluation
        String size = batchImages == batchSize ? "a batch of " + batchImages + " images"
                : "a batch of " + batchImages + " images (--batch-size " + batchSize + ", the whole training set)";
        long wanted = heap - available + stepBytes / 3 * 4;
        return String.format(Locale.ROOT, "%s needs about %s of activations and gradients per training step; the heap holds %s (-Xmx), "
                + "%s of it taken by the data set: use a smaller --batch-size (about %d fits) or a larger heap (-Xmx%dg; bin/norm4j "
                + "reads NORM4J_JAVA_OPTS)", size, gib(stepBytes), gib(heap), gib(heap - available), fits, wanted / (1L << 30) + 1);
    }

    private static long dataBytes(Dataset train, Dataset test) {
        return ((long) train.images().length + test.images().length) * Float.BYTES + ((long) train.size() + test.size()) * Integer.BYTES;
    }

    static String gib(long bytes) {
        double g = bytes / (double) (1L << 30);
        return g >= 10 ? String.format(Locale.ROOT, "%.0f GiB", g)
                : g >= 0.1 ? String.format(Locale.ROOT, "%.1f GiB", g) : String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }

    private Optimizer optimizer(Sequential model) {
        return switch (optimizer) {
            case sgd -> new SGD(model.parameters(), lr, momentum, 0, weightDecay, false);
            case adam -> new Adam(model.parameters(), lr, 0.9, 0.999, 1e-8, weightDecay, false);
            case adamw -> new Adam(model.parameters(), lr, 0.9, 0.999, 1e-8, weightDecay == 0 ? 0.01 : weightDecay, true);
        };
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if (epochs < 1) throw new CommandLine.ParameterException(cl, "--epochs must be at least 1, got " + epochs);
        if (batchSize < 2) throw new CommandLine.ParameterException(cl, "--batch-size must be at least 2 (batch norm needs 2 values per channel), got " + batchSize);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new CommandLine.ParameterException(cl, "--lr must be a positive number, got " + lr);
        if (preciseBn < 0) throw new CommandLine.ParameterException(cl, "--precise-bn must be ≥ 0 (0 turns it off), got " + preciseBn);
        if (limit != null && limit < 2) throw new CommandLine.ParameterException(cl, "--limit must be at least 2, got " + limit);
        if (threads != null && threads < 1) throw new CommandLine.ParameterException(cl, "--threads must be at least 1, got " + threads);
        try {
            Checkpoints.placement(placement);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--placement must be bn-act or act-bn, got '" + placement + "'");
        }
        try {
            LeNet.Norm.valueOf(norm.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--norm must be batch, layer, group or none, got '" + norm + "'");
        }
        if (resume != null && !Files.isRegularFile(resume)) {
            throw new CommandLine.ParameterException(cl, "--resume: no checkpoint file " + resume);
        }
    }

    /**
     * The --rng a run directory's run.json records: its "rng", "norm4j" for a run.json written before
     * the option existed, null when there is no run.json (nothing to check against).
     */
    static String rngOfRun(Path runJson) throws java.io.IOException {
        if (!Files.isRegularFile(runJson)) return null;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"rng\"\\s*:\\s*\"(\\w+)\"").matcher(Files.readString(runJson));
        return m.find() ? m.group(1) : RngKind.norm4j.name();
    }

    private void writeRunJson(Path runDir, Path dataDir, int trainSize, int testSize) throws java.io.IOException {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("command", "norm4j train");
        f.put("norm4j", Main.VERSION);
        f.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        f.put("blas", Gemm.implementation());
        f.put("vector_api", org.norm4j.kernels.Loops.get().getClass().getSimpleName());
        f.put("threads", org.norm4j.kernels.Parallel.threads());
        f.put("seed", seed);
        f.put("rng", rng.name());
        f.put("epochs", epochs);
        f.put("batch_size", batchSize);
        f.put("lr", lr);
        f.put("optimizer", optimizer.name());
        f.put("momentum", momentum);
        f.put("weight_decay", weightDecay);
        f.put("schedule", schedule.name());
        f.put("precise_bn", preciseBn);
        f.put("norm", norm);
        f.put("placement", placement);
        f.put("convention", convention.name());
        f.put("data", dataDir.toString());
        f.put("train_images", trainSize);
        f.put("test_images", testSize);
        f.put("resume", resume == null ? "" : resume.toString());
        f.put("started", LocalDateTime.now().toString());
        RunFiles.writeAtomically(runDir.resolve("run.json"), RunFiles.json(f));
    }
}
