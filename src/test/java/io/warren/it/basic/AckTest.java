package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * basic.get, basic.ack, basic.nack, basic.reject and basic.recover: what is settled, what comes
 * back (redelivered, at its original place), and which tags are errors.
 */
@Timeout(60)
class AckTest extends BrokerTest {
    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("ack-" + UUID.randomUUID(), false, false, false, null).getQueue();
    }

    private static void publish(Channel ch, String queue, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ch.basicPublish("", queue, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String body(GetResponse r) {
        return new String(r.getBody(), StandardCharsets.UTF_8);
    }

    /** Empties the queue with no-ack gets: bodies, with "*" after those marked redelivered. */
    private static List<String> drain(Channel ch, String queue) throws Exception {
        List<String> out = new ArrayList<>();
        for (GetResponse r; (r = ch.basicGet(queue, true)) != null; ) {
            out.add(body(r) + (r.getEnvelope().isRedeliver() ? "*" : ""));
        }
        return out;
    }

    private static AMQP.Channel.Close awaitChannelClose(Channel ch) {
        await().atMost(Duration.ofSeconds(5)).until(() -> !ch.isOpen());
        ShutdownSignalException s = ch.getCloseReason();
        assertThat(s.isHardError()).as("channel error expected, got " + s.getReason()).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }

    @Test
    void getReturnsMessagesWithTheRemainingCountThenEmpty() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        assertThat(ch.basicGet(q, false)).isNull();
        publish(ch, q, 3);

        GetResponse first = ch.basicGet(q, false);
        assertThat(body(first)).isEqualTo("m0");
        assertThat(first.getMessageCount()).isEqualTo(2);
        assertThat(first.getEnvelope().getDeliveryTag()).isEqualTo(1);
        assertThat(first.getEnvelope().isRedeliver()).isFalse();
        assertThat(first.getEnvelope().getRoutingKey()).isEqualTo(q);
        GetResponse second = ch.basicGet(q, false);
        assertThat(second.getMessageCount()).isEqualTo(1);
        assertThat(second.getEnvelope().getDeliveryTag()).isEqualTo(2);
        GetResponse third = ch.basicGet(q, true);
        assertThat(third.getMessageCount()).isZero();
        assertThat(ch.basicGet(q, false)).isNull();

        // Unacked gets are not counted as ready.
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        ch.basicAck(second.getEnvelope().getDeliveryTag(), true);
        ch.close();
        assertThat(connect().createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void nackedMessagesGoBackToTheirPlaceAsRedelivered() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 5);
        GetResponse m0 = ch.basicGet(q, false);
        GetResponse m1 = ch.basicGet(q, false);
        ch.basicGet(q, false); // m2 stays unacked

        ch.basicNack(m1.getEnvelope().getDeliveryTag(), false, true);
        ch.basicNack(m0.getEnvelope().getDeliveryTag(), false, true);

        assertThat(drain(ch, q)).containsExactly("m0*", "m1*", "m3", "m4");
    }

    @Test
    void rejectWithRequeueComesBackFirst() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 3);
        GetResponse m0 = ch.basicGet(q, false);

        ch.basicReject(m0.getEnvelope().getDeliveryTag(), true);

        GetResponse again = ch.basicGet(q, false);
        assertThat(body(again)).isEqualTo("m0");
        assertThat(again.getEnvelope().isRedeliver()).isTrue();
        assertThat(again.getEnvelope().getDeliveryTag()).isEqualTo(2);
        assertThat(again.getMessageCount()).isEqualTo(2);
    }

    @Test
    void rejectWithoutRequeueDrops() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 2);
        GetResponse m0 = ch.basicGet(q, false);

        ch.basicReject(m0.getEnvelope().getDeliveryTag(), false);
        ch.close();

        assertThat(drain(connect().createChannel(), q)).containsExactly("m1");
    }

    @Test
    void nackMultipleWithRequeueReturnsAllUpToTheTag() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 5);
        ch.basicGet(q, false);
        ch.basicGet(q, false);
        GetResponse m2 = ch.basicGet(q, false);
        GetResponse m3 = ch.basicGet(q, false);

        ch.basicNack(m2.getEnvelope().getDeliveryTag(), true, true);

        assertThat(drain(ch, q)).containsExactly("m0*", "m1*", "m2*", "m4");
        // m3 is still unacked and can be acked.
        ch.basicAck(m3.getEnvelope().getDeliveryTag(), false);
        ch.close();
        assertThat(connect().createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void nackMultipleWithoutRequeueDrops() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 4);
        ch.basicGet(q, false);
        ch.basicGet(q, false);
        GetResponse m2 = ch.basicGet(q, false);

        ch.basicNack(m2.getEnvelope().getDeliveryTag(), true, false);
        ch.close();

        assertThat(drain(connect().createChannel(), q)).containsExactly("m3");
    }

    @Test
    void ackMultipleSettlesEverythingUpToTheTag() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 4);
        ch.basicGet(q, false);
        GetResponse m1 = ch.basicGet(q, false);
        ch.basicGet(q, false);

        ch.basicAck(m1.getEnvelope().getDeliveryTag(), true);
        ch.close();

        assertThat(drain(connect().createChannel(), q)).containsExactly("m2*", "m3");
    }

    @Test
    void ackMultipleWithTagZeroAcksAllOutstanding() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 5);
        BlockingQueue<Long> tags = new LinkedBlockingQueue<>();
        ch.basicConsume(q, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                tags.add(envelope.getDeliveryTag());
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> tags.size() == 5);

        ch.basicAck(0, true);
        ch.close();

        assertThat(connect().createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void ackMultipleWithTagZeroAndNothingOutstandingIsFine() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicAck(0, true);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void unknownDeliveryTagIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 1);
        ch.basicGet(q, false);

        ch.basicAck(99, false);

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 99");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(80);
        // The unacked message went back when the channel closed.
        assertThat(drain(connect().createChannel(), q)).containsExactly("m0*");
    }

    @Test
    void ackMultipleWithAnUnknownTagOnAFreshChannelIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        ch.basicAck(5, true);
        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 5");
    }

    /** As RabbitMQ: with multiple, the tag itself must await ack; nothing is settled otherwise. */
    @Test
    void nackMultipleWithAnUnknownTagIsPreconditionFailedAndSettlesNothing() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 3);
        for (int i = 0; i < 3; i++) {
            ch.basicGet(q, false);
        }

        ch.basicNack(99, true, false);

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 99");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(120);
        // Not dropped: all three went back when the channel closed.
        assertThat(drain(connect().createChannel(), q)).containsExactly("m0*", "m1*", "m2*");
    }

    @Test
    void ackMultipleOfATagAlreadyAckedIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 3);
        ch.basicGet(q, false);
        long second = ch.basicGet(q, false).getEnvelope().getDeliveryTag();
        ch.basicGet(q, false);
        ch.basicAck(second, false);

        ch.basicAck(second, true);

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + second);
        assertThat(drain(connect().createChannel(), q)).containsExactly("m0*", "m2*");
    }

    @Test
    void tagZeroWithoutMultipleIsUnknown() throws Exception {
        Channel ch = connect().createChannel();
        ch.basicAck(0, false);
        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 0");
    }

    @Test
    void doubleAckIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 1);
        long tag = ch.basicGet(q, false).getEnvelope().getDeliveryTag();

        ch.basicAck(tag, false);
        ch.basicAck(tag, false);

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + tag);
        assertThat(connect().createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void rejectOfANoAckDeliveryIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 1);
        long tag = ch.basicGet(q, true).getEnvelope().getDeliveryTag();

        ch.basicReject(tag, true);

        assertThat(awaitChannelClose(ch).getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
    }

    @Test
    void unackedMessagesAreRequeuedWhenTheChannelCloses() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);
        publish(ch, q, 4);
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        ch.basicConsume(q, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                got.add(new String(body, StandardCharsets.UTF_8));
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> got.size() == 4);
        ch.basicAck(2, false); // m1

        ch.close();

        assertThat(drain(conn.createChannel(), q)).containsExactly("m0*", "m2*", "m3*");
    }

    @Test
    void unackedMessagesAreRequeuedWhenTheConnectionCloses() throws Exception {
        Connection conn = factory().newConnection();
        try {
            Channel ch = conn.createChannel();
            String q = queue(ch);
            publish(ch, q, 3);
            ch.basicGet(q, false);
            ch.basicGet(q, false);
            Channel other = conn.createChannel();
            other.basicGet(q, false);

            conn.close();

            Channel check = connect().createChannel();
            assertThat(drain(check, q)).containsExactly("m0*", "m1*", "m2*");
        } finally {
            if (conn.isOpen()) {
                conn.abort();
            }
        }
    }

    @Test
    void unackedMessagesAreRequeuedWhenTheConnectionDrops() throws Exception {
        Connection conn = factory().newConnection();
        Channel ch = conn.createChannel();
        String q = queue(ch);
        publish(ch, q, 2);
        ch.basicGet(q, false);

        conn.abort(); // no connection.close: the socket just goes away

        Channel check = connect().createChannel();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> check.queueDeclarePassive(q).getMessageCount() == 2);
        assertThat(drain(check, q)).containsExactly("m0*", "m1");
    }

    @Test
    void recoverRequeuesAndRedeliversUnacked() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        ch.basicConsume(q, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                got.add(new String(body, StandardCharsets.UTF_8) + (envelope.isRedeliver() ? "*" : ""));
            }
        });
        publish(ch, q, 3);
        List<String> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(got.poll(5, TimeUnit.SECONDS));
        }
        assertThat(first).containsExactly("m0", "m1", "m2");

        ch.basicRecover(true);

        List<String> again = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            again.add(got.poll(5, TimeUnit.SECONDS));
        }
        assertThat(again).containsExactly("m0*", "m1*", "m2*");
        // The old tags are gone: the new ones (4..6) settle the messages.
        ch.basicAck(6, true);
        ch.close();
        assertThat(connect().createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void recoverWithoutRequeueIsNotImplementedAndClosesTheConnection() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();

        Throwable thrown = catchThrowable(() -> ch.basicRecover(false));

        assertThat(thrown).isNotNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> !conn.isOpen());
        ShutdownSignalException s = conn.getCloseReason();
        assertThat(s.isHardError()).isTrue();
        AMQP.Connection.Close close = (AMQP.Connection.Close) s.getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_IMPLEMENTED);
        assertThat(close.getReplyText()).isEqualTo("NOT_IMPLEMENTED - requeue=false");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(110);
    }

    @Test
    void recoverAsyncWithoutRequeueIsNotImplementedToo() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();

        ch.asyncRpc(new AMQImpl.Basic.RecoverAsync(false));

        await().atMost(Duration.ofSeconds(5)).until(() -> !conn.isOpen());
        AMQP.Connection.Close close = (AMQP.Connection.Close) conn.getCloseReason().getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_IMPLEMENTED);
        assertThat(close.getReplyText()).isEqualTo("NOT_IMPLEMENTED - requeue=false");
        assertThat(close.getMethodId()).isEqualTo(100);
    }

    @Test
    void recoverAsyncRequeuesWithoutAReply() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 2);
        ch.basicGet(q, false);

        ch.asyncRpc(new AMQImpl.Basic.RecoverAsync(true));

        assertThat(drain(ch, q)).containsExactly("m0*", "m1");
    }

    @Test
    void recoverRequeuesGetsToo() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 2);
        ch.basicGet(q, false);

        ch.basicRecover(true);

        assertThat(drain(ch, q)).containsExactly("m0*", "m1");
    }
}
