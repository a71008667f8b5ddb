package org.norm4j.cli.explore;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.knowm.xchart.HeatMapChart;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.SGD;
import org.norm4j.train.LeNet;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code norm4j explore batch-size}: the d2l LeNet with BatchNorm, GroupNorm, LayerNorm and no
 * normalization, each trained from the same initialization on the same images at several batch
 * sizes (SGD, the learning rate scaled linearly with the batch size); the final test accuracy per
 * (normalization, batch size) as batch-size.png (a heat map), batch-size.csv and report.md.
 */
@Command(name = "batch-size", mixinStandardHelpOptions = true, sortOptions = false,
        description = "LeNet with batch, group, layer and no normalization trained at batch sizes 2 to 256 on the same images: test accuracy as a heat map.")
final class BatchSizeCommand implements Callable<Integer> {
    @Option(names = "--norms", split = ",", defaultValue = "batch,group,layer,none", description = "Normalizations, in rows (default: ${DEFAULT-VALUE}).")
    List<String> norms;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "2,8,32,256", description = "Batch sizes, in columns (default: ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--images", defaultValue = "30720", description = "Training images every run sees once, rounded down to a multiple of every batch size (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--lr", defaultValue = "0.5", description = "SGD learning rate at batch 256; batch b trains with lr·b/256 (default: ${DEFAULT-VALUE}; "
            + "d2l's 1.0 makes GroupNorm and LayerNorm oscillate at batch 256).")
    double lr;

    @Option(names = "--test-images", defaultValue = "10000", description = "Test images to measure accuracy on (default: all ${DEFAULT-VALUE}).")
    int testImages;

    @Option(names = "--precise-bn", defaultValue = "10", description = "Also measure BatchNorm with its statistics recomputed over K batches of 256 training images (0: off; default: ${DEFAULT-VALUE}).")
    int preciseBn;

    @Mixin
    ExploreOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One training run's outcome; testAcc is NaN when training diverged. */
    record Cell(String norm, int batchSize, double lr, int steps, double trainLoss, double trainAcc, double testAcc, double testAccPrecise, double seconds) {}

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        List<LeNet.Norm> kinds = new ArrayList<>();
        for (String n : norms) {
            try {
                kinds.add(LeNet.Norm.valueOf(n.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--norms: each must be batch, group, layer or none, got '" + n + "'");
            }
        }
        long lcm = 1;
        for (int b : batchSizes) {
            if (b < 2) throw new CommandLine.ParameterException(cl, "--batch-sizes: each must be at least 2 (batch norm needs 2 values per channel), got " + b);
            lcm = lcm(lcm, b);
            if (lcm > Integer.MAX_VALUE) throw new CommandLine.ParameterException(cl, "--batch-sizes " + batchSizes + ": no image count is a multiple of all of them");
        }
        if (!(lr > 0) || Double.isInfinite(lr)) throw new CommandLine.ParameterException(cl, "--lr must be a positive number, got " + lr);
        if (testImages < 1) throw new CommandLine.ParameterException(cl, "--test-images must be at least 1, got " + testImages);
        if (preciseBn < 0) throw new CommandLine.ParameterException(cl, "--precise-bn must be ≥ 0 (0 turns it off), got " + preciseBn);
        Dataset train = common.load(true), test = common.load(false);
        int used = (int) (Math.min(images, train.size()) / lcm * lcm);
        if (used < 1) {
            throw new CommandLine.ParameterException(cl, "--images " + images + " holds no whole batch of every size " + batchSizes + " (needs a multiple of " + lcm + ")");
        }
        train = train.limit(used);
        test = test.limit(Math.min(testImages, test.size()));
        Path out = common.outDir("batch-size");
        PrintWriter w = cl.getOut();
        w.println(Report.f("norm4j explore batch-size: LeNet with %s norm at batch sizes %s, %d training images each, lr %s·b/256; %d test images",
                norms, batchSizes, used, lr, test.size()));
        w.flush();

        List<Cell> cells = new ArrayList<>();
        for (LeNet.Norm kind : kinds) {
            for (int b : batchSizes) {
                Cell c = run(kind, b, train, test);
                cells.add(c);
                w.println(Report.f("  %-5s batch %3d: lr %.5f, %5d steps, train loss %.4f, test acc %s%s, %.1f s", name(kind), b, c.lr(), c.steps(), c.trainLoss(),
                        Double.isNaN(c.testAcc()) ? "diverged" : Report.f("%.4f", c.testAcc()),
                        Double.isNaN(c.testAccPrecise()) ? "" : Report.f(" (precise BN statistics: %.4f)", c.testAccPrecise()), c.seconds()));
                w.flush();
            }
        }
        writeHeatMap(out.resolve("batch-size.png"), kinds, cells, used);
        writeCsv(out.resolve("batch-size.csv"), cells);
        writeReport(out.resolve("report.md"), kinds, cells, used, test.size());
        w.println("wrote " + out + " (batch-size.png, batch-size.csv, report.md)");
        w.flush();
        return 0;
    }

    private Cell run(LeNet.Norm kind, int b, Dataset train, Dataset test) {
        Sequential model = LeNet.build(kind, Convention.PYTORCH, common.seed);
        double lrB = lr * b / 256;
        SGD opt = new SGD(model.parameters(), lrB);
        DataLoader loader = new DataLoader(train, b, true, common.seed, true);
        long t0 = System.nanoTime();
        double[] lossAcc;
        try {
            lossAcc = Training.epoch(model, loader, opt, 1, Report.f("%s b=%d", name(kind), b), common, null);
        } catch (Trainer.DivergedException e) {
            return new Cell(name(kind), b, lrB, loader.batchesPerEpoch(), Double.NaN, Double.NaN, Double.NaN, Double.NaN, (System.nanoTime() - t0) / 1e9);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double acc = Training.accuracy(model, test);
        double precise = Double.NaN;
        if (kind == LeNet.Norm.BATCH && preciseBn > 0) {
            precise = Training.preciseAccuracy(model, new DataLoader(train, Math.min(256, train.size()), true, common.seed + 1), 0, preciseBn, test);
        }
        return new Cell(name(kind), b, lrB, loader.batchesPerEpoch(), lossAcc[0], lossAcc[1], acc, precise, seconds);
    }

    static String name(LeNet.Norm kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    private static String label(String norm) {
        return switch (norm) {
            case "batch" -> "BatchNorm";
            case "group" -> "GroupNorm";
            case "layer" -> "LayerNorm";
            default -> "no normalization";
        };
    }

    private static long lcm(long a, long b) {
        long x = a, y = b;
        while (y != 0) {
            long t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    private void writeHeatMap(Path png, List<LeNet.Norm> kinds, List<Cell> cells, int used) throws java.io.IOException {
        HeatMapChart c = Charts.heatMap(760, 120 + 90 * kinds.size(), Report.f("Test accuracy after %d training images (LeNet, SGD lr %s·b/256)", used, lr),
                "batch size", "normalization", 0.1, 0.9);
        List<String> xs = new ArrayList<>();
        for (int b : batchSizes) xs.add(String.valueOf(b));
        List<String> ys = new ArrayList<>();
        for (int i = kinds.size() - 1; i >= 0; i--) ys.add(label(name(kinds.get(i))));
        List<Number[]> values = new ArrayList<>();
        for (Cell cell : cells) {
            if (Double.isNaN(cell.testAcc())) continue;   // diverged: the cell stays empty, the report says so
            int x = batchSizes.indexOf(cell.batchSize()), y = ys.indexOf(label(cell.norm()));
            values.add(new Number[] {x, y, cell.testAcc()});
        }
        c.addSeries("test accuracy", xs, ys, values);
        Charts.write(png, c);
    }

    private void writeCsv(Path file, List<Cell> cells) throws java.io.IOException {
        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(c.norm(), String.valueOf(c.batchSize()), Report.f("%.8g", c.lr()), String.valueOf(c.steps()), Report.f("%.6f", c.trainLoss()),
                    Report.f("%.6f", c.trainAcc()), Report.f("%.6f", c.testAcc()), Report.f("%.6f", c.testAccPrecise()), Report.f("%.3f", c.seconds())));
        }
        Report.writeCsv(file, "norm,batch_size,lr,steps,train_loss,train_acc,test_acc,test_acc_precise_bn,seconds", rows);
    }

    private Cell cell(List<Cell> cells, String norm, int b) {
        for (Cell c : cells) if (c.norm().equals(norm) && c.batchSize() == b) return c;
        return null;
    }

    private void writeReport(Path file, List<LeNet.Norm> kinds, List<Cell> cells, int used, int testSize) throws java.io.IOException {
        Report r = new Report("Batch size: BatchNorm against GroupNorm, LayerNorm and no normalization");
        r.para("The d2l LeNet (sigmoid, average pooling, Xavier init; seed %d) with each normalization after every convolution and hidden "
                + "linear layer (GroupNorm: 2 groups of 6 channels, 4 of 16, 120 and 84; LayerNorm: over (C, H, W) after convolutions), "
                + "trained once over the same %d Fashion-MNIST training images in the same order at each batch size, plain SGD with "
                + "learning rate %s·b/256 (the linear scaling rule; %s at d2l's batch 256%s), so that steps × learning rate is the same in "
                + "every run. Test accuracy on %d test images, in eval mode: BatchNorm normalizes with its running averages (PyTorch's eval()).",
                common.seed, used, lr, lr, lr == 0.5 ? ", half d2l's 1.0, with which GroupNorm and LayerNorm oscillate there" : "", testSize);
        r.image("test accuracy per normalization and batch size", "batch-size.png");
        List<String> header = new ArrayList<>(List.of("normalization"));
        for (int b : batchSizes) header.add("batch " + b);
        List<List<String>> rows = new ArrayList<>();
        for (LeNet.Norm k : kinds) {
            List<String> row = new ArrayList<>(List.of(label(name(k))));
            for (int b : batchSizes) row.add(accText(cell(cells, name(k), b).testAcc()));
            rows.add(row);
            if (k == LeNet.Norm.BATCH && preciseBn > 0) {
                List<String> p = new ArrayList<>(List.of("BatchNorm, statistics recomputed"));
                for (int b : batchSizes) p.add(accText(cell(cells, name(k), b).testAccPrecise()));
                rows.add(p);
            }
        }
        r.table(header, rows);
        if (preciseBn > 0 && kinds.contains(LeNet.Norm.BATCH)) {
            r.para("\"Statistics recomputed\": the same BatchNorm networks evaluated with population statistics recomputed over %d batches of "
                    + "256 training images (precise BN, docs/precise-bn.md) instead of the running averages. Where it does not recover the "
                    + "accuracy either, the network itself learned to depend on the statistics of tiny batches.", preciseBn);
        }
        int smallest = batchSizes.stream().mapToInt(Integer::intValue).min().orElseThrow();
        int largest = batchSizes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        StringBuilder s = new StringBuilder();
        for (LeNet.Norm k : kinds) {
            Cell lo = cell(cells, name(k), smallest), hi = cell(cells, name(k), largest);
            s.append(Report.f("%s %s at batch %d and %s at batch %d; ", label(name(k)), accText(lo.testAcc()), smallest, accText(hi.testAcc()), largest));
        }
        r.para("From the smallest to the largest batch: %s.", s.substring(0, s.length() - 2));
        List<String> diverged = new ArrayList<>();
        for (Cell c : cells) if (Double.isNaN(c.testAcc())) diverged.add(label(c.norm()) + " at batch " + c.batchSize());
        if (!diverged.isEmpty()) r.para("Diverged (empty cells): %s.", String.join(", ", diverged));
        List<List<String>> detail = new ArrayList<>();
        for (Cell c : cells) {
            detail.add(List.of(label(c.norm()), String.valueOf(c.batchSize()), Report.g(c.lr()), String.valueOf(c.steps()), Report.g(c.trainLoss()),
                    accText(c.trainAcc()), accText(c.testAcc()), Report.f("%.1f", c.seconds())));
        }
        r.table(List.of("normalization", "batch", "lr", "steps", "final train loss (epoch mean)", "train acc", "test acc", "seconds"), detail);
        r.para("The numbers are in batch-size.csv. Rerun: `norm4j explore batch-size --norms %s --batch-sizes %s --images %d --lr %s --precise-bn %d "
                + "--test-images %d --seed %d`.", String.join(",", norms), batchSizes.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")),
                used, lr, preciseBn, testSize, common.seed);
        r.write(file);
    }

    private static String accText(double a) {
        return Double.isNaN(a) ? "—" : Report.f("%.4f", a);
    }
}
