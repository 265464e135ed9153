package io.warren.it.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * "Send a batch and exit": a client publishes as fast as it can and closes at once. The close must
 * complete (close-ok arrives, the socket is not reset) and, where the client sends its close after
 * the publishes, every message must be in the queue. Node's amqplib, which writes its close ahead
 * of the publishes still buffered, runs the same in clients/node (NodeAmqplibTest).
 */
class BurstThenCloseTest extends BrokerTest {
    private static final Path PIKA_SCRIPT = Path.of(System.getProperty("basedir", "."), "clients", "python",
            "burst_then_close.py").toAbsolutePath();

    @Test
    void theJavaClientsCloseCompletesAfterABurst() throws Exception {
        Connection c = factory().newConnection();
        Channel ch = c.createChannel();
        ch.queueDeclare("burst-java", false, false, false, null);
        byte[] body = "m".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 20_000; i++) {
            ch.basicPublish("", "burst-java", null, body);
        }
        long started = System.nanoTime();
        c.close(10_000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("close took (ms)").isLessThan(10_000);
        assertThat(c.getCloseReason().isInitiatedByApplication()).isTrue();
        try (Connection check = connect()) {
            Channel cc = check.createChannel();
            assertThat(cc.queueDeclarePassive("burst-java").getMessageCount()).isEqualTo(20_000);
            cc.queueDelete("burst-java");
        }
    }

    @Test
    void pikasCloseCompletesAfterABurst() throws Exception {
        assumeTrue(pikaAvailable(), "python3 with pika is not installed (.ci/run installs Debian's python3-pika)");
        Path log = Files.createTempFile("warren-pika", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(python(), PIKA_SCRIPT.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("AMQP_URL", "amqp://guest:guest@127.0.0.1:" + port() + "/%2F");
            Process p = pb.start();
            boolean finished = p.waitFor(60, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(finished).as("pika finished within 60 s:%n%s", output).isTrue();
            assertThat(p.exitValue()).as("pika's exit status:%n%s", output).isZero();
            assertThat(output).contains("2 passed, 0 failed");
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Debian's python3-pika installs for the system Python, which may not be the first on the PATH. */
    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    private static boolean pikaAvailable() {
        try {
            Process p = new ProcessBuilder(List.of(python(), "-c", "import pika"))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
