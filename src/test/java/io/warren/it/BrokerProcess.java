package io.warren.it;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Warren broker in a JVM of its own, so that a test can kill it for real (SIGKILL: no shutdown
 * hook, no final fsync, no close of anything) and start it again on the same data directory and
 * port. The broker's output goes to {@code broker.log} beside the data directory.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class BrokerProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path home;
    private final Path dataDir;
    private final Path logFile;
    private final int port;
    private final List<String> jvmOptions;
    /** A config file (rabbitmq.conf syntax) the broker starts with, or null. */
    private final Path config;
    private Process process;
    private final Thread reaper = new Thread(this::destroyQuietly, "broker-process-reaper");

    private BrokerProcess(List<String> jvmOptions, String config) throws IOException {
        this.home = Files.createTempDirectory("warren-process");
        this.config = config == null ? null : Files.writeString(home.resolve("warren.conf"), config);
        this.dataDir = home.resolve("data");
        this.logFile = home.resolve("broker.log");
        this.port = freePort();
        this.jvmOptions = jvmOptions;
        // A test JVM that dies must not leave a broker behind.
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** Starts a broker on a fresh data directory and a free port; returns once it accepts AMQP connections. */
    public static BrokerProcess start(String... jvmOptions) throws IOException {
        return startWithConfig(null, jvmOptions);
    }

    /** Starts a broker as {@link #start} does, reading {@code config} (rabbitmq.conf syntax) as its config file. */
    public static BrokerProcess startWithConfig(String config, String... jvmOptions) throws IOException {
        BrokerProcess broker = new BrokerProcess(List.of(jvmOptions), config);
        broker.launch();
        return broker;
    }

    /** The broker's process id (for reading its RSS from /proc). */
    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return logFile;
    }

    public ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port);
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(5000);
        return f;
    }

    public Connection connect() throws Exception {
        return factory().newConnection();
    }

    /**
     * kill -9. On Linux {@link Process#destroyForcibly()} is {@code kill(pid, SIGKILL)}; the exit status
     * 137 (128 + 9) proves that the process died of SIGKILL and not of a SIGTERM it could handle.
     */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("broker did not die within 30 s of SIGKILL");
        }
        int status = process.exitValue();
        if (status != 137) {
            throw new IllegalStateException("broker exited with " + status + ", not 137 (SIGKILL)");
        }
        process = null;
    }

    /** Starts the broker again on the same data directory and port (after {@link #kill9} or {@link #stop}). */
    public void restart() throws IOException {
        if (process != null) {
            throw new IllegalStateException("still running");
        }
        launch();
    }

    /** A clean stop (SIGTERM: the broker closes connections and its files, and exits 0). */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        process = null;
    }

    /** The broker's log so far (for failure messages and the recovery line). */
    public String log() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Total size in bytes of the files under the data directory's {@code queues} folder. */
    public long queuesSize() throws IOException {
        try (Stream<Path> files = Files.walk(dataDir.resolve("queues"))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private void launch() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        // INFO, so that "Recovered ... in N ms" reaches the log (the test logback config reads this property).
        command.add("-Dwarren.log.level=INFO");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.warren.cli.WarrenCommand");
        command.addAll(List.of("server", "--amqp-port", String.valueOf(port), "--bind", "127.0.0.1",
                "--data-dir", dataDir.toString()));
        if (config != null) {
            command.add("--config=" + config);
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        Process started = process;
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!started.isAlive()) {
                throw new IllegalStateException("broker exited with " + started.exitValue() + ":\n" + log());
            }
            try (Connection c = factory().newConnection()) {
                return c.isOpen();
            } catch (IOException | java.util.concurrent.TimeoutException notYet) {
                return false;
            }
        });
    }

    private void destroyQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** Kills the broker if it still runs and removes its directory. */
    @Override
    public void close() throws Exception {
        destroyQuietly();
        if (process != null) {
            process.waitFor(30, TimeUnit.SECONDS);
            process = null;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // Already shutting down.
        }
        deleteRecursively(home);
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
