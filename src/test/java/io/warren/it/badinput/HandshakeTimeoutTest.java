package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import io.warren.it.RawAmqpClient;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients that connect and then stall are closed once handshake_timeout passes; finished
 * handshakes are not affected. A Warren of its own with a 1 s timeout.
 */
class HandshakeTimeoutTest {
    private static Warren warren;
    private static Connection bystander;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Integer.getInteger("badinput.port") == null, "Warren only: needs a broker with a 1 s handshake timeout");
        LeakWatch.install();
        warren = new Warren(new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1")
                .dataDir(Files.createTempDirectory("warren-handshake")).handshakeTimeoutSeconds(1)).start();
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(warren.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        bystander = f.newConnection();
    }

    @AfterAll
    static void stop() throws Exception {
        if (bystander != null && bystander.isOpen()) {
            bystander.close();
        }
        if (warren != null) {
            warren.close();
        }
        LeakWatch.uninstall();
    }

    @AfterEach
    void noLeaks() {
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> warren.connections().size() == 1);
        LeakWatch.assertNoLeaks();
    }

    @Test
    void silentClientIsClosedAfterTheTimeout() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", warren.amqpPort())) {
            long start = System.nanoTime();
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).as("closed by the broker").isTrue();
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waited).isBetween(700L, 4000L);
        }
        assertBystanderWorks();
    }

    @Test
    void clientStuckAfterTheProtocolHeaderIsClosedAfterTheTimeout() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", warren.amqpPort())) {
            long start = System.nanoTime();
            raw.sendProtocolHeader();
            RawAmqpClient.Frame startFrame = raw.readFrame(Duration.ofSeconds(10));
            assertThat(startFrame).as("a frame within 10 s").isNotNull();
            assertThat(startFrame.isMethod(10, 10)).as("connection.start").isTrue();
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).as("closed by the broker").isTrue();
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waited).isBetween(700L, 4000L);
        }
        assertBystanderWorks();
    }

    private static void assertBystanderWorks() throws Exception {
        assertThat(bystander.isOpen()).isTrue();
        Channel ch = bystander.createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicPublish("", q, null, new byte[] {42});
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> ch.messageCount(q) == 1);
        assertThat(ch.basicGet(q, true).getBody()).containsExactly(42);
        ch.close();
    }
}
