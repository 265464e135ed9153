package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** tx.select, tx.commit and tx.rollback: publishes and acks take effect only on commit. */
@Timeout(60)
class TxTest extends BrokerTest {
    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("tx-" + UUID.randomUUID(), false, false, false, null).getQueue();
    }

    private static void publish(Channel ch, String queue, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ch.basicPublish("", queue, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static List<String> drain(Channel ch, String queue) throws Exception {
        List<String> out = new ArrayList<>();
        for (GetResponse r; (r = ch.basicGet(queue, true)) != null; ) {
            out.add(new String(r.getBody(), StandardCharsets.UTF_8) + (r.getEnvelope().isRedeliver() ? "*" : ""));
        }
        return out;
    }

    private static AMQP.Channel.Close channelClose(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ShutdownSignalException s) {
                assertThat(s.isHardError()).as("channel error expected, got " + s.getReason()).isFalse();
                return (AMQP.Channel.Close) s.getReason();
            }
        }
        throw new AssertionError("no ShutdownSignalException in " + t, t);
    }

    @Test
    void publishesAppearOnlyAfterCommit() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        Channel observer = conn.createChannel();
        String q = queue(observer);
        tx.txSelect();

        publish(tx, q, 3);
        // A round trip on the tx channel makes sure the publishes were processed.
        tx.queueDeclarePassive(q);
        assertThat(observer.queueDeclarePassive(q).getMessageCount()).isZero();

        tx.txCommit();
        assertThat(observer.queueDeclarePassive(q).getMessageCount()).isEqualTo(3);
        assertThat(drain(observer, q)).containsExactly("m0", "m1", "m2");
    }

    @Test
    void rollbackDiscardsPublishes() throws Exception {
        Channel tx = connect().createChannel();
        String q = queue(tx);
        tx.txSelect();

        publish(tx, q, 2);
        tx.txRollback();
        tx.basicPublish("", q, null, "after".getBytes(StandardCharsets.UTF_8));
        tx.txCommit();

        assertThat(drain(tx, q)).containsExactly("after");
    }

    @Test
    void channelStaysTransactionalAfterCommit() throws Exception {
        Channel tx = connect().createChannel();
        String q = queue(tx);
        tx.txSelect();
        publish(tx, q, 1);
        tx.txCommit();
        publish(tx, q, 1);
        tx.queueDeclarePassive(q);

        assertThat(tx.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
        tx.txCommit();
        assertThat(tx.queueDeclarePassive(q).getMessageCount()).isEqualTo(2);
    }

    @Test
    void uncommittedPublishesAreDroppedWhenTheChannelCloses() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        String q = queue(tx);
        tx.txSelect();
        publish(tx, q, 2);
        tx.close();

        assertThat(conn.createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void acksTakeEffectOnCommit() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        String q = queue(tx);
        publish(tx, q, 2);
        tx.txSelect();
        long tag = tx.basicGet(q, false).getEnvelope().getDeliveryTag();

        tx.basicAck(tag, false);
        tx.txCommit();
        tx.close();

        assertThat(drain(conn.createChannel(), q)).containsExactly("m1");
    }

    @Test
    void rolledBackAcksLeaveMessagesUnacked() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        String q = queue(tx);
        publish(tx, q, 2);
        tx.txSelect();
        long tag = tx.basicGet(q, false).getEnvelope().getDeliveryTag();

        tx.basicAck(tag, false);
        tx.txRollback();

        // Still unacked (not ready), so it can be acked again in a new transaction...
        assertThat(tx.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
        tx.basicReject(tag, true);
        tx.txCommit();
        // ...here rejected with requeue, so it comes back redelivered at its place.
        assertThat(drain(tx, q)).containsExactly("m0*", "m1");
    }

    @Test
    void rolledBackAcksAreRequeuedWhenTheChannelCloses() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        String q = queue(tx);
        publish(tx, q, 1);
        tx.txSelect();
        long tag = tx.basicGet(q, false).getEnvelope().getDeliveryTag();
        tx.basicAck(tag, false);
        tx.txRollback();

        tx.close();

        assertThat(drain(conn.createChannel(), q)).containsExactly("m0*");
    }

    @Test
    void uncommittedAcksAreUndoneWhenTheChannelCloses() throws Exception {
        Connection conn = connect();
        Channel tx = conn.createChannel();
        String q = queue(tx);
        publish(tx, q, 1);
        tx.txSelect();
        tx.basicAck(tx.basicGet(q, false).getEnvelope().getDeliveryTag(), false);

        tx.close();

        assertThat(drain(conn.createChannel(), q)).containsExactly("m0*");
    }

    @Test
    void mandatoryReturnsHappenAtCommit() throws Exception {
        Channel tx = connect().createChannel();
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        tx.addReturnListener(returns::add);
        tx.txSelect();
        String missing = "missing-" + UUID.randomUUID();

        tx.basicPublish("", missing, true, null, new byte[] {7});
        tx.txCommit();

        Return r = returns.poll(5, TimeUnit.SECONDS);
        assertThat(r).isNotNull();
        assertThat(r.getReplyCode()).isEqualTo(AMQP.NO_ROUTE);
        assertThat(r.getRoutingKey()).isEqualTo(missing);
    }

    @Test
    void commitWithoutSelectIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        assertThatThrownBy(ch::txCommit).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - channel is not transactional");
            assertThat(close.getClassId()).isEqualTo(90);
            assertThat(close.getMethodId()).isEqualTo(20);
        });
    }

    @Test
    void rollbackWithoutSelectIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        assertThatThrownBy(ch::txRollback).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - channel is not transactional");
            assertThat(close.getMethodId()).isEqualTo(30);
        });
    }

    @Test
    void unknownTagInsideATransactionFailsAtOnce() throws Exception {
        Channel ch = connect().createChannel();
        ch.txSelect();
        ch.basicAck(42, false);
        assertThatThrownBy(ch::txCommit).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 42");
        });
    }

    /** RabbitMQ's InvalidAcksTx: the second ack of a tag is refused at once, not at commit. */
    @Test
    void aSecondAckOfATagInsideATransactionIsPreconditionFailedAtOnce() throws Exception {
        Channel ch = connect().createChannel();
        ch.txSelect();
        String q = queue(ch);
        publish(ch, q, 1);
        ch.txCommit();
        long tag = ch.basicGet(q, false).getEnvelope().getDeliveryTag();

        ch.basicAck(tag, false);
        ch.basicAck(tag, false);

        // No commit: the channel closes on the second ack itself.
        assertThatThrownBy(() -> ch.queueDeclarePassive(q)).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + tag);
            assertThat(close.getClassId()).isEqualTo(60);
            assertThat(close.getMethodId()).isEqualTo(80);
        });
        // The uncommitted ack was undone when the channel closed.
        assertThat(drain(connect().createChannel(), q)).containsExactly("m0*");
    }

    @Test
    void aMultipleAckInsideATransactionTakesTheEarlierTagsToo() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        publish(ch, q, 3);
        ch.txSelect();
        ch.basicGet(q, false);
        long second = ch.basicGet(q, false).getEnvelope().getDeliveryTag();
        ch.basicGet(q, false);

        ch.basicAck(second, true);
        ch.basicAck(second - 1, false);

        assertThatThrownBy(ch::txCommit).satisfies(t ->
                assertThat(channelClose(t).getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + (second - 1)));
    }

    /** RabbitMQ's Transactions test: basic.recover leaves alone what the open transaction acked. */
    @Test
    void recoverDoesNotRedeliverWhatTheOpenTransactionAcked() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);
        publish(ch, q, 2);
        ch.txSelect();
        long first = ch.basicGet(q, false).getEnvelope().getDeliveryTag();
        ch.basicGet(q, false);

        ch.basicAck(first, false);
        ch.basicRecover(true);

        assertThat(drain(ch, q)).containsExactly("m1*");
        ch.txCommit();
        ch.close();
        assertThat(conn.createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void aRolledBackAckCanBeMadeAgainAndCommitted() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);
        publish(ch, q, 3);
        ch.txSelect();
        long t1 = ch.basicGet(q, false).getEnvelope().getDeliveryTag();
        long t2 = ch.basicGet(q, false).getEnvelope().getDeliveryTag();
        long t3 = ch.basicGet(q, false).getEnvelope().getDeliveryTag();

        // Out of order, so that rollback puts tags back before, inside and after those still unacked.
        ch.basicAck(t2, false);
        ch.basicAck(t1, false);
        ch.basicAck(t3, false);
        ch.txRollback();
        ch.basicAck(t3, true);
        ch.txCommit();
        ch.close();

        assertThat(conn.createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }
}
