package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import io.warren.it.RawAmqpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base for tests that feed the broker bad input over a raw socket. Before each test a bystander
 * (a connection of the official client) holds messages in one queue and consumes from another;
 * {@link #assertBystanderUnaffected} checks it still works and its messages are untouched. After each
 * test, Netty's leak detector (paranoid in the surefire JVM) must not have reported anything.
 *
 * <p>Run with {@code -Dbadinput.port=5672} to point the raw clients and the bystander at another
 * broker (a real RabbitMQ) to compare behaviour; Warren-only checks are then skipped.
 */
abstract class BadInputTest extends BrokerTest {
    static final int HELD = 5;

    protected Connection bystander;
    private Channel bystanderChannel;
    private String heldQueue;
    private String liveQueue;
    private final BlockingQueue<String> liveReceived = new LinkedBlockingQueue<>();

    @BeforeAll
    static void watchLeaks() {
        LeakWatch.install();
    }

    @AfterAll
    static void stopWatching() {
        LeakWatch.uninstall();
    }

    /** The port the raw clients and the bystander use: Warren's unless badinput.port is set. */
    protected static int targetPort() {
        return Integer.getInteger("badinput.port", port());
    }

    protected static boolean targetIsWarren() {
        return Integer.getInteger("badinput.port") == null;
    }

    protected static ConnectionFactory targetFactory() {
        ConnectionFactory f = factory();
        f.setPort(targetPort());
        return f;
    }

    @BeforeEach
    void startBystander() throws Exception {
        bystander = track(targetFactory().newConnection("bystander"));
        bystanderChannel = bystander.createChannel();
        heldQueue = bystanderChannel.queueDeclare().getQueue();
        liveQueue = bystanderChannel.queueDeclare().getQueue();
        for (int i = 0; i < HELD; i++) {
            bystanderChannel.basicPublish("", heldQueue, null, ("held-" + i).getBytes(StandardCharsets.UTF_8));
        }
        bystanderChannel.confirmSelect();
        bystanderChannel.waitForConfirmsOrDie(5000);
        bystanderChannel.basicConsume(liveQueue, true, new DefaultConsumer(bystanderChannel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                liveReceived.add(new String(body, StandardCharsets.UTF_8));
            }
        });
        bystanderChannel.basicPublish("", liveQueue, null, "before".getBytes(StandardCharsets.UTF_8));
        assertThat(liveReceived.poll(5, TimeUnit.SECONDS)).isEqualTo("before");
    }

    /** The queue the bystander consumes from: bad publishes aim here, and nothing of them may arrive. */
    protected String liveQueue() {
        return liveQueue;
    }

    /** The bystander's connection is open, its consumer still receives, its held messages are intact. */
    protected void assertBystanderUnaffected() throws Exception {
        assertThat(bystander.isOpen()).as("bystander connection open").isTrue();
        assertThat(bystanderChannel.isOpen()).as("bystander channel open").isTrue();
        bystanderChannel.basicPublish("", liveQueue, null, "after".getBytes(StandardCharsets.UTF_8));
        assertThat(liveReceived.poll(5, TimeUnit.SECONDS)).isEqualTo("after");
        assertThat(bystanderChannel.queueDeclarePassive(heldQueue).getMessageCount()).isEqualTo(HELD);
        Channel check = bystander.createChannel();
        for (int i = 0; i < HELD; i++) {
            GetResponse r = check.basicGet(heldQueue, false);
            assertThat(r).as("held message %d", i).isNotNull();
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("held-" + i);
        }
        check.close(); // requeues them
        assertThat(bystanderChannel.queueDeclarePassive(heldQueue).getMessageCount()).isEqualTo(HELD);
    }

    /** Opens a raw connection, runs the bad input, and returns the connection.close the server sent. */
    protected RawAmqpClient.Close closeAfter(RawAction action) throws Exception {
        try (RawAmqpClient raw = openRaw()) {
            action.run(raw);
            RawAmqpClient.Close close = raw.awaitConnectionClose();
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).as("socket closed after close-ok").isTrue();
            return close;
        }
    }

    /** A raw TCP connection to the target broker with nothing sent yet. */
    protected static RawAmqpClient connectRaw() throws IOException {
        return RawAmqpClient.connect("127.0.0.1", targetPort());
    }

    /** A raw connection through connection.open-ok as guest on vhost "/", without heartbeats. */
    protected static RawAmqpClient openRaw() throws IOException {
        RawAmqpClient raw = connectRaw();
        raw.handshake(0);
        return raw;
    }

    /** Waits until the broker has let go of every connection but the bystander's. */
    protected void awaitOnlyBystanderConnected() {
        if (targetIsWarren()) {
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> broker.connections().size() == 1);
        }
    }

    @AfterEach
    void assertNoLeaks() {
        awaitOnlyBystanderConnected();
        LeakWatch.assertNoLeaks();
    }

    @FunctionalInterface
    interface RawAction {
        void run(RawAmqpClient raw) throws IOException;
    }
}
