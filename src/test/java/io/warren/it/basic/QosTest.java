package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.warren.it.BrokerTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * basic.qos: per-consumer prefetch (global=false), channel-wide prefetch (global=true), both at once,
 * credit coming back with acks, and 0 meaning no limit. Checks that no more than the limit arrives
 * wait a short while for a delivery that must not come.
 */
@Timeout(60)
class QosTest extends BrokerTest {
    /** How long to wait for a delivery that must not arrive. */
    private static final long QUIET_MS = 300;

    /** Collects deliveries of one consumer: delivery tags, in arrival order. */
    private static final class Collector extends DefaultConsumer {
        final BlockingQueue<Long> tags = new LinkedBlockingQueue<>();

        Collector(Channel ch) {
            super(ch);
        }

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            tags.add(envelope.getDeliveryTag());
        }

        List<Long> take(int n) throws InterruptedException {
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Long t = tags.poll(5, TimeUnit.SECONDS);
                assertThat(t).as("delivery %d of %d", i + 1, n).isNotNull();
                out.add(t);
            }
            return out;
        }

        void assertQuiet() throws InterruptedException {
            assertThat(tags.poll(QUIET_MS, TimeUnit.MILLISECONDS)).as("unexpected delivery").isNull();
        }
    }

    /** Waits until the consumers hold {@code n} deliveries in total and no more arrive for a while. */
    private static void awaitDeliveredExactly(int n, Collector... consumers) {
        Callable<Integer> total = () -> Arrays.stream(consumers).mapToInt(c -> c.tags.size()).sum();
        await().atMost(Duration.ofSeconds(5)).until(total, t -> t >= n);
        await().during(Duration.ofMillis(QUIET_MS)).atMost(Duration.ofSeconds(2)).until(total, t -> t == n);
    }

    private static void publish(Channel ch, String queue, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ch.basicPublish("", queue, null, ("m" + i).getBytes());
        }
    }

    @Test
    void perConsumerPrefetchLimitsUnackedDeliveries() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(3);
        Collector c = new Collector(ch);
        ch.basicConsume(q, false, c);

        publish(connect().createChannel(), q, 10);

        List<Long> first = c.take(3);
        c.assertQuiet();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(7);

        ch.basicAck(first.get(0), false);
        c.take(1);
        c.assertQuiet();

        ch.basicAck(0, true);
        c.take(3);
        c.assertQuiet();
        ch.basicAck(0, true);
        c.take(3);
        c.assertQuiet();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void eachConsumerOnAChannelHasItsOwnPrefetch() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(2);
        Collector a = new Collector(ch);
        Collector b = new Collector(ch);
        ch.basicConsume(q, false, a);
        ch.basicConsume(q, false, b);

        publish(connect().createChannel(), q, 10);

        a.take(2);
        List<Long> bTags = b.take(2);
        a.assertQuiet();
        b.assertQuiet();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(6);

        // Credit freed on b goes to b, not a.
        ch.basicAck(bTags.get(1), false);
        b.take(1);
        a.assertQuiet();
    }

    @Test
    void globalPrefetchIsSharedByTheChannelsConsumers() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(3, true);
        Collector a = new Collector(ch);
        Collector b = new Collector(ch);
        ch.basicConsume(q, false, a);
        ch.basicConsume(q, false, b);

        publish(connect().createChannel(), q, 10);

        awaitDeliveredExactly(3, a, b);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(7);

        // Acking two frees two units of the shared credit.
        List<Long> first = new ArrayList<>();
        a.tags.drainTo(first);
        b.tags.drainTo(first);
        ch.basicAck(first.get(0), false);
        ch.basicAck(first.get(1), false);
        awaitDeliveredExactly(2, a, b);
    }

    @Test
    void perConsumerThenGlobalLimitsBothApply() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(2, false);
        ch.basicQos(3, true);
        Collector a = new Collector(ch);
        Collector b = new Collector(ch);
        ch.basicConsume(q, false, a);
        ch.basicConsume(q, false, b);

        publish(connect().createChannel(), q, 10);

        // 3 in total (channel limit), neither consumer above 2 (consumer limit).
        awaitDeliveredExactly(3, a, b);
        assertThat(a.tags.size()).isBetween(1, 2);
        assertThat(b.tags.size()).isBetween(1, 2);
    }

    @Test
    void perConsumerQosAfterGlobalLiftsTheChannelLimit() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        // RabbitMQ 3.8+: basic.qos with global=false resets the channel-wide limit.
        ch.basicQos(2, true);
        ch.basicQos(4, false);
        Collector a = new Collector(ch);
        Collector b = new Collector(ch);
        ch.basicConsume(q, false, a);
        ch.basicConsume(q, false, b);

        publish(connect().createChannel(), q, 20);

        awaitDeliveredExactly(8, a, b);
        assertThat(a.tags).hasSize(4);
        assertThat(b.tags).hasSize(4);
    }

    @Test
    void prefetchZeroMeansUnlimited() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(5);
        ch.basicQos(0);
        Collector c = new Collector(ch);
        ch.basicConsume(q, false, c);

        publish(connect().createChannel(), q, 200);

        c.take(200);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void globalPrefetchZeroMeansUnlimited() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(1, true);
        ch.basicQos(0, true);
        Collector c = new Collector(ch);
        ch.basicConsume(q, false, c);

        publish(connect().createChannel(), q, 50);

        c.take(50);
    }

    @Test
    void prefetchDoesNotLimitNoAckConsumers() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicQos(1);
        Collector c = new Collector(ch);
        ch.basicConsume(q, true, c);

        publish(connect().createChannel(), q, 20);

        c.take(20);
    }
}
