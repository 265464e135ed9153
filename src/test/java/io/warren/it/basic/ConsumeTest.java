package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** basic.consume and basic.cancel: consumer tags, exclusivity, no-ack, priorities, cancellation, order. */
@Timeout(60)
class ConsumeTest extends BrokerTest {
    /** A consumer that records what it receives and when it is told about cancellation. */
    private static final class Recorder extends DefaultConsumer {
        final BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        final BlockingQueue<Envelope> envelopes = new LinkedBlockingQueue<>();
        final BlockingQueue<String> consumeOk = new LinkedBlockingQueue<>();
        final BlockingQueue<String> cancelOk = new LinkedBlockingQueue<>();
        final BlockingQueue<String> cancelledByServer = new LinkedBlockingQueue<>();

        Recorder(Channel ch) {
            super(ch);
        }

        @Override
        public void handleConsumeOk(String tag) {
            super.handleConsumeOk(tag);
            consumeOk.add(tag);
        }

        @Override
        public void handleCancelOk(String tag) {
            cancelOk.add(tag);
        }

        @Override
        public void handleCancel(String tag) {
            cancelledByServer.add(tag);
        }

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            envelopes.add(envelope);
            bodies.add(new String(body, StandardCharsets.UTF_8));
        }

        String next() throws InterruptedException {
            String body = bodies.poll(5, TimeUnit.SECONDS);
            assertThat(body).as("a delivery").isNotNull();
            return body;
        }

