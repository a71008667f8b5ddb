package org.norm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code norm4j} command. A failure is one line on stderr naming the command and what to do,
 * exit code 1 (2 for a bad option); {@code --verbose} adds the stack trace.
 */
@Command(name = "norm4j", mixinStandardHelpOptions = true, version = "norm4j " + Main.VERSION,
        description = "Batch normalization and its family, first-class on the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, InfoCommand.class, RecalibrateCommand.class, FoldCommand.class, ExportCommand.class, ImportCommand.class, OnnxTestCommand.class, PlotCommand.class, DemoCommand.class, org.norm4j.cli.explore.ExploreCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    static final String VERSION = "0.1.0-SNAPSHOT";

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String what = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
            if (ex instanceof java.nio.file.NoSuchFileException) what = "no such file: " + ex.getMessage();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + what);   // "norm4j explore activations: ..."
            if (main.verbose) {
                ex.printStackTrace(cmd.getErr());   // includes the cause, e.g. the full state-dict report
            }
            cmd.getErr().flush();
            return 1;
        });
        return cl;
    }
}
