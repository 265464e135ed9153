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
        // Netty may then build its direct buffers on memory of its own (the jar's manifest opens
        // java.nio to it) instead of ByteBuffer.allocateDirect, which zeroes it: each 4 MiB pool
        // chunk (one per event loop) then costs resident memory only as far as it is used. Without
        // the opening (e.g. not started with java -jar) Netty quietly keeps allocateDirect.
        // Set before any Netty class initialises; an explicit -D setting wins.
        if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
            System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        }
        System.exit(new CommandLine(new WarrenCommand()).execute(args));
    }
}
