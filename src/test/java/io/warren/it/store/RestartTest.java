package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Durable definitions and persistent messages survive a clean restart; transient ones do not. */
class RestartTest extends InProcessStoreTest {

    @BeforeEach
    void start() throws Exception {
        broker = new RestartableBroker("warren-restart");
    }

    private void restart() throws Exception {
        broker.restart();
    }

    @Test
    void durableDefinitionsComeBackTransientOnesDoNot() throws Exception {
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.exchangeDeclare("d-ex", BuiltinExchangeType.TOPIC, true);
            ch.exchangeDeclare("t-ex", BuiltinExchangeType.FANOUT, false);
            ch.queueDeclare("d-q", true, false, false, null);
            ch.queueDeclare("t-q", false, false, false, null);
            ch.queueBind("d-q", "d-ex", "a.#");
        }
        restart();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.exchangeDeclarePassive("d-ex");
            ch.queueDeclarePassive("d-q");
            ch.confirmSelect();
            ch.basicPublish("d-ex", "a.b", MessageProperties.PERSISTENT_TEXT_PLAIN, "routed".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(5000);
            assertThat(ch.queueDeclarePassive("d-q").getMessageCount()).isEqualTo(1);
            assertThat(exists(c, "t-q")).isFalse();
        }
    }

    private static boolean exists(Connection c, String queue) throws Exception {
        Channel ch = c.createChannel();
        try {
            ch.queueDeclarePassive(queue);
            ch.close();
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void confirmedPersistentMessagesSurviveInOrderTransientOnesDoNot() throws Exception {
        List<String> sent = new ArrayList<>();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("orders", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 1000; i++) {
                String body = "m" + i;
                ch.basicPublish("", "orders", MessageProperties.PERSISTENT_BASIC, body.getBytes(StandardCharsets.UTF_8));
                sent.add(body);
                ch.basicPublish("", "orders", MessageProperties.BASIC, "transient".getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);
            // Ack the first 100 (and drop the transient ones between them).
            for (int i = 0; i < 200; i++) {
                GetResponse r = ch.basicGet("orders", false);
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            }
            // Take 10 more without acking: they come back redelivered.
            for (int i = 0; i < 10; i++) {
                ch.basicGet("orders", false);
            }
        }
        restart();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            List<String> got = new ArrayList<>();
            GetResponse r;
            while ((r = ch.basicGet("orders", true)) != null) {
                got.add(new String(r.getBody(), StandardCharsets.UTF_8));
                assertThat(r.getEnvelope().isRedeliver()).isTrue();
            }
            assertThat(got).containsExactlyElementsOf(sent.subList(100, 1000));
        }
    }

    @Test
    void messagesTakenWithAutoAckDoNotComeBack() throws Exception {
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("auto-acked", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 20; i++) {
                ch.basicPublish("", "auto-acked", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);
            for (int i = 0; i < 10; i++) {
                ch.basicGet("auto-acked", true);
            }
            java.util.concurrent.CountDownLatch consumed = new java.util.concurrent.CountDownLatch(5);
            ch.basicQos(0);
            Channel consumer = c.createChannel();
            consumer.basicQos(5, true);
            consumer.basicConsume("auto-acked", true, (tag, d) -> {
                consumed.countDown();
                if (consumed.getCount() == 0) {
                    consumer.basicCancel(tag);
                }
            }, tag -> { });
            assertThat(consumed.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        restart();
        try (Connection c = connect()) {
            long left = c.createChannel().messageCount("auto-acked");
            assertThat(left).isBetween(0L, 5L); // the consumer may have taken more before its cancel
        }
    }

    @Test
    void largeBodiesAndAllPropertiesSurvive() throws Exception {
        byte[] big = new byte[1 << 20];
        new java.util.Random(1).nextBytes(big);
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().deliveryMode(2).contentType("application/x")
                .headers(java.util.Map.of("k", "v", "n", 42)).correlationId("c1").messageId("id1").priority(3).build();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("big", true, false, false, null);
            ch.txSelect();
            ch.basicPublish("", "big", props, big);
            ch.txCommit();
        }
        restart();
        try (Connection c = connect()) {
            GetResponse r = c.createChannel().basicGet("big", true);
            assertThat(r.getBody()).isEqualTo(big);
            assertThat(r.getProps().getContentType()).isEqualTo("application/x");
            assertThat(r.getProps().getCorrelationId()).isEqualTo("c1");
            assertThat(r.getProps().getHeaders().get("n")).isEqualTo(42);
            assertThat(r.getProps().getPriority()).isEqualTo(3);
        }
    }

    @Test
    void deletedQueueStaysDeletedAndItsFilesGo() throws Exception {
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("gone", true, false, false, null);
            ch.basicPublish("", "gone", MessageProperties.PERSISTENT_BASIC, new byte[100]);
            ch.queueDelete("gone");
        }
        restart();
        try (Connection c = connect()) {
            assertThat(exists(c, "gone")).isFalse();
        }
        try (var files = Files.list(broker.dataDir().resolve("queues"))) {
            assertThat(files.count()).isZero();
        }
    }
}
