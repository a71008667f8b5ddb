package org.norm4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A short tour of what norm4j's batch norm does: normalization of badly scaled channels, how the
 * seven conventions' running statistics differ on the same batches, and exactness at a large mean.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Show batch normalization at work: scaling, every convention's running statistics, a large mean.")
final class DemoCommand implements Runnable {
    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).", defaultValue = "0")
    long seed;

    @Option(names = "--steps", description = "Training batches for the running statistics (default: ${DEFAULT-VALUE}).", defaultValue = "5")
    int steps;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (steps < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be at least 1, got " + steps);
        PrintWriter out = spec.commandLine().getOut();
        Rng rng = new Rng(seed);
        int n = 64, c = 3;
        double[] means = {-3, 50, 1e4}, stds = {0.5, 20, 0.01};

        out.println("1. A batch [64, 3] whose channels have means -3, 50, 1e4 and spreads 0.5, 20, 0.01,");
        out.println("   through BatchNorm.of(Convention.PYTORCH, 3) in training mode:");
        float[] x = batch(rng, n, means, stds);
        Tensor y = BatchNorm.of(Convention.PYTORCH, c).forward(Tensor.of(x, n, c));
        double[][] s = meanStd(y.toArray(), n, c);
        for (int ch = 0; ch < c; ch++) {
            out.printf(Locale.ROOT, "   channel %d: mean %+.2e  std %.6f%n", ch, s[0][ch], s[1][ch]);
        }

        out.println();
        out.println("2. The same " + steps + " training batches through every convention's defaults (channel 1: true mean 50, var 400):");
        out.printf(Locale.ROOT, "   %-11s %-9s %-44s %14s %14s%n", "convention", "eps", "running-average rule", "running mean", "stored spread");
        float[][] batches = new float[steps][];
        for (int k = 0; k < steps; k++) batches[k] = batch(rng, n, means, stds);
        for (Convention conv : Convention.values()) {
            BatchNorm bn = BatchNorm.builder(conv, c).axis(1).build();
            for (float[] b : batches) bn.forward(Tensor.of(b, n, c).requiresGrad(true)).backward(Tensor.zeros(n, c));
            Tensor spread = bn.runningVar() != null ? bn.runningVar() : bn.runningInvStd() != null ? bn.runningInvStd() : bn.runningLog10Std();
            String kind = bn.runningVar() != null ? "var" : bn.runningInvStd() != null ? "inv_std" : "log10 std";
            out.printf(Locale.ROOT, "   %-11s %-9s %-44s %14.4f %9.4f %s%n", conv, bn.eps(), bn.runningAverage(),
                    bn.runningMean().toArray()[1], spread.toArray()[1], kind);
        }

        out.println();
        out.println("3. Channel 2 (mean 1e4, std 0.01) normalized by norm4j vs by folding y = x*a + b in float:");
        double[] ref = exact(x, n, c, 2);
        float[] got = y.toArray();
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += x[i * c + 2] / (double) n;
        for (int i = 0; i < n; i++) var += Math.pow(x[i * c + 2] - mean, 2) / n;
        float a = (float) (1 / Math.sqrt(var + 1e-5)), b = (float) (-mean / Math.sqrt(var + 1e-5));
        double errNorm4j = 0, errFolded = 0;
        for (int i = 0; i < n; i++) {
            errNorm4j = Math.max(errNorm4j, Math.abs(got[i * c + 2] - ref[i]));
            errFolded = Math.max(errFolded, Math.abs((x[i * c + 2] * a + b) - ref[i]));
        }
        out.printf(Locale.ROOT, "   max |error| norm4j %.2e   folded x*a+b %.2e%n", errNorm4j, errFolded);
        out.flush();
    }

    private static float[] batch(Rng rng, int n, double[] means, double[] stds) {
        float[] x = new float[n * means.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < means.length; ch++) x[i * means.length + ch] = (float) rng.normal(means[ch], stds[ch]);
        }
        return x;
    }

    private static double[][] meanStd(float[] y, int n, int c) {
        double[] m = new double[c], sd = new double[c];
        for (int i = 0; i < n * c; i++) m[i % c] += y[i] / (double) n;
        for (int i = 0; i < n * c; i++) sd[i % c] += Math.pow(y[i] - m[i % c], 2) / n;
        for (int ch = 0; ch < c; ch++) sd[ch] = Math.sqrt(sd[ch]);
        return new double[][] {m, sd};
    }

    /** The exactly normalized channel ch, in double. */
    private static double[] exact(float[] x, int n, int c, int ch) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += x[i * c + ch] / (double) n;
        for (int i = 0; i < n; i++) var += Math.pow(x[i * c + ch] - mean, 2) / n;
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = (x[i * c + ch] - mean) / Math.sqrt(var + 1e-5);
        return r;
    }
}
