package io.warren.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code warren} command: entry point of the jar; each thing it does is a subcommand. */
@Command(
        name = "warren",
        mixinStandardHelpOptions = true,
        versionProvider = WarrenVersion.class,
        description = "A message broker that speaks AMQP 0-9-1 and behaves like RabbitMQ.",
        subcommands = {ServerCommand.class, CommandLine.HelpCommand.class})
public final class WarrenCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: try 'warren server'");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new WarrenCommand()).execute(args));
    }
}
