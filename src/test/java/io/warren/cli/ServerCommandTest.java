package io.warren.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.RawAmqpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warren server} as an operator runs it: the real CLI in a JVM of its own (the test
 * classpath, main class {@link WarrenCommand}), on port 0 so that tests never collide, read back
 * from the "accepting" line. Checks start-up, a client, SIGTERM (exit 0, clients get 320) and the
 * one-line, exit-1 failures of a start that cannot work.
 */
class ServerCommandTest {
    private static final Pattern ACCEPTING =
            Pattern.compile("accepting AMQP 0-9-1 connections on 127\\.0\\.0\\.1:(\\d+) \\(data in (.+)\\)");

    @TempDir
    Path home;

    private final List<Server> servers = new ArrayList<>();

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Server s : servers) {
            s.process.destroyForcibly();
            s.process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void startsAcceptsClientsAndStopsOnSigtermWithExitZeroAndConnectionForced() throws Exception {
        Path dataDir = home.resolve("data");
        Server server = start("--data-dir", dataDir.toString());
        Matcher accepting = server.awaitLine(ACCEPTING);
        int port = Integer.parseInt(accepting.group(1));
        assertThat(port).as("the bound port, not the 0 asked for").isPositive();
        assertThat(Path.of(accepting.group(2))).isEqualTo(dataDir.toAbsolutePath());

        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(port);
        factory.setAutomaticRecoveryEnabled(false);
        Connection connection = factory.newConnection();
        CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
        connection.addShutdownListener(closed::complete);
        assertThat(connection.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");

        // Process.destroy() is SIGTERM on Linux.
        server.process.destroy();
        assertThat(server.process.waitFor(20, TimeUnit.SECONDS)).as("stopped within 20 s").isTrue();
        assertThat(server.process.exitValue()).as("exit status; output:%n%s", server.output()).isZero();
        ShutdownSignalException signal = closed.get(5, TimeUnit.SECONDS);
        assertThat(signal.isHardError()).isTrue();
        AMQP.Connection.Close close = (AMQP.Connection.Close) signal.getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.CONNECTION_FORCED);
        assertThat(close.getReplyText()).isEqualTo("CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
        assertThat(server.output()).contains("Stopped");
    }

    /**
     * SIGTERM with 100 clients: each gets 320 and the broker waits for their close-ok; one raw client
     * that never answers holds the stop up only for the bound (5 s), and the log says so.
     */
    @Test
    void sigtermWithManyClientsClosesEachWith320AndWaitsForCloseOkWithinABound() throws Exception {
        Server server = start("--data-dir", home.resolve("data").toString());
        int port = Integer.parseInt(server.awaitLine(ACCEPTING).group(1));
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(port);
        factory.setAutomaticRecoveryEnabled(false);
        List<CompletableFuture<ShutdownSignalException>> signals = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Connection c = factory.newConnection();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            c.addShutdownListener(closed::complete);
            c.createChannel();
            signals.add(closed);
        }
        try (RawAmqpClient silent = RawAmqpClient.connect("127.0.0.1", port)) {
            silent.handshake(0);
            long stopping = System.nanoTime();
            server.process.destroy();
            assertThat(server.process.waitFor(20, TimeUnit.SECONDS)).as("stopped within 20 s").isTrue();
            long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping);
            assertThat(server.process.exitValue()).as("exit status; output:%n%s", server.output()).isZero();
            assertThat(stopMillis).as("stop took (ms); output:%n%s", server.output()).isBetween(4_000L, 15_000L);
            for (CompletableFuture<ShutdownSignalException> closed : signals) {
                ShutdownSignalException signal = closed.get(5, TimeUnit.SECONDS);
                assertThat(signal.getReason()).as("closed by connection.close, not by a socket error: %s", signal)
                        .isInstanceOf(AMQP.Connection.Close.class);
                assertThat(((AMQP.Connection.Close) signal.getReason()).getReplyCode()).isEqualTo(AMQP.CONNECTION_FORCED);
            }
            assertThat(server.output()).contains("1 of 101 client connections did not answer connection.close within 5000 ms");
        }
    }

    @Test
    void secondServerOnTheSameDataDirOrPortExitsOneWithOneClearLine() throws Exception {
        Path dataDir = home.resolve("data");
        Server first = start("--data-dir", dataDir.toString());
        int port = Integer.parseInt(first.awaitLine(ACCEPTING).group(1));

        Server sameDir = start("--data-dir", dataDir.toString());
        assertFailsWith(sameDir, "Warren failed to start: data directory " + dataDir.toAbsolutePath()
                + " is in use by another Warren process (stop it, or choose another directory with --data-dir)");

        Server samePort = start("--data-dir", home.resolve("other").toString(), "--amqp-port", String.valueOf(port));
        assertFailsWith(samePort, "Cannot listen on 127.0.0.1:" + port + ": the port is already in use"
                + " (is another broker running? stop it, or choose another port with --amqp-port)");

        assertThat(first.process.isAlive()).as("the first broker runs on").isTrue();
    }

    @Test
    void unreadableDefinitionsFileExitsOneWithOneLineThatSaysWhatToDo() throws Exception {
        Path dataDir = home.resolve("data");
        Files.createDirectories(dataDir);
        String broken = "{\"queues\": [ {\"name\": }\n";
        Files.writeString(dataDir.resolve("definitions.json"), broken);
        Server server = start("--data-dir", dataDir.toString());
        String line = assertFailsWith(server, "Warren failed to start: cannot read "
                + dataDir.toAbsolutePath().resolve("definitions.json") + ": ");
        assertThat(line).contains("at line 1, column").contains("restore it from a backup");
        assertThat(Files.readString(dataDir.resolve("definitions.json"))).as("left as it was").isEqualTo(broken);
    }

    /** Waits for the server to exit 1 and returns its only ERROR line, which must contain {@code expected}. */
    private static String assertFailsWith(Server server, String expected) throws Exception {
        assertThat(server.process.waitFor(20, TimeUnit.SECONDS)).as("exited within 20 s").isTrue();
        String output = server.output();
        assertThat(server.process.exitValue()).as("exit status; output:%n%s", output).isEqualTo(1);
        List<String> errors = output.lines().filter(l -> l.contains(" ERROR ")).toList();
        assertThat(errors).as("output:%n%s", output).hasSize(1);
        assertThat(errors.get(0)).contains(expected);
        assertThat(output).as("no stack trace, no shutdown lines").doesNotContain("\tat ", "Stopping");
        return errors.get(0);
    }

    private Server start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                // The test logback config is WARN by default; the accepting line is INFO.
                "-Dwarren.log.level=INFO",
                "-cp", System.getProperty("java.class.path"),
                WarrenCommand.class.getName(), "server", "--bind", "127.0.0.1"));
        if (!List.of(args).contains("--amqp-port")) {
            command.addAll(List.of("--amqp-port", "0"));
        }
        command.addAll(List.of(args));
        // To a file, not a pipe: Process.destroy() closes the pipes, and the lines after SIGTERM matter.
        Path log = Files.createTempFile(home, "server", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Server server = new Server(process, log);
        servers.add(server);
        return server;
    }

    /** A child broker and the file its output goes to. */
    private record Server(Process process, Path log) {
        Matcher awaitLine(Pattern pattern) {
            Matcher[] found = new Matcher[1];
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                for (String line : output().lines().toList()) {
                    Matcher m = pattern.matcher(line);
                    if (m.find()) {
                        found[0] = m;
                        return true;
                    }
                }
                if (!process.isAlive()) {
                    throw new AssertionError("server exited with " + process.exitValue() + " before printing "
                            + pattern + ":\n" + output());
                }
                return false;
            });
            return found[0];
        }

        /** Everything the server printed so far. */
        String output() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output unreadable: " + e + ")";
            }
        }
    }
}
