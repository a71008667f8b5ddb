package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.io.StateDict;
import org.norm4j.kernels.Gemm;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.Adam;
import org.norm4j.optim.LrSchedule;
import org.norm4j.optim.Optimizer;
import org.norm4j.optim.SGD;
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

    @Option(names = "--convention", defaultValue = "PYTORCH", description = "Batch-norm convention: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Convention convention;

    @Option(names = "--threads", description = "BLAS threads; bin/norm4j passes it to OpenBLAS (default there: 1, faster on LeNet's skinny GEMMs).")
    Integer threads;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialization and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

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

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter outw = spec.commandLine().getOut();
        LeNet.Norm normKind = LeNet.Norm.valueOf(norm.toUpperCase(Locale.ROOT));
        Path dataDir = FashionMnist.resolveDir(data);
        Dataset train = FashionMnist.load(dataDir, true), test = FashionMnist.load(dataDir, false);
        if (limit != null) train = train.limit(Math.min(limit, train.size()));

        Sequential model = LeNet.build(normKind, convention, seed);
        int startEpoch = 1;
        Path runDir = out;
        List<double[]> rows = new java.util.ArrayList<>();
        Optimizer opt = optimizer(model);
        if (resume != null) {
            Map<String, String> meta = Checkpoints.load(model, resume, "LeNet with " + norm + " norm");
            int done = Integer.parseInt(meta.getOrDefault("epoch", "0"));
            startEpoch = done + 1;
            if (runDir == null) runDir = resume.toAbsolutePath().getParent();
            TrainState.restore(resume.toAbsolutePath().getParent().resolve(TrainState.FILE), done, model, opt);
            rows = RunFiles.readMetrics(runDir.resolve("metrics.csv"));
            rows.removeIf(r -> r[0] > done);   // rows of an epoch whose checkpoint was not written
        }
        if (runDir == null) runDir = Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(runDir);

        LrSchedule lrs = switch (schedule) {
            case constant -> LrSchedule.constant(lr);
            case step -> LrSchedule.step(lr, Math.max(1, epochs / 3), 0.1);
            case cosine -> LrSchedule.cosine(lr, epochs, 0);
        };
        DataLoader loader = new DataLoader(train, batchSize, true, seed);
        writeRunJson(runDir, dataDir, train.size(), test.size());
        outw.printf(Locale.ROOT, "norm4j train: LeNet (%s norm, %s) on %d Fashion-MNIST images, %d epochs, batch %d, %s lr %s; BLAS %s; run directory %s%n",
                norm, convention, train.size(), epochs, batchSize, optimizer, lr, Gemm.implementation(), runDir);
        if (startEpoch > 1) outw.printf(Locale.ROOT, "resuming after epoch %d from %s%n", startEpoch - 1, resume);
        outw.flush();

        for (int epoch = startEpoch; epoch <= epochs; epoch++) {
            opt.lr(lrs.lr(epoch - 1));
            long t0 = System.nanoTime();
            double[] lossAcc;
            try (ProgressBar bar = noProgress ? null : new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs))
                    .setInitialMax(loader.batchesPerEpoch()).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .continuousUpdate().setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()) {
                lossAcc = Trainer.trainEpoch(model, loader, opt, epoch, new Trainer.Listener() {
                    @Override
                    public void batchDone(int e, int batch, int batches, double meanLoss, double imagesPerSecond) {
                        if (bar != null) {
                            bar.stepTo(batch);
                            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f, %.0f img/s", meanLoss, imagesPerSecond));
                        }
                    }
                });
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double testAccRunning = Trainer.accuracy(model, test, 1000);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("epoch", String.valueOf(epoch));
            meta.put("norm", norm);
            meta.put("convention", convention.name());
            meta.put("precise_bn", String.valueOf(preciseBn));
            meta.put("model", "norm4j LeNet (d2l nn.Sequential keys)");
            // The raw training state first (exact resume), then the deployable model.
            TrainState.save(runDir.resolve(TrainState.FILE), epoch, model, opt);
            double testAcc = testAccRunning;
            var trainingStats = PreciseBn.snapshot(model);
            try {
                if (preciseBn > 0) {
                    PreciseBn.recompute(model, loader, epoch - 1, preciseBn);
                    testAcc = Trainer.accuracy(model, test, 1000);
                }
                StateDict.save(model, runDir.resolve("model.safetensors"), meta);
            } finally {
                PreciseBn.restore(trainingStats);   // training continues exactly as without precise BN
            }
            rows.add(new double[] {epoch, lossAcc[0], lossAcc[1], testAcc, seconds, testAccRunning});
            RunFiles.writeMetrics(runDir.resolve("metrics.csv"), rows);
            Plots.curves(runDir.resolve("curves.png"), rows, "LeNet (" + norm + " norm) on Fashion-MNIST");
            outw.printf(Locale.ROOT, "epoch %2d: loss %.4f, train acc %.4f, test acc %.4f%s, %.1f s (%.0f img/s)%n",
                    epoch, lossAcc[0], lossAcc[1], testAcc,
                    preciseBn > 0 && normKind == LeNet.Norm.BATCH ? String.format(Locale.ROOT, " (running stats: %.4f)", testAccRunning) : "",
                    seconds, train.size() / seconds);
            outw.flush();
        }
        outw.printf("wrote %s (metrics.csv, curves.png, model.safetensors, run.json)%n", runDir);
        outw.flush();
        return 0;
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
            LeNet.Norm.valueOf(norm.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--norm must be batch, layer, group or none, got '" + norm + "'");
        }
        if (resume != null && !Files.isRegularFile(resume)) {
            throw new CommandLine.ParameterException(cl, "--resume: no checkpoint file " + resume);
        }
    }

    private void writeRunJson(Path runDir, Path dataDir, int trainSize, int testSize) throws java.io.IOException {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("command", "norm4j train");
        f.put("norm4j", Main.VERSION);
        f.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        f.put("blas", Gemm.implementation());
        f.put("vector_api", org.norm4j.kernels.Loops.get().getClass().getSimpleName());
        f.put("threads", threads == null ? Runtime.getRuntime().availableProcessors() : threads);
        f.put("seed", seed);
        f.put("epochs", epochs);
        f.put("batch_size", batchSize);
        f.put("lr", lr);
        f.put("optimizer", optimizer.name());
        f.put("momentum", momentum);
        f.put("weight_decay", weightDecay);
        f.put("schedule", schedule.name());
        f.put("precise_bn", preciseBn);
        f.put("norm", norm);
        f.put("convention", convention.name());
        f.put("data", dataDir.toString());
        f.put("train_images", trainSize);
        f.put("test_images", testSize);
        f.put("resume", resume == null ? "" : resume.toString());
        f.put("started", LocalDateTime.now().toString());
        RunFiles.writeAtomically(runDir.resolve("run.json"), RunFiles.json(f));
    }
}
