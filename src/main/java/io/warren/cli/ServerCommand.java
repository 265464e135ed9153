package io.warren.cli;

import io.warren.Warren;
import io.warren.config.BrokerConfig;
import io.warren.config.ConfigException;
import io.warren.config.ConfigFile;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code warren server}: builds the {@link BrokerConfig} (defaults, then the config file, then
 * flags), starts the broker and runs until SIGTERM or Ctrl-C, which close every client connection
 * with 320 CONNECTION_FORCED and exit 0. A broker that cannot start says why in one line and exits 1.
 */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        versionProvider = WarrenVersion.class,
        sortOptions = false,
        description = "Runs the broker until stopped (SIGTERM or Ctrl-C).")
final class ServerCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServerCommand.class);
    private static final int EXIT_FAILURE = 1;

    // Start (main thread) and stop (shutdown hook) take turns on this.
    private final Object lifecycle = new Object();
    private boolean stopping;

    @Spec
    private CommandSpec spec;

    // Flags are null when not given, so that they override the config file only when present.
    @Option(names = "--amqp-port", paramLabel = "PORT",
            description = "AMQP port to listen on (default: 5672; 0 picks a free port).")
    private Integer amqpPort;

    @Option(names = "--bind", paramLabel = "ADDRESS",
            description = "Address to listen on (default: 0.0.0.0, every IPv4 interface).")
    private String bindAddress;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory (default: ./warren-data).")
    private Path dataDir;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Config file in RabbitMQ's rabbitmq.conf format; flags override it.")
    private Path configFile;

    @Override
    public Integer call() throws InterruptedException {
        // First of all, so that a SIGTERM from here on exits 0 through the shutdown hook below.
        StopSignals.exitZeroOnTermAndInt();
        BrokerConfig config;
        try {
            config = config();
        } catch (ConfigException e) {
            log.error("Bad config: {}", e.getMessage());
            return EXIT_FAILURE;
        }
        Warren warren = new Warren(config);
        // Registered before start, so that a SIGTERM during start-up (recovery of a large data
        // directory takes a while) still closes the store: the hook waits for start to end.
        Thread hook = new Thread(() -> stop(warren), "warren-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        synchronized (lifecycle) {
            if (stopping) {
                return 0; // A signal came before start: the JVM is exiting anyway.
            }
            try {
                warren.start();
            } catch (Exception e) {
                log.error(startFailure(config, e));
                log.debug("Start failure in detail", e);
                warren.close();
                removeHook(hook);
                return EXIT_FAILURE;
            }
            log.info("Warren {} accepting AMQP 0-9-1 connections on {}:{} (data in {})",
                    WarrenVersion.get(), config.bindAddress(), warren.amqpPort(), config.dataDir());
        }
        // The broker runs on its own threads; main only has to not return, since main() exits with
        // our return value. The process ends through System.exit in a signal handler.
        new CountDownLatch(1).await();
        return 0;
    }

    /** Defaults, then the config file, then flags: each later source wins. */
    private BrokerConfig config() throws ConfigException {
        BrokerConfig config = new BrokerConfig();
        if (configFile != null) {
            ConfigFile file = ConfigFile.read(configFile);
            file.applyTo(config);
            file.warnings().forEach(log::warn);
        }
        if (amqpPort != null) {
            if (amqpPort < 0 || amqpPort > 65535) {
                throw new ParameterException(spec.commandLine(), "--amqp-port must be from 0 to 65535, got " + amqpPort);
            }
            config.amqpPort(amqpPort);
        }
        if (bindAddress != null) {
            config.bindAddress(bindAddress);
        }
        if (dataDir != null) {
            config.dataDir(dataDir);
        }
        // Absolute, so that the log line is unambiguous and nothing later depends on the working directory.
        config.dataDir(config.dataDir().toAbsolutePath().normalize());
        return config;
    }

    /** The shutdown hook: waits for a start in progress, then closes the broker (at most once). */
    private void stop(Warren warren) {
        synchronized (lifecycle) {
            if (stopping) {
                return;
            }
            stopping = true;
            log.info("Stopping: closing client connections (320 CONNECTION_FORCED)");
            warren.close();
            log.info("Stopped");
        }
    }

    /** A failed start exits 1 with nothing left to stop, so without "Stopping" lines. */
    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // A signal came meanwhile; the hook runs and finds the broker closed.
        }
    }

    /** One line that says what went wrong and, where we can tell, what to do about it. */
    private static String startFailure(BrokerConfig config, Throwable failure) {
        String address = config.bindAddress() + ":" + config.amqpPort();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            // NIO throws BindException; Netty's epoll transport throws its own IOException with the errno text.
            if (message.contains("Address already in use")) {
                return "Cannot listen on " + address + ": the port is already in use"
                        + " (is another broker running? stop it, or choose another port with --amqp-port)";
            }
            if (t instanceof BindException || message.contains("Cannot assign requested address")) {
                return "Cannot listen on " + address + ": " + message
                        + " (check --bind: it must be an address of this machine)";
            }
            if (t instanceof UnresolvedAddressException) {
                return "Cannot listen on " + address + ": unknown host " + config.bindAddress()
                        + " (check --bind: it must be an address of this machine)";
            }
        }
        // The store's and the definitions file's messages are written for the operator and say what to do.
        if ((failure instanceof IllegalStateException || failure instanceof UncheckedIOException)
                && failure.getMessage() != null) {
            return "Warren failed to start: " + oneLine(failure.getMessage());
        }
        return "Warren failed to start: " + failure.getClass().getSimpleName() + ": " + oneLine(failure.getMessage())
                + " (WARREN_LOG_LEVEL=DEBUG shows where)";
    }

    private static String oneLine(String message) {
        return String.valueOf(message).replaceAll("\\s*\\R\\s*", " ");
    }
}
