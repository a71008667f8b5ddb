package org.norm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code norm4j} command: subcommands for each job; errors are one line unless --verbose. */
@Command(name = "norm4j", mixinStandardHelpOptions = true, version = "norm4j 0.1.0-SNAPSHOT",
        description = "Batch normalization and its family, first-class on the JVM.",
        subcommands = {DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("norm4j " + cmd.getCommandName() + ": " + ex.getMessage());
            return 1;
        });
        return cl;
    }
}
