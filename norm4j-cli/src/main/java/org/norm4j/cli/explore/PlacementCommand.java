package org.norm4j.cli.explore;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.norm4j.autograd.Autograd;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.fuse.Folding;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;
import org.norm4j.train.PreciseBn;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code norm4j explore placement}: the d2l LeNet-BN with BN before the sigmoid (conv → BN →
 * sigmoid) and after it (conv → sigmoid → BN), trained from the same seed on the same batches;
 * the curves in placement.png, which of the two folds for inference (org.norm4j.nn.fuse.Folding's
 * report, and for the one that folds, the folded network checked against the unfolded one),
 * placement.csv and report.md.
 */
@Command(name = "placement", mixinStandardHelpOptions = true, sortOptions = false,
        description = "LeNet with BN before vs after the sigmoid, trained a few epochs each: curves, and which one folds for inference.")
final class PlacementCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "4", description = "Epochs per placement (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--precise-bn", defaultValue = "10", description = "Recompute BN statistics over K training batches before each evaluation, on a copy, as norm4j train does (default: ${DEFAULT-VALUE}).")
    int preciseBn;

    @Mixin
    LeNetRunOptions run;

    @Mixin
    ExploreOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    record Epoch(String placement, int epoch, double trainLoss, double trainAcc, double testAccRunning, double testAccPrecise, double seconds) {}

    /** What folding did: the report, and for a network that folds entirely, how the folded one compares. */
    record Fold(String placement, List<Folding.Entry> report, int folded, double unfoldedAcc, double foldedAcc, double maxLogitDiff) {}

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (epochs < 1) throw new CommandLine.ParameterException(cl, "--epochs must be at least 1, got " + epochs);
        if (preciseBn < 1) throw new CommandLine.ParameterException(cl, "--precise-bn must be at least 1, got " + preciseBn);
        run.validate(cl);
        Dataset train = run.train(common), test = run.test(common);
        Path out = common.outDir("placement");
        PrintWriter w = cl.getOut();
        w.println(Report.f("norm4j explore placement: LeNet-BN, bn-act and act-bn, %d epochs of %d images, batch %d, SGD lr %s; %d test images",
                epochs, train.size(), run.batchSize, run.lr, test.size()));
        w.flush();

        List<Epoch> rows = new ArrayList<>();
        List<Fold> folds = new ArrayList<>();
        for (LeNet.Placement p : List.of(LeNet.Placement.NORM_ACT, LeNet.Placement.ACT_NORM)) {
            Sequential model = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, p, common.seed);
            SGD opt = new SGD(model.parameters(), run.lr);
            DataLoader loader = new DataLoader(train, run.batchSize, true, common.seed, true);
            for (int e = 1; e <= epochs; e++) {
                long t0 = System.nanoTime();
                double[] lossAcc = Training.epoch(model, loader, opt, e, Report.f("%s epoch %d/%d", name(p), e, epochs), common, null);
                double seconds = (System.nanoTime() - t0) / 1e9;
                Epoch row = new Epoch(name(p), e, lossAcc[0], lossAcc[1], Training.accuracy(model, test),
                        Training.preciseAccuracy(model, loader, e - 1, preciseBn, test), seconds);
                rows.add(row);
                w.println(Report.f("  %s epoch %d: train loss %.4f, train acc %.4f, test acc %.4f (running statistics: %.4f), %.1f s",
                        row.placement(), e, row.trainLoss(), row.trainAcc(), row.testAccPrecise(), row.testAccRunning(), seconds));
                w.flush();
            }
            Fold f = fold(name(p), model, loader, test);
            folds.add(f);
            w.println(Report.f("  %s: %d of %d batch-norm layers fold%s", f.placement(), f.folded(), f.report().size(),
                    f.folded() == f.report().size() ? Report.f("; folded test acc %.4f = unfolded %.4f, max |logit difference| %.2e", f.foldedAcc(), f.unfoldedAcc(), f.maxLogitDiff()) : ""));
            w.flush();
        }
        writeChart(out.resolve("placement.png"), rows);
        writeCsv(out.resolve("placement.csv"), rows);
        writeFoldCsv(out.resolve("fold.csv"), folds);
        writeReport(out.resolve("report.md"), rows, folds, train.size(), test.size());
        w.println("wrote " + out + " (placement.png, placement.csv, fold.csv, report.md)");
        w.flush();
        return 0;
    }

    static String name(LeNet.Placement p) {
        return p == LeNet.Placement.NORM_ACT ? "bn-act" : "act-bn";
    }

    /**
     * Folds the trained network with the statistics a deployed model would carry (recomputed over
     * the last epoch's first K batches, as norm4j train's checkpoint); where every BN folds,
     * compares the folded network with the unfolded one on the test images. The model's running
     * statistics and training mode are put back.
     */
    private Fold fold(String placement, Sequential model, DataLoader loader, Dataset test) {
        var saved = PreciseBn.snapshot(model);
        try {
            PreciseBn.recompute(model, loader, epochs - 1, preciseBn);
            model.eval();
            Folding.Result r = Folding.fold(model);
            if (r.foldedCount() < r.report().size()) return new Fold(placement, r.report(), r.foldedCount(), Double.NaN, Double.NaN, Double.NaN);
            Sequential folded = r.model();
            folded.eval();
            double unfoldedAcc = Training.accuracy(model, test), foldedAcc = Training.accuracy(folded, test);
            double maxDiff = 0;
            try (var g = Autograd.noGrad()) {
                for (DataLoader.Batch b : new DataLoader(test, 1000, false, 0).epoch(0)) {
                    float[] a = model.forward(b.x()).data(), c = folded.forward(b.x()).data();
                    for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - c[i]));
                }
            }
            return new Fold(placement, r.report(), r.foldedCount(), unfoldedAcc, foldedAcc, maxDiff);
        } finally {
            PreciseBn.restore(saved);
            model.train();
        }
    }

    private void writeChart(Path png, List<Epoch> rows) throws java.io.IOException {
        XYChart c = Charts.lines(1000, 560, "BN before vs after the sigmoid (LeNet on Fashion-MNIST)", "epoch", "loss / accuracy", false);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        c.getStyler().setLegendLayout(org.knowm.xchart.style.Styler.LegendLayout.Vertical);
        for (String p : List.of("bn-act", "act-bn")) {
            List<Epoch> rs = rows.stream().filter(r -> r.placement().equals(p)).toList();
            double[] ep = rs.stream().mapToDouble(Epoch::epoch).toArray();
            java.awt.Color color = p.equals("bn-act") ? Charts.WITH : Charts.WITHOUT;
            Charts.colored(c.addSeries(p + " train loss", ep, rs.stream().mapToDouble(Epoch::trainLoss).toArray()), color).setMarker(SeriesMarkers.CIRCLE);
            Charts.colored(c.addSeries(p + " test acc", ep, rs.stream().mapToDouble(Epoch::testAccPrecise).toArray()), color).setMarker(SeriesMarkers.SQUARE);
            XYSeries running = Charts.colored(c.addSeries(p + " test acc (plain running stats)", ep, rs.stream().mapToDouble(Epoch::testAccRunning).toArray()), color);
            running.setMarker(SeriesMarkers.TRIANGLE_UP);
            running.setLineStyle(SeriesLines.DASH_DASH);
        }
        c.getStyler().setXAxisDecimalPattern("0");
        Charts.write(png, c);
    }

    private void writeCsv(Path file, List<Epoch> rows) throws java.io.IOException {
        List<List<String>> out = new ArrayList<>();
        for (Epoch r : rows) {
            out.add(List.of(r.placement(), String.valueOf(r.epoch()), Report.f("%.6f", r.trainLoss()), Report.f("%.6f", r.trainAcc()),
                    Report.f("%.6f", r.testAccPrecise()), Report.f("%.6f", r.testAccRunning()), Report.f("%.3f", r.seconds())));
        }
        Report.writeCsv(file, "placement,epoch,train_loss,train_acc,test_acc,test_acc_running,seconds", out);
    }

    private void writeFoldCsv(Path file, List<Fold> folds) throws java.io.IOException {
        List<List<String>> out = new ArrayList<>();
        for (Fold f : folds) {
            out.add(List.of(f.placement(), String.valueOf(f.folded()), String.valueOf(f.report().size()), Report.f("%.6f", f.unfoldedAcc()),
                    Report.f("%.6f", f.foldedAcc()), Report.f("%.6g", f.maxLogitDiff())));
        }
        Report.writeCsv(file, "placement,folded,batch_norm_layers,test_acc_unfolded,test_acc_folded,max_logit_diff", out);
    }

    private void writeReport(Path file, List<Epoch> rows, List<Fold> folds, int trainSize, int testSize) throws java.io.IOException {
        Report r = new Report("Where BN sits: before or after the sigmoid");
        r.para("The d2l LeNet-BN (seed %d) as *bn-act* (conv/linear → BN → sigmoid, d2l's and the BN paper's order) and as *act-bn* "
                + "(conv/linear → sigmoid → BN), same initial weights and same batches: %d epoch(s) over %d Fashion-MNIST training images, "
                + "batch %d, SGD lr %s. Test accuracy after each epoch on %d test images with the BN statistics recomputed over %d training batches "
                + "(precise BN, as `norm4j train` evaluates and saves), and with the plain running averages (dashed).",
                common.seed, epochs, trainSize, run.batchSize, run.lr, testSize, preciseBn);
        r.image("training loss and test accuracy per epoch, bn-act and act-bn", "placement.png");
        List<List<String>> table = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            Epoch a = find(rows, "bn-act", e), b = find(rows, "act-bn", e);
            table.add(List.of(String.valueOf(e), Report.f("%.4f", a.trainLoss()), Report.f("%.4f / %.4f", a.testAccPrecise(), a.testAccRunning()),
                    Report.f("%.4f", b.trainLoss()), Report.f("%.4f / %.4f", b.testAccPrecise(), b.testAccRunning())));
        }
        r.table(List.of("epoch", "bn-act train loss", "bn-act test acc (precise / running)", "act-bn train loss", "act-bn test acc (precise / running)"), table);
        Epoch lastA = find(rows, "bn-act", epochs), lastB = find(rows, "act-bn", epochs);
        r.para("After epoch %d: bn-act %.4f test accuracy (training loss %.4f), act-bn %.4f (%.4f); a difference of %+.4f for act-bn, "
                + "from one seed.", epochs, lastA.testAccPrecise(), lastA.trainLoss(), lastB.testAccPrecise(), lastB.trainLoss(),
                lastB.testAccPrecise() - lastA.testAccPrecise());
        r.heading("Which one folds for inference");
        r.para("Folding rewrites BN(W x + b) as W' x + b'; that needs the BN to follow the Linear/Conv2d directly. "
                + "`Folding.fold` on each trained network (eval mode, precise statistics):");
        for (Fold f : folds) {
            StringBuilder sb = new StringBuilder("```\n");
            for (Folding.Entry e : f.report()) sb.append(e).append('\n');
            sb.append("```");
            r.para("**%s**: %d of %d batch-norm layers fold.%s", f.placement(), f.folded(), f.report().size(),
                    f.folded() == f.report().size()
                            ? Report.f(" The folded network (no BN layers left) gives test accuracy %.4f against %.4f unfolded; the largest "
                                    + "logit difference over the test images is %.2e (float rounding).", f.foldedAcc(), f.unfoldedAcc(), f.maxLogitDiff())
                            : " With the sigmoid between them, BN(σ(W x + b)) is not affine in W x + b: at inference these BN layers stay "
                                    + "a pass of their own.");
            r.para("%s", sb);
        }
        r.para("The numbers are in placement.csv and fold.csv. Rerun: `norm4j explore placement --epochs %d --images %d --batch-size %d --lr %s "
                + "--precise-bn %d --test-images %d --seed %d`.", epochs, trainSize, run.batchSize, run.lr, preciseBn, testSize, common.seed);
        r.write(file);
    }

    private static Epoch find(List<Epoch> rows, String placement, int epoch) {
        for (Epoch e : rows) if (e.placement().equals(placement) && e.epoch() == epoch) return e;
        throw new IllegalStateException("no row for " + placement + " epoch " + epoch);
    }
}
