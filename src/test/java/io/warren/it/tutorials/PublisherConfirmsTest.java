package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tutorial 7, publisher confirms: the three strategies of PublisherConfirms (one message at
 * a time, in batches, asynchronously with a ConfirmListener), and how confirms meet mandatory returns.
 */
class PublisherConfirmsTest extends BrokerTest {
    private static final int MESSAGE_COUNT = 2_000;

    private static String queueName() {
        return "confirms-" + UUID.randomUUID();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void publishingMessagesIndividually() throws Exception {
        Channel ch = connect().createChannel();
        String queue = queueName();
        ch.queueDeclare(queue, false, false, true, null);
        ch.confirmSelect();

        for (int i = 0; i < 200; i++) {
            ch.basicPublish("", queue, null, utf8(String.valueOf(i)));
            ch.waitForConfirmsOrDie(5_000);
        }

        assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isEqualTo(200);
    }

    @Test
    void publishingMessagesInBatch() throws Exception {
        Channel ch = connect().createChannel();
        String queue = queueName();
        ch.queueDeclare(queue, false, false, true, null);
        ch.confirmSelect();

        int batchSize = 100;
        int outstandingMessageCount = 0;
        for (int i = 0; i < 1_050; i++) {
            ch.basicPublish("", queue, null, utf8(String.valueOf(i)));
            outstandingMessageCount++;
            if (outstandingMessageCount == batchSize) {
                ch.waitForConfirmsOrDie(5_000);
                outstandingMessageCount = 0;
            }
        }
        if (outstandingMessageCount > 0) {
            ch.waitForConfirmsOrDie(5_000);
        }

        assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isEqualTo(1_050);
    }

    @Test
    void handlingPublisherConfirmsAsynchronously() throws Exception {
        Channel ch = connect().createChannel();
        String queue = queueName();
        ch.queueDeclare(queue, false, false, true, null);
        ch.confirmSelect();

        ConcurrentNavigableMap<Long, String> outstandingConfirms = new ConcurrentSkipListMap<>();
        AtomicBoolean sawMultiple = new AtomicBoolean();
        AtomicInteger nacks = new AtomicInteger();
        List<Long> unknownAcks = new CopyOnWriteArrayList<>();
        ConfirmCallback cleanOutstandingConfirms = (sequenceNumber, multiple) -> {
            if (!outstandingConfirms.containsKey(sequenceNumber)) {
                unknownAcks.add(sequenceNumber);
            }
            if (multiple) {
                sawMultiple.set(true);
                outstandingConfirms.headMap(sequenceNumber, true).clear();
            } else {
                outstandingConfirms.remove(sequenceNumber);
            }
        };
        ch.addConfirmListener(cleanOutstandingConfirms, (sequenceNumber, multiple) -> nacks.incrementAndGet());

        for (int i = 0; i < MESSAGE_COUNT; i++) {
            String body = String.valueOf(i);
            outstandingConfirms.put(ch.getNextPublishSeqNo(), body);
            ch.basicPublish("", queue, null, utf8(body));
        }

        await().atMost(Duration.ofSeconds(10)).until(outstandingConfirms::isEmpty);
        assertThat(nacks).hasValue(0);
        assertThat(unknownAcks).as("acks for sequence numbers never published or already confirmed").isEmpty();
        // Publishing this fast, the broker confirms many messages with one multiple ack.
        assertThat(sawMultiple).isTrue();
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(MESSAGE_COUNT + 1L);
        assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isEqualTo(MESSAGE_COUNT);
    }

    @Test
    void unroutableMandatoryMessageIsReturnedBeforeItIsAcked() throws Exception {
        Channel ch = connect().createChannel();
        String exchange = "nowhere-" + UUID.randomUUID();
        ch.exchangeDeclare(exchange, BuiltinExchangeType.DIRECT, false, true, null);
        ch.confirmSelect();

        List<String> events = new CopyOnWriteArrayList<>();
        ch.addReturnListener(r -> events.add("return " + r.getReplyCode() + " " + r.getReplyText() + " "
                + r.getRoutingKey() + " " + new String(r.getBody(), StandardCharsets.UTF_8)));
        ch.addConfirmListener(
                (seq, multiple) -> events.add("ack " + seq + (multiple ? " multiple" : "")),
                (seq, multiple) -> events.add("nack " + seq));

        ch.basicPublish(exchange, "no-binding", true, null, utf8("unroutable"));
        ch.waitForConfirmsOrDie(5_000);

        assertThat(events).containsExactly("return 312 NO_ROUTE no-binding unroutable", "ack 1");
    }

    @Test
    void unroutableMessageWithoutMandatoryIsJustAcked() throws Exception {
        Channel ch = connect().createChannel();
        String exchange = "nowhere-" + UUID.randomUUID();
        ch.exchangeDeclare(exchange, BuiltinExchangeType.FANOUT, false, true, null);
        ch.confirmSelect();
        List<String> events = new CopyOnWriteArrayList<>();
        ch.addReturnListener(r -> events.add("return"));
        ch.addConfirmListener((seq, multiple) -> events.add("ack " + seq), (seq, multiple) -> events.add("nack"));

        ch.basicPublish(exchange, "", null, utf8("dropped"));
        ch.waitForConfirmsOrDie(5_000);

        assertThat(events).containsExactly("ack 1");
    }

    @Test
    void routableAndUnroutableMandatoryMessagesAreAllConfirmed() throws Exception {
        Channel ch = connect().createChannel();
        String queue = queueName();
        ch.queueDeclare(queue, false, false, true, null);
        ch.confirmSelect();
        List<String> returned = new CopyOnWriteArrayList<>();
        ch.addReturnListener(r -> returned.add(new String(r.getBody(), StandardCharsets.UTF_8)));

        for (int i = 0; i < 10; i++) {
            String target = i % 3 == 0 ? "no-such-queue-" + UUID.randomUUID() : queue;
            ch.basicPublish("", target, true, null, utf8("m" + i));
        }
        ch.waitForConfirmsOrDie(5_000);

        assertThat(returned).containsExactly("m0", "m3", "m6", "m9");
        assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isEqualTo(6);
    }

    @Test
    void nextPublishSeqNoCountsFromOneOnceConfirmsAreSelected() throws Exception {
        Channel ch = connect().createChannel();
        String queue = queueName();
        ch.queueDeclare(queue, false, false, true, null);
        assertThat(ch.getNextPublishSeqNo()).isZero();
        ch.basicPublish("", queue, null, utf8("before confirm mode"));
        assertThat(ch.getNextPublishSeqNo()).isZero();

        AMQP.Confirm.SelectOk ok = ch.confirmSelect();
        assertThat(ok).isNotNull();
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(1);
        for (long expected = 1; expected <= 5; expected++) {
            assertThat(ch.getNextPublishSeqNo()).isEqualTo(expected);
            ch.basicPublish("", queue, null, utf8("m" + expected));
        }
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(6);
        ch.waitForConfirmsOrDie(5_000);

        // Selecting again is allowed and does not restart the count.
        ch.confirmSelect();
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(6);
        ch.basicPublish("", queue, null, utf8("m6"));
        ch.waitForConfirmsOrDie(5_000);
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(7);
    }
}
