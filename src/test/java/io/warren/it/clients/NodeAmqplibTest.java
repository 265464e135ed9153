package io.warren.it.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.warren.it.BrokerTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs clients/node/run-all.js (the RabbitMQ tutorials' logic with Node amqplib) against this
 * class's broker. Installs the pinned amqplib with {@code npm ci} when node_modules is missing;
 * skipped only when node or npm is not on the PATH.
 */
class NodeAmqplibTest extends BrokerTest {
    private static final Path DIR = Path.of(System.getProperty("basedir", "."), "clients", "node").toAbsolutePath();

    @Test
    void tutorialsPassWithNodeAmqplib() throws Exception {
        assumeTrue(onPath("node") && onPath("npm"), "node and npm are not on the PATH");

        if (!Files.isDirectory(DIR.resolve("node_modules").resolve("amqplib"))) {
            Result install = run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300, null);
            assertThat(install.exitCode()).as("npm ci in %s:%n%s", DIR, install.output()).isZero();
        }

        Result result = run(List.of("node", "run-all.js"), 120, "amqp://guest:guest@127.0.0.1:" + port());
        assertThat(result.exitCode()).as("node run-all.js:%n%s", result.output()).isZero();
        assertThat(result.output()).contains(" 0 failed");
    }

    private record Result(int exitCode, String output) { }

    private static Result run(List<String> command, long timeoutSeconds, String amqpUrl) throws Exception {
        Path log = Files.createTempFile("warren-node", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            if (amqpUrl != null) {
                pb.environment().put("AMQP_URL", amqpUrl);
            }
            Process process = pb.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return new Result(-1, "timed out after " + timeoutSeconds + " s\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
