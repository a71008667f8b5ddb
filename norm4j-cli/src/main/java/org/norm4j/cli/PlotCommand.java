package org.norm4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code norm4j plot}: several runs' metrics.csv in one chart (e.g. norm4j beside PyTorch). */
@Command(name = "plot", mixinStandardHelpOptions = true, description = "Overlay the curves of several metrics.csv files in one PNG.")
final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", description = "LABEL=metrics.csv (or just metrics.csv: labelled by its directory).")
    List<String> runs;

    @Option(names = "--out", required = true, description = "The PNG to write.")
    Path out;

    @Option(names = "--columns", split = ",", defaultValue = "train_loss,test_acc",
            description = "Columns to draw: train_loss, train_acc, test_acc, test_acc_running (default: ${DEFAULT-VALUE}).")
    List<String> columns;

    @Option(names = "--title", defaultValue = "", description = "Chart title.")
    String title;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<String> known = List.of("epoch", "train_loss", "train_acc", "test_acc", "seconds", "test_acc_running");
        List<Plots.Series> series = new ArrayList<>();
        for (String c : columns) {
            if (!known.contains(c) || c.equals("epoch") || c.equals("seconds")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--columns: unknown column '" + c + "'");
            }
        }
        for (String r : runs) {
            int eq = r.indexOf('=');
            Path file = Path.of(eq < 0 ? r : r.substring(eq + 1));
            if (!Files.isRegularFile(file)) throw new CommandLine.ParameterException(spec.commandLine(), "no file " + file);
            Path parent = file.toAbsolutePath().getParent();
            String label = eq < 0 ? String.valueOf(parent == null ? file : parent.getFileName()) : r.substring(0, eq);
            List<double[]> rows = RunFiles.readMetrics(file);
            List<double[]> drawn = new ArrayList<>();
            for (String c : columns) {
                double[] values = rows.stream().mapToDouble(row -> row[known.indexOf(c)]).toArray();
                if (drawn.stream().anyMatch(d -> java.util.Arrays.equals(d, values))) continue;   // e.g. PyTorch's test acc = running
                drawn.add(values);
                series.add(new Plots.Series(label + " " + c.replace('_', ' '), rows, known.indexOf(c)));
            }
        }
        Plots.compare(out, series, title);
        spec.commandLine().getOut().println("wrote " + out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
