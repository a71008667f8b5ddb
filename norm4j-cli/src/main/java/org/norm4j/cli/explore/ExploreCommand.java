package org.norm4j.cli.explore;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code norm4j explore}: the classic experiments that show what batch normalization does, on the
 * real Fashion-MNIST, as PNGs and a short report.md in --out DIR (docs/explore.md).
 */
@Command(name = "explore", mixinStandardHelpOptions = true,
        description = "See what BN does: activations, placement, batch size and running statistics, as pictures.",
        subcommands = {ActivationsCommand.class, BatchSizeCommand.class, PlacementCommand.class, StatisticsCommand.class, CommandLine.HelpCommand.class})
public final class ExploreCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
