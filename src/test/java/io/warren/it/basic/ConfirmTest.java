package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Publisher confirms: acks (single and multiple), their order with basic.return, and the tx/confirm exclusion. */
@Timeout(60)
class ConfirmTest extends BrokerTest {
    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("confirm-" + UUID.randomUUID(), false, false, false, null).getQueue();
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

    /** Records which sequence numbers were confirmed, and whether any ack covered several. */
    private static final class Confirms implements ConfirmListener {
        final BitSet acked = new BitSet();
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        volatile boolean sawMultiple;
        volatile int nacks;
        private long highest;
        private final CountDownLatch all;
        private final long expected;

        Confirms(long expected) {
            this.expected = expected;
            this.all = new CountDownLatch(1);
        }

        @Override
        public synchronized void handleAck(long seq, boolean multiple) {
            events.add("ack " + seq);
            if (multiple) {
                sawMultiple = true;
                acked.set((int) highest + 1, (int) seq + 1);
            } else {
                acked.set((int) seq);
            }
            highest = Math.max(highest, seq);
            if (acked.cardinality() == expected && acked.nextClearBit(1) == expected + 1) {
                all.countDown();
            }
        }

        @Override
        public void handleNack(long seq, boolean multiple) {
            nacks++;
        }

        boolean awaitAll() throws InterruptedException {
            return all.await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyPublishIsConfirmedInOrder() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.confirmSelect();
        int n = 500;
        Confirms confirms = new Confirms(n);
        ch.addConfirmListener(confirms);

        for (int i = 1; i <= n; i++) {
            assertThat(ch.getNextPublishSeqNo()).isEqualTo(i);
            ch.basicPublish("", q, null, new byte[] {(byte) i});
        }

        assertThat(confirms.awaitAll()).as("all %d confirmed", n).isTrue();
        assertThat(confirms.nacks).isZero();
        assertThat(ch.waitForConfirms(5000)).isTrue();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(n);
    }

    @Test
    void burstsAreConfirmedWithMultipleAcks() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.confirmSelect();
        int n = 2000;
        Confirms confirms = new Confirms(n);
        ch.addConfirmListener(confirms);

        byte[] body = new byte[16];
        for (int i = 0; i < n; i++) {
            ch.basicPublish("", q, null, body);
        }

        assertThat(confirms.awaitAll()).isTrue();
        // RabbitMQ confirms a burst with fewer acks than messages (multiple=true).
        assertThat(confirms.sawMultiple).isTrue();
        assertThat(confirms.events.size()).isLessThan(n);
    }

    @Test
    void unroutableMessagesAreConfirmedToo() throws Exception {
        Channel ch = connect().createChannel();
        ch.confirmSelect();
        ch.basicPublish("amq.direct", "nobody-" + UUID.randomUUID(), null, new byte[] {1});
        ch.waitForConfirmsOrDie(5000);
    }

    @Test
    void mandatoryReturnComesBeforeTheAck() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.confirmSelect();
        Confirms confirms = new Confirms(3);
        ch.addConfirmListener(confirms);
        ch.addReturnListener(r -> confirms.events.add("return " + r.getRoutingKey()));

        ch.basicPublish("", q, true, null, new byte[] {1});
        ch.basicPublish("", "missing-" + q, true, null, new byte[] {2});
        ch.basicPublish("", q, true, null, new byte[] {3});

        assertThat(confirms.awaitAll()).isTrue();
        List<String> events = List.copyOf(confirms.events);
        int returnAt = events.indexOf("return missing-" + q);
        assertThat(returnAt).as("events %s", events).isGreaterThanOrEqualTo(0);
        // The ack covering message 2 (single or multiple) comes after its return.
        int ackAt = -1;
        for (int i = 0; i < events.size(); i++) {
            String e = events.get(i);
            if (e.startsWith("ack ") && Long.parseLong(e.substring(4)) >= 2) {
                ackAt = i;
                break;
            }
        }
        assertThat(ackAt).as("events %s", events).isGreaterThan(returnAt);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(2);
    }

    @Test
    void confirmSelectIsIdempotent() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.confirmSelect();
        ch.confirmSelect();
        ch.basicPublish("", q, null, new byte[0]);
        assertThat(ch.waitForConfirms(5000)).isTrue();
    }

    @Test
    void confirmAfterTxIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        ch.txSelect();
        assertThatThrownBy(ch::confirmSelect).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - cannot switch from tx to confirm mode");
            assertThat(close.getClassId()).isEqualTo(85);
            assertThat(close.getMethodId()).isEqualTo(10);
        });
    }

    @Test
    void txAfterConfirmIsPreconditionFailed() throws Exception {
        Channel ch = connect().createChannel();
        ch.confirmSelect();
        assertThatThrownBy(ch::txSelect).satisfies(t -> {
            AMQP.Channel.Close close = channelClose(t);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - cannot switch from confirm to tx mode");
            assertThat(close.getClassId()).isEqualTo(90);
            assertThat(close.getMethodId()).isEqualTo(10);
        });
    }
}
