package org.norm4j.cli.explore;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.tensor.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code norm4j explore activations}: a deep fully connected stack (10 sigmoid layers of 100 units
 * by default), one real Fashion-MNIST batch forward and its loss backward, with and without BN;
 * writes activations.png (per-layer histograms side by side), spread.png (per-layer batch spread),
 * gradients.png (per-layer weight-gradient norms), activations.csv and report.md.
 */
@Command(name = "activations", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Per-layer activations and gradients of a deep fully connected net, with and without BN, as pictures.")
final class ActivationsCommand implements Callable<Integer> {
    @Option(names = "--activation", defaultValue = "sigmoid", description = "sigmoid, tanh or relu (default: ${DEFAULT-VALUE}).")
    DeepNet.Act activation;

    @Option(names = "--depth", defaultValue = "10", description = "Hidden layers (default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--width", defaultValue = "100", description = "Units per hidden layer (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--init", defaultValue = "xavier", description = "Weights: xavier, kaiming, torch or normal:STD (default: ${DEFAULT-VALUE}).")
    String init;

    @Option(names = "--batch-size", defaultValue = "256", description = "Images in the batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--bins", defaultValue = "40", description = "Histogram bins (default: ${DEFAULT-VALUE}).")
    int bins;

    @Mixin
    ExploreOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (depth < 1 || depth > 100) throw new CommandLine.ParameterException(cl, "--depth must be 1 to 100, got " + depth);
        if (width < 1) throw new CommandLine.ParameterException(cl, "--width must be at least 1, got " + width);
        if (batchSize < 2) throw new CommandLine.ParameterException(cl, "--batch-size must be at least 2 (batch norm needs 2 values per unit), got " + batchSize);
        if (bins < 2 || bins > 1000) throw new CommandLine.ParameterException(cl, "--bins must be 2 to 1000, got " + bins);
        DeepNet.InitScheme scheme;
        try {
            scheme = DeepNet.InitScheme.parse(init);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        Dataset train = common.load(true);
        if (batchSize > train.size()) {
            throw new CommandLine.ParameterException(cl, "--batch-size " + batchSize + " is larger than the training set (" + train.size() + " images)");
        }
        Path out = common.outDir("activations");
        DataLoader.Batch batch = new DataLoader(train, batchSize, true, common.seed).epoch(0).iterator().next();
        int n = batch.size(), inputs = train.height() * train.width();
        Tensor x = batch.x().reshape(n, inputs);
        int classes = train.classes().size();
        DeepNet.Probe plain = DeepNet.probe(x, batch.y(), classes, depth, width, activation, scheme, false, common.seed);
        DeepNet.Probe bn = DeepNet.probe(x, batch.y(), classes, depth, width, activation, scheme, true, common.seed);

        String net = Report.f("%d %s layers of %d units, %s init", depth, activation, width, scheme);
        writeHistograms(out.resolve("activations.png"), plain, bn);
        writeLayerChart(out.resolve("spread.png"), "Batch spread per layer (" + shortNet(scheme) + ")",
                "batch spread (std over the batch)", plain.column(DeepNet.Layer::batchSpread), bn.column(DeepNet.Layer::batchSpread));
        writeLayerChart(out.resolve("gradients.png"), "Weight-gradient norm per layer, one backward pass (" + shortNet(scheme) + ")",
                "||dLoss/dW|| of the layer's Linear", plain.column(DeepNet.Layer::gradNorm), bn.column(DeepNet.Layer::gradNorm));
        writeCsv(out.resolve("activations.csv"), plain, bn);
        writeReport(out.resolve("report.md"), net, n, scheme, plain, bn);

        PrintWriter w = cl.getOut();
        DeepNet.Layer p1 = plain.layers().get(0), pL = plain.layers().get(depth - 1), b1 = bn.layers().get(0), bL = bn.layers().get(depth - 1);
        w.println(Report.f("norm4j explore activations: %s, one batch of %d Fashion-MNIST images", net, n));
        w.println(Report.f("  batch spread, layer 1 -> %d: without BN %s -> %s, with BN %s -> %s", depth, Report.g(p1.batchSpread()), Report.g(pL.batchSpread()),
                Report.g(b1.batchSpread()), Report.g(bL.batchSpread())));
        w.println(Report.f("  ||dLoss/dW||, layer 1 vs %d: without BN %s vs %s, with BN %s vs %s", depth, Report.g(p1.gradNorm()), Report.g(pL.gradNorm()),
                Report.g(b1.gradNorm()), Report.g(bL.gradNorm())));
        w.println("wrote " + out + " (activations.png, spread.png, gradients.png, activations.csv, report.md)");
        w.flush();
        return 0;
    }

    private String shortNet(DeepNet.InitScheme scheme) {
        return Report.f("%d %s layers, width %d, %s", depth, activation, width, scheme);
    }

    private void writeHistograms(Path png, DeepNet.Probe plain, DeepNet.Probe bn) throws java.io.IOException {
        double[] range = activation.range();
        List<XYChart> panels = new ArrayList<>();
        for (int l = 0; l < depth; l++) {
            for (DeepNet.Probe p : List.of(plain, bn)) {
                DeepNet.Layer layer = p.layers().get(l);
                String title = Report.f("layer %d, %s: batch spread %s", l + 1, p == plain ? "without BN" : "with BN", Report.g(layer.batchSpread()));
                panels.add(Charts.histogram(400, 170, title, activation + " output", range[0], range[1],
                        DeepNet.histogram(layer.values(), range[0], range[1], bins), p == plain ? Charts.WITHOUT : Charts.WITH));
            }
        }
        Charts.writeGrid(png, panels, depth, 2);
    }

    private void writeLayerChart(Path png, String title, String yTitle, double[] plain, double[] bn) throws java.io.IOException {
        XYChart c = Charts.lines(800, 480, title, "hidden layer (1 = nearest the input)", yTitle, true);
        double[] layers = new double[depth];
        for (int l = 0; l < depth; l++) layers[l] = l + 1;
        Charts.colored(c.addSeries("without BN", layers, positive(plain)), Charts.WITHOUT);
        Charts.colored(c.addSeries("with BN", layers, positive(bn)), Charts.WITH);
        c.getStyler().setXAxisDecimalPattern("0");
        Charts.write(png, c);
    }

    /** A log axis cannot show 0: values below 1e-30 are drawn at 1e-30 (the CSV and report keep the exact values). */
    private static double[] positive(double[] v) {
        double[] p = v.clone();
        for (int i = 0; i < p.length; i++) p[i] = Math.max(p[i], 1e-30);
        return p;
    }

    private void writeCsv(Path file, DeepNet.Probe plain, DeepNet.Probe bn) throws java.io.IOException {
        List<List<String>> rows = new ArrayList<>();
        for (DeepNet.Probe p : List.of(plain, bn)) {
            for (DeepNet.Layer l : p.layers()) {
                rows.add(List.of(String.valueOf(l.index()), p == plain ? "none" : "batch", Report.f("%.8g", l.mean()), Report.f("%.8g", l.std()),
                        Report.f("%.8g", l.batchSpread()), Report.f("%.8g", l.saturated()), Report.f("%.8g", l.gradNorm())));
            }
        }
        Report.writeCsv(file, "layer,norm,mean,std,batch_spread,saturated,grad_norm", rows);
    }

    private void writeReport(Path file, String net, int n, DeepNet.InitScheme scheme, DeepNet.Probe plain, DeepNet.Probe bn) throws java.io.IOException {
        DeepNet.Layer p1 = plain.layers().get(0), pL = plain.layers().get(depth - 1), b1 = bn.layers().get(0), bL = bn.layers().get(depth - 1);
        Report r = new Report("Activations and gradients: " + net + ", with and without BN");
        r.para("One batch of %d Fashion-MNIST training images (pixels in [0, 1], flattened to 784 inputs; seed %d) through %d fully connected "
                + "layers of %d units, each Linear → %s, then Linear(%d, 10) and the cross-entropy loss; one forward and one backward pass, "
                + "no training. Weights: %s; biases 0. *With BN*, a BatchNorm1d (PyTorch's defaults, batch statistics) stands between each "
                + "Linear and its %s, and the weights are the same as without.", n, common.seed, depth, width, activation, width, scheme, activation);
        r.para("*Batch spread* is the standard deviation of a unit's output over the batch, averaged over the layer's units: how much "
                + "the layer's output still differs from image to image. It is the quantity BN normalizes (before the %s).", activation);
        r.image("per-layer activation histograms, without BN (left) and with BN (right)", "activations.png");
        r.para("Batch spread from layer 1 to layer %d: without BN %s → %s (×%s); with BN %s → %s (×%s). Share of outputs %s: "
                        + "without BN %s in layer 1 and %s in layer %d; with BN %s and %s.",
                depth, Report.g(p1.batchSpread()), Report.g(pL.batchSpread()), Report.g(pL.batchSpread() / p1.batchSpread()),
                Report.g(b1.batchSpread()), Report.g(bL.batchSpread()), Report.g(bL.batchSpread() / b1.batchSpread()),
                activation.saturatedName(), Report.g(p1.saturated()), Report.g(pL.saturated()), depth, Report.g(b1.saturated()), Report.g(bL.saturated()));
        r.image("batch spread per layer", "spread.png");
        r.image("weight-gradient norm per layer", "gradients.png");
        r.para("‖∂loss/∂W‖ of layer 1 against layer %d: without BN %s against %s (layer 1 gets ×%s of the last layer's gradient); "
                        + "with BN %s against %s (×%s). Loss of the batch: %s without BN, %s with.",
                depth, Report.g(p1.gradNorm()), Report.g(pL.gradNorm()), Report.g(p1.gradNorm() / pL.gradNorm()),
                Report.g(b1.gradNorm()), Report.g(bL.gradNorm()), Report.g(b1.gradNorm() / bL.gradNorm()), Report.g(plain.loss()), Report.g(bn.loss()));
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < depth; l++) {
            DeepNet.Layer a = plain.layers().get(l), b = bn.layers().get(l);
            rows.add(List.of(String.valueOf(l + 1), Report.g(a.mean()), Report.g(a.std()), Report.g(a.batchSpread()), Report.g(a.saturated()), Report.g(a.gradNorm()),
                    Report.g(b.mean()), Report.g(b.std()), Report.g(b.batchSpread()), Report.g(b.saturated()), Report.g(b.gradNorm())));
        }
        r.table(List.of("layer", "no BN: mean", "std", "batch spread", "saturated", "‖∂L/∂W‖", "BN: mean", "std", "batch spread", "saturated", "‖∂L/∂W‖"), rows);
        r.para("The numbers are in activations.csv. Rerun: `norm4j explore activations --activation %s --depth %d --width %d --init %s --batch-size %d --seed %d`.",
                activation, depth, width, scheme, n, common.seed);
        r.write(file);
    }
}