        void assertQuiet() throws InterruptedException {
            assertThat(bodies.poll(300, TimeUnit.MILLISECONDS)).as("unexpected delivery").isNull();
        }
    }

    private static ShutdownSignalException shutdownCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ShutdownSignalException s) {
                return s;
            }
        }
        throw new AssertionError("no ShutdownSignalException in " + t, t);
    }

    private static AMQP.Channel.Close channelClose(Throwable t) {
        ShutdownSignalException s = shutdownCause(t);
        assertThat(s.isHardError()).as("channel error expected, got " + s.getReason()).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }

    /** A fresh queue that is neither exclusive nor auto-delete, so any connection may use it. */
    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("consume-" + UUID.randomUUID(), false, false, false, null).getQueue();
    }

    private static void publish(Channel ch, String queue, String body) throws Exception {
        ch.basicPublish("", queue, null, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void serverGeneratesConsumerTags() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder a = new Recorder(ch);
        Recorder b = new Recorder(ch);

        String tagA = ch.basicConsume(q, true, a);
        String tagB = ch.basicConsume(q, true, b);

        assertThat(tagA).startsWith("amq.ctag-").hasSizeGreaterThan("amq.ctag-".length());
        assertThat(tagB).startsWith("amq.ctag-").isNotEqualTo(tagA);
        assertThat(a.consumeOk.poll(5, TimeUnit.SECONDS)).isEqualTo(tagA);
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isEqualTo(2);
    }

    @Test
    void clientChosenTagIsUsedInDeliveries() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder r = new Recorder(ch);

        assertThat(ch.basicConsume(q, true, "my-consumer", r)).isEqualTo("my-consumer");
        publish(ch, q, "hello");

        assertThat(r.next()).isEqualTo("hello");
        Envelope e = r.envelopes.poll();
        assertThat(e.getExchange()).isEmpty();
        assertThat(e.getRoutingKey()).isEqualTo(q);
        assertThat(e.isRedeliver()).isFalse();
        assertThat(e.getDeliveryTag()).isEqualTo(1);
    }

    @Test
    void reusingATagOnTheChannelIsAConnectionError() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);
        ch.basicConsume(q, true, "dup", new Recorder(ch));

        assertThatThrownBy(() -> ch.basicConsume(q, true, "dup", new Recorder(ch)))
                .satisfies(t -> {
                    ShutdownSignalException s = shutdownCause(t);
                    assertThat(s.isHardError()).isTrue();
                    AMQP.Connection.Close close = (AMQP.Connection.Close) s.getReason();
                    assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_ALLOWED);
                    assertThat(close.getReplyText()).isEqualTo("NOT_ALLOWED - attempt to reuse consumer tag 'dup'");
                    assertThat(close.getClassId()).isEqualTo(60);
                    assertThat(close.getMethodId()).isEqualTo(20);
                });
        assertThat(conn.isOpen()).isFalse();
    }

    @Test
    void sameTagOnAnotherChannelIsFine() throws Exception {
        Connection conn = connect();
        Channel a = conn.createChannel();
        Channel b = conn.createChannel();
        String q = queue(a);
        a.basicConsume(q, true, "shared", new Recorder(a));
        assertThat(b.basicConsume(q, true, "shared", new Recorder(b))).isEqualTo("shared");
    }

    @Test
    void secondConsumerOnAnExclusivelyConsumedQueueIsRefused() throws Exception {
        Channel owner = connect().createChannel();
        String q = queue(owner);
        Recorder ownerRecorder = new Recorder(owner);
        owner.basicConsume(q, true, "", false, true, null, ownerRecorder);

        Channel other = connect().createChannel();
        assertThatThrownBy(() -> other.basicConsume(q, true, new Recorder(other)))
                .satisfies(t -> {
                    AMQP.Channel.Close close = channelClose(t);
                    assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
                    assertThat(close.getReplyText())
                            .isEqualTo("ACCESS_REFUSED - queue '" + q + "' in vhost '/' in exclusive use");
                    assertThat(close.getClassId()).isEqualTo(60);
                    assertThat(close.getMethodId()).isEqualTo(20);
                });

        // The exclusive consumer keeps working.
        publish(owner, q, "still mine");
        assertThat(ownerRecorder.next()).isEqualTo("still mine");
    }

    @Test
    void secondConsumerOnTheSameChannelIsAlsoRefused() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicConsume(q, true, "", false, true, null, new Recorder(ch));

        assertThatThrownBy(() -> ch.basicConsume(q, true, new Recorder(ch)))
                .satisfies(t -> assertThat(channelClose(t).getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED));
    }

    @Test
    void exclusiveConsumeOnAQueueWithConsumersIsRefused() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicConsume(q, true, new Recorder(ch));

        Channel other = connect().createChannel();
        assertThatThrownBy(() -> other.basicConsume(q, true, "", false, true, null, new Recorder(other)))
                .satisfies(t -> {
                    AMQP.Channel.Close close = channelClose(t);
                    assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
                    assertThat(close.getReplyText())
                            .isEqualTo("ACCESS_REFUSED - queue '" + q + "' in vhost '/' in exclusive use");
                });
    }

    @Test
    void exclusiveConsumerGoneFreesTheQueue() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        String tag = ch.basicConsume(q, true, "", false, true, null, new Recorder(ch));
        ch.basicCancel(tag);

        Channel other = connect().createChannel();
        Recorder r = new Recorder(other);
        other.basicConsume(q, true, r);
        publish(ch, q, "free");
        assertThat(r.next()).isEqualTo("free");
    }

    @Test
    void noAckDeliveriesAreNotRequeuedWhenTheChannelCloses() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder r = new Recorder(ch);
        ch.basicQos(1); // prefetch does not apply to no-ack consumers
        ch.basicConsume(q, true, r);
        for (int i = 0; i < 5; i++) {
            publish(ch, q, "m" + i);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(r.next()).isEqualTo("m" + i);
        }
        ch.close();

        Channel check = connect().createChannel();
        assertThat(check.queueDeclarePassive(q).getMessageCount()).isZero();
        assertThat(check.basicGet(q, true)).isNull();
    }

    @Test
    void higherPriorityConsumerGetsMessagesWhileItHasCredit() throws Exception {
        Connection conn = connect();
        Channel setup = conn.createChannel();
        String q = queue(setup);

        Channel lowCh = conn.createChannel();
        Recorder low = new Recorder(lowCh);
        lowCh.basicConsume(q, true, "low", false, false, Map.of("x-priority", 1), low);

        Channel highCh = conn.createChannel();
        highCh.basicQos(2);
        Recorder high = new Recorder(highCh);
        highCh.basicConsume(q, false, "high", false, false, Map.of("x-priority", 10), high);

        Channel lowest = conn.createChannel();
        Recorder none = new Recorder(lowest);
        lowest.basicConsume(q, true, "none", false, false, Map.of("x-priority", -5), none);

        for (int i = 0; i < 5; i++) {
            publish(setup, q, "m" + i);
        }
        assertThat(List.of(high.next(), high.next())).containsExactly("m0", "m1");
        assertThat(List.of(low.next(), low.next(), low.next())).containsExactly("m2", "m3", "m4");
        high.assertQuiet();
        none.assertQuiet();

        // Credit back: the high-priority consumer is served again.
        highCh.basicAck(0, true);
        publish(setup, q, "m5");
        publish(setup, q, "m6");
        assertThat(List.of(high.next(), high.next())).containsExactly("m5", "m6");
        low.assertQuiet();
    }

    /** As RabbitMQ's check_consume_arguments: x-priority must be an integer type, of any width. */
    @Test
    void aConsumerPriorityThatIsNotAnIntegerIsPreconditionFailed() throws Exception {
        Connection conn = connect();
        String q = queue(conn.createChannel());
        Map<Object, String> typeNames = Map.of("10", "longstr", 1.5, "double", true, "bool",
                new BigDecimal("2"), "decimal", Map.of(), "table");
        for (Map.Entry<Object, String> e : typeNames.entrySet()) {
            Channel ch = conn.createChannel();
            assertThatThrownBy(() -> ch.basicConsume(q, true, "c", false, false, Map.of("x-priority", e.getKey()),
                    new DefaultConsumer(ch))).satisfies(t -> {
                        AMQP.Channel.Close close = channelClose(t);
                        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
                        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - invalid arg 'x-priority' for queue '"
                                + q + "' in vhost '/': \"expected integer, got " + e.getValue() + "\"");
                        assertThat(close.getClassId()).isEqualTo(60);
                        assertThat(close.getMethodId()).isEqualTo(20);
                    });
        }
        // Every integer type is fine.
        Channel ch = conn.createChannel();
        for (Object priority : List.of((byte) 1, (short) 2, 3, 4L)) {
            ch.basicConsume(q, true, Map.of("x-priority", priority), new DefaultConsumer(ch));
        }
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isEqualTo(4);
    }

    @Test
    void equalPriorityConsumersShareRoundRobin() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder a = new Recorder(ch);
        Recorder b = new Recorder(ch);
        ch.basicConsume(q, true, a);
        ch.basicConsume(q, true, b);
        for (int i = 0; i < 10; i++) {
            publish(ch, q, "m" + i);
        }
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            got.add(a.next());
            got.add(b.next());
        }
        assertThat(got).containsExactlyInAnyOrder("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
    }

    @Test
    void cancelStopsDeliveries() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder r = new Recorder(ch);
        String tag = ch.basicConsume(q, true, r);
        publish(ch, q, "before");
        assertThat(r.next()).isEqualTo("before");

        ch.basicCancel(tag);
        assertThat(r.cancelOk.poll(5, TimeUnit.SECONDS)).isEqualTo(tag);
        publish(ch, q, "after");

        r.assertQuiet();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isZero();
        assertThat(r.cancelledByServer).isEmpty();
    }

    @Test
    void cancellingAConsumerLeavesItsUnackedMessagesUnacked() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder r = new Recorder(ch);
        String tag = ch.basicConsume(q, false, r);
        publish(ch, q, "m");
        assertThat(r.next()).isEqualTo("m");
        ch.basicCancel(tag);
        assertThat(r.cancelOk.poll(5, TimeUnit.SECONDS)).isEqualTo(tag);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();

        // Still acknowledgeable after the cancel.
        ch.basicAck(r.envelopes.poll().getDeliveryTag(), false);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        ch.close();
        Channel check = connect().createChannel();
        assertThat(check.basicGet(q, true)).isNull();
    }

    @Test
    void deletingTheQueueCancelsItsConsumers() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        Recorder r = new Recorder(ch);
        String tag = ch.basicConsume(q, true, r);

        connect().createChannel().queueDelete(q);

        assertThat(r.cancelledByServer.poll(5, TimeUnit.SECONDS)).isEqualTo(tag);
        assertThat(r.cancelOk).isEmpty();
        assertThat(ch.isOpen()).isTrue();
        // The tag is free again on this channel.
        String q2 = queue(ch);
        assertThat(ch.basicConsume(q2, true, tag, new Recorder(ch))).isEqualTo(tag);
    }

    @Test
    void consumingFromAMissingQueueIsNotFound() throws Exception {
        Channel ch = connect().createChannel();
        assertThatThrownBy(() -> ch.basicConsume("no-such-queue-" + System.nanoTime(), true, new Recorder(ch)))
                .satisfies(t -> assertThat(channelClose(t).getReplyCode()).isEqualTo(AMQP.NOT_FOUND));
    }

    @Test
    void tenThousandMessagesArriveInPublishOrder() throws Exception {
        Channel producer = connect().createChannel();
        String q = queue(producer);
        int n = 10_000;

        Channel consumerCh = connect().createChannel();
        List<Integer> received = new ArrayList<>(n);
        CountDownLatch done = new CountDownLatch(1);
        consumerCh.basicQos(100);
        consumerCh.basicConsume(q, false, new DefaultConsumer(consumerCh) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                    throws java.io.IOException {
                received.add(ByteBuffer.wrap(body).getInt());
                getChannel().basicAck(envelope.getDeliveryTag(), false);
                if (received.size() == n) {
                    done.countDown();
                }
            }
        });
        for (int i = 0; i < n; i++) {
            producer.basicPublish("", q, null, ByteBuffer.allocate(4).putInt(i).array());
        }

        assertThat(done.await(60, TimeUnit.SECONDS)).as("all %d delivered", n).isTrue();
        for (int i = 0; i < n; i++) {
            if (received.get(i) != i) {
                throw new AssertionError("message " + received.get(i) + " arrived at position " + i);
            }
        }
    }
}
