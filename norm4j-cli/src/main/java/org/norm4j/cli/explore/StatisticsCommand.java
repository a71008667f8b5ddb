package org.norm4j.cli.explore;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;
import org.norm4j.train.PreciseBn;
import org.norm4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code norm4j explore statistics}: trains the d2l LeNet-BN and, a few times per epoch, compares
 * every BN layer's running mean and variance with population statistics recomputed for the weights
 * as they are (precise BN over K training batches, weights frozen, on a copy): how far the running
 * averages trail. A second, independent recomputation over the next K batches gives the noise
 * floor of the comparison. Writes statistics.png (gap per layer), accuracy.png (test accuracy with
 * either statistics), statistics.csv and report.md. Training is untouched by the measurements.
 */
@Command(name = "statistics", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Running BN statistics against recomputed population statistics during training: how far they trail.")
final class StatisticsCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--points-per-epoch", defaultValue = "5", description = "Measurements per epoch, besides one before training (default: ${DEFAULT-VALUE}).")
    int pointsPerEpoch;

    @Option(names = "--precise-batches", defaultValue = "10", description = "K: training batches of --batch-size each population estimate averages (default: ${DEFAULT-VALUE}).")
    int preciseBatches;

    @Mixin
    LeNetRunOptions run;

    @Mixin
    ExploreOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * One BN layer at one point: the gap between its running statistics and the population
     * statistics (estimate A), and between two independent population estimates (A and B, the
     * noise floor). Mean gap: mean over channels of |m − m_A| / sqrt(v_A + eps); variance gap:
     * mean over channels of |v − v_A| / v_A.
     */
    record LayerGap(int layer, double meanGap, double varGap, double meanFloor, double varFloor) {}

    /** One measurement: after {@code step} optimizer steps ({@code epoch} in epochs, fractional). */
    record Point(int step, double epoch, List<LayerGap> layers, double testAccRunning, double testAccPrecise) {}

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (epochs < 1) throw new CommandLine.ParameterException(cl, "--epochs must be at least 1, got " + epochs);
        if (pointsPerEpoch < 1) throw new CommandLine.ParameterException(cl, "--points-per-epoch must be at least 1, got " + pointsPerEpoch);
        if (preciseBatches < 1) throw new CommandLine.ParameterException(cl, "--precise-batches must be at least 1, got " + preciseBatches);
        run.validate(cl);
        Dataset train = run.train(common), test = run.test(common);
        if (train.size() < 2L * preciseBatches * run.batchSize) {
            throw new CommandLine.ParameterException(cl, "--images " + train.size() + " is too few for two independent estimates of "
                    + preciseBatches + " batches of " + run.batchSize + " (needs " + 2L * preciseBatches * run.batchSize + ")");
        }
        Path out = common.outDir("statistics");
        PrintWriter w = cl.getOut();
        w.println(Report.f("norm4j explore statistics: LeNet-BN, %d epochs of %d images, batch %d, SGD lr %s; population statistics over %d batches, "
                + "%d points per epoch", epochs, train.size(), run.batchSize, run.lr, preciseBatches, pointsPerEpoch));
        w.flush();

        Sequential model = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, common.seed);
        List<Integer> bnIndex = new ArrayList<>();
        for (int i = 0; i < model.size(); i++) if (model.get(i) instanceof BatchNorm) bnIndex.add(i);
        SGD opt = new SGD(model.parameters(), run.lr);
        DataLoader loader = new DataLoader(train, run.batchSize, true, common.seed, true);
        // the estimates' own batches: another shuffle, so they are not the batches just trained on
        DataLoader estimates = new DataLoader(train, run.batchSize, true, common.seed + 1, true);
        int batches = loader.batchesPerEpoch();
        List<Point> points = new ArrayList<>();
        Dataset testSet = test;
        points.add(measure(model, estimates, 0, 0, 0.0, testSet));
        for (int e = 1; e <= epochs; e++) {
            int epoch = e;
            Training.epoch(model, loader, opt, e, Report.f("epoch %d/%d", e, epochs), common, new Trainer.Listener() {
                @Override
                public void batchDone(int ep, int batch, int total, double meanLoss, double imagesPerSecond) {
                    for (int j = 1; j <= pointsPerEpoch; j++) {
                        if (batch == Math.max(1, Math.round((float) total * j / pointsPerEpoch))) {
                            int step = (epoch - 1) * total + batch;
                            points.add(measure(model, estimates, points.size(), step, (epoch - 1) + (double) batch / total, testSet));
                        }
                    }
                }
            });
            Point p = points.get(points.size() - 1);
            w.println(Report.f("  epoch %d: test acc %.4f with the running statistics, %.4f recomputed; variance gap per BN layer %s (noise floor %s)",
                    e, p.testAccRunning(), p.testAccPrecise(), gaps(p, LayerGap::varGap), gaps(p, LayerGap::varFloor)));
            w.flush();
        }
        writeGapChart(out.resolve("statistics.png"), points, bnIndex, model);
        writeAccuracyChart(out.resolve("accuracy.png"), points);
        writeCsv(out.resolve("statistics.csv"), points, bnIndex);
        writeReport(out.resolve("report.md"), points, bnIndex, model, train.size(), test.size(), batches);
        w.println("wrote " + out + " (statistics.png, accuracy.png, statistics.csv, report.md)");
        w.flush();
        return 0;
    }

    /** Measures every BN layer and the test accuracy; the model's running statistics are as before afterwards. */
    private Point measure(Sequential model, DataLoader estimates, int point, int step, double epoch, Dataset test) {
        List<Tensor> batchesA = batches(estimates, point, 0, preciseBatches), batchesB = batches(estimates, point, preciseBatches, preciseBatches);
        List<BatchNorm> bns = new ArrayList<>();
        for (Module m : model.layers()) if (m instanceof BatchNorm bn) bns.add(bn);
        var running = PreciseBn.snapshot(model);
        List<double[][]> run = stats(bns);
        double accRunning = Training.accuracy(model, test), accPrecise;
        List<double[][]> a, b;
        try {
            PreciseBn.recompute(model, batchesB, preciseBatches);
            b = stats(bns);
            PreciseBn.recompute(model, batchesA, preciseBatches);
            a = stats(bns);
            accPrecise = Training.accuracy(model, test);
        } finally {
            PreciseBn.restore(running);
        }
        List<LayerGap> gaps = new ArrayList<>();
        for (int l = 0; l < bns.size(); l++) {
            double eps = bns.get(l).eps();
            gaps.add(new LayerGap(l, meanGap(run.get(l), a.get(l), eps), varGap(run.get(l), a.get(l)), meanGap(b.get(l), a.get(l), eps), varGap(b.get(l), a.get(l))));
        }
        return new Point(step, epoch, gaps, accRunning, accPrecise);
    }

    /** Batches {@code skip} to {@code skip + k − 1} of the loader's order for {@code epoch}, inputs only. */
    private static List<Tensor> batches(DataLoader loader, int epoch, int skip, int k) {
        List<Tensor> xs = new ArrayList<>();
        Iterator<DataLoader.Batch> it = loader.epoch(epoch).iterator();
        for (int i = 0; i < skip + k && it.hasNext(); i++) {
            DataLoader.Batch b = it.next();
            if (i >= skip) xs.add(b.x());
        }
        return xs;
    }

    /** Per layer {mean per channel, variance per channel} as the layer keeps them now. */
    private static List<double[][]> stats(List<BatchNorm> bns) {
        List<double[][]> s = new ArrayList<>();
        for (BatchNorm bn : bns) {
            float[] m = bn.runningMean().data();
            double[] mean = new double[m.length];
            for (int c = 0; c < m.length; c++) mean[c] = m[c];
            s.add(new double[][] {mean, bn.populationVariance()});
        }
        return s;
    }

    /** Mean over channels of |m − m_ref| / sqrt(v_ref + eps): the mean's error in units of the population's standard deviation. */
    static double meanGap(double[][] s, double[][] ref, double eps) {
        double g = 0;
        for (int c = 0; c < s[0].length; c++) g += Math.abs(s[0][c] - ref[0][c]) / Math.sqrt(ref[1][c] + eps);
        return g / s[0].length;
    }

    /** Mean over channels of |v − v_ref| / v_ref: the variance's relative error. */
    static double varGap(double[][] s, double[][] ref) {
        double g = 0;
        for (int c = 0; c < s[1].length; c++) g += Math.abs(s[1][c] - ref[1][c]) / ref[1][c];
        return g / s[1].length;
    }

    private static String gaps(Point p, java.util.function.ToDoubleFunction<LayerGap> f) {
        List<String> s = new ArrayList<>();
        for (LayerGap g : p.layers()) s.add(Report.f("%.3f", f.applyAsDouble(g)));
        return String.join(", ", s);
    }

    private String layerName(Sequential model, int index) {
        BatchNorm bn = (BatchNorm) model.get(index);
        boolean afterConv = index > 0 && model.get(index - 1) instanceof org.norm4j.nn.Conv2d;
        return Report.f("layer %d: BN over %d %s", index, bn.numFeatures(), afterConv ? "channels" : "features");
    }

    private void writeGapChart(Path png, List<Point> points, List<Integer> bnIndex, Sequential model) throws java.io.IOException {
        List<XYChart> panels = new ArrayList<>();
        double[] x = points.stream().mapToDouble(Point::epoch).toArray();
        for (int l = 0; l < bnIndex.size(); l++) {
            int layer = l;
            XYChart c = Charts.lines(600, 420, layerName(model, bnIndex.get(l)), "epoch", "gap to the population statistics", true);
            c.getStyler().setLegendFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
            Charts.colored(c.addSeries("var, running", x, positive(points, p -> p.layers().get(layer).varGap())), Charts.WITHOUT).setMarker(SeriesMarkers.CIRCLE);
            Charts.colored(c.addSeries("mean, running", x, positive(points, p -> p.layers().get(layer).meanGap())), Charts.WITH).setMarker(SeriesMarkers.SQUARE);
            XYSeries vf = Charts.colored(c.addSeries("var, noise floor", x, positive(points, p -> p.layers().get(layer).varFloor())), Charts.WITHOUT);
            vf.setLineStyle(SeriesLines.DASH_DASH);
            vf.setMarker(SeriesMarkers.NONE);
            XYSeries mf = Charts.colored(c.addSeries("mean, noise floor", x, positive(points, p -> p.layers().get(layer).meanFloor())), Charts.WITH);
            mf.setLineStyle(SeriesLines.DASH_DASH);
            mf.setMarker(SeriesMarkers.NONE);
            panels.add(c);
        }
        int cols = 2, rows = (panels.size() + 1) / 2;
        while (panels.size() < rows * cols) panels.add(Charts.lines(600, 420, "", "", "", false));
        Charts.writeGrid(png, panels, rows, cols);
    }

    private static double[] positive(List<Point> points, java.util.function.ToDoubleFunction<Point> f) {
        return points.stream().mapToDouble(p -> Math.max(f.applyAsDouble(p), 1e-6)).toArray();
    }

    private void writeAccuracyChart(Path png, List<Point> points) throws java.io.IOException {
        XYChart c = Charts.lines(900, 500, "Test accuracy with the running vs the recomputed BN statistics", "epoch", "test accuracy", false);
        double[] x = points.stream().mapToDouble(Point::epoch).toArray();
        Charts.colored(c.addSeries("running statistics (PyTorch's eval())", x, points.stream().mapToDouble(Point::testAccRunning).toArray()), Charts.WITHOUT)
                .setMarker(SeriesMarkers.CIRCLE);
        Charts.colored(c.addSeries("population statistics recomputed (precise BN)", x, points.stream().mapToDouble(Point::testAccPrecise).toArray()), Charts.WITH)
                .setMarker(SeriesMarkers.SQUARE);
        Charts.write(png, c);
    }

    private void writeCsv(Path file, List<Point> points, List<Integer> bnIndex) throws java.io.IOException {
        List<List<String>> rows = new ArrayList<>();
        for (Point p : points) {
            for (LayerGap g : p.layers()) {
                rows.add(List.of(String.valueOf(p.step()), Report.f("%.4f", p.epoch()), String.valueOf(bnIndex.get(g.layer())), Report.f("%.8g", g.meanGap()),
                        Report.f("%.8g", g.varGap()), Report.f("%.8g", g.meanFloor()), Report.f("%.8g", g.varFloor()),
                        Report.f("%.6f", p.testAccRunning()), Report.f("%.6f", p.testAccPrecise())));
            }
        }
        Report.writeCsv(file, "step,epoch,layer,mean_gap,var_gap,mean_gap_floor,var_gap_floor,test_acc_running,test_acc_precise", rows);
    }

    private void writeReport(Path file, List<Point> points, List<Integer> bnIndex, Sequential model, int trainSize, int testSize, int batches)
            throws java.io.IOException {
        Report r = new Report("Running BN statistics against the population statistics during training");
        r.para("The d2l LeNet-BN (seed %d, PyTorch's BN: momentum 0.1, unbiased running variance) trained for %d epoch(s) over %d Fashion-MNIST "
                + "training images (batch %d, %d steps per epoch, SGD lr %s). Before training and %d times per epoch, each BN layer's running "
                + "mean and variance are compared with its population statistics for the weights at that moment: recomputed over %d "
                + "training batches with the weights frozen (precise BN), then put back, so training is not affected.",
                common.seed, epochs, trainSize, run.batchSize, batches, run.lr, pointsPerEpoch, preciseBatches);
        r.para("Gap of the mean: |running mean − population mean| / population std, averaged over channels; gap of the variance: "
                + "|running var − population var| / population var. The *noise floor* (dashed) is the same gap between two independent "
                + "population estimates (two disjoint sets of %d batches): gaps above it are the running averages trailing, not sampling noise.",
                preciseBatches);
        r.image("gap between running and population statistics per BN layer", "statistics.png");
        List<String> header = new ArrayList<>(List.of("epoch", "step"));
        for (int i : bnIndex) header.add(Report.f("layer %d: mean / var gap (floor)", i));
        header.add("test acc running / recomputed");
        List<List<String>> rows = new ArrayList<>();
        for (Point p : points) {
            List<String> row = new ArrayList<>(List.of(Report.f("%.2f", p.epoch()), String.valueOf(p.step())));
            for (LayerGap g : p.layers()) row.add(Report.f("%.3f / %.3f (%.3f / %.3f)", g.meanGap(), g.varGap(), g.meanFloor(), g.varFloor()));
            row.add(Report.f("%.4f / %.4f", p.testAccRunning(), p.testAccPrecise()));
            rows.add(row);
        }
        r.table(header, rows);
        List<Point> trained = points.subList(1, points.size());
        StringBuilder s = new StringBuilder();
        for (int l = 0; l < bnIndex.size(); l++) {
            int layer = l;
            double var = trained.stream().mapToDouble(p -> p.layers().get(layer).varGap()).average().orElse(Double.NaN);
            double floor = trained.stream().mapToDouble(p -> p.layers().get(layer).varFloor()).average().orElse(Double.NaN);
            double mean = trained.stream().mapToDouble(p -> p.layers().get(layer).meanGap()).average().orElse(Double.NaN);
            double mfloor = trained.stream().mapToDouble(p -> p.layers().get(layer).meanFloor()).average().orElse(Double.NaN);
            s.append(Report.f("layer %d: variance %.3f (floor %.3f), mean %.3f (floor %.3f); ", bnIndex.get(l), var, floor, mean, mfloor));
        }
        r.para("Averaged over the points after training began — %s.", s.substring(0, s.length() - 2));
        r.image("test accuracy with the running and with the recomputed statistics", "accuracy.png");
        // from the end of the first epoch on, past the first steep climb
        List<Point> later = trained.stream().filter(p -> p.epoch() >= 1).toList();
        double worstRunning = later.stream().mapToDouble(Point::testAccRunning).min().orElse(Double.NaN);
        double worstPrecise = later.stream().mapToDouble(Point::testAccPrecise).min().orElse(Double.NaN);
        Point last = points.get(points.size() - 1);
        double meanDiff = trained.stream().mapToDouble(p -> p.testAccPrecise() - p.testAccRunning()).average().orElse(Double.NaN);
        r.para("Test accuracy on %d images at the last point: %.4f with the running statistics, %.4f recomputed. Over the points after "
                + "training began the recomputed statistics score %+.4f on average; from the end of epoch 1 on, the lowest accuracy is "
                + "%.4f with the running statistics and %.4f with the recomputed ones.",
                testSize, last.testAccRunning(), last.testAccPrecise(), meanDiff, worstRunning, worstPrecise);
        r.para("The numbers are in statistics.csv. Rerun: `norm4j explore statistics --epochs %d --images %d --batch-size %d --lr %s --points-per-epoch %d "
                + "--precise-batches %d --test-images %d --seed %d`.", epochs, trainSize, run.batchSize, run.lr, pointsPerEpoch, preciseBatches, testSize, common.seed);
        r.write(file);
    }
}
