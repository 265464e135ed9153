package io.warren.it.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.it.ConfirmWindow;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A consumer whose client stops reading its socket, or reads it slowly, holds back only its own
 * messages: the publisher keeps (at least half) its rate, the queue's other consumers and the other
 * queues of a fanout get everything, the stalled queue keeps the rest, and all of it arrives once the
 * client reads again. The broker runs in a process of its own; the clients here read through a
 * {@link ReadGate}. Each figure is printed as {@code [flow] ...} for the note.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StalledConsumerTest {
    private static final int BODY = 1024;
    private static final int COUNT = 50_000;
    /** The publisher's rate with a stalled consumer, as a share of its rate with a healthy one, at least. */
    private static final double MIN_RATE_SHARE = 0.5;

    private FlowTarget broker;
    private final List<Connection> connections = new ArrayList<>();
    private final List<ReadGate> gates = new ArrayList<>();
    private final List<String> queues = new ArrayList<>();
    private final List<String> exchanges = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        broker = FlowTarget.start();
        // The broker's and this JVM's compilers warm up on a healthy run first, so that the
        // baselines below are not the cold ones.
        String q = queue("warm-up");
        Receiver warm = consume(connect(), q, true, 0);
        publish("", q, 2 * COUNT);
        warm.awaitCount(2 * COUNT);
    }

    @AfterAll
    void stop() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        gates.forEach(ReadGate::open);
        try (Connection c = broker.factory().newConnection()) {
            Channel ch = c.createChannel();
            for (String q : queues) {
                ch.queueDelete(q);
            }
            for (String e : exchanges) {
                ch.exchangeDelete(e);
            }
        }
        for (Connection c : connections) {
            c.abort(2000);
        }
        connections.clear();
        gates.clear();
        queues.clear();
        exchanges.clear();
    }

    @Test
    void aStalledAutoAckConsumerHoldsBackOnlyItsOwnQueue() throws Exception {
        stalledDirectQueue("direct queue, auto-ack consumer stalled", true, 0);
    }

    @Test
    void aStalledConsumerWithPrefetch10000HoldsBackOnlyItsOwnQueue() throws Exception {
        stalledDirectQueue("direct queue, manual-ack consumer with prefetch 10,000 stalled", false, 10_000);
    }

    /** The publisher's rate to a queue whose consumer stalled, against its rate with a healthy one; then all arrives. */
    private void stalledDirectQueue(String what, boolean autoAck, int prefetch) throws Exception {
        String healthy = queue("healthy");
        Receiver normal = consume(connect(), healthy, autoAck, prefetch);
        long baseline = publish("", healthy, COUNT);
        normal.awaitCount(COUNT);

        String stalledQueue = queue("stalled");
        ReadGate gate = gate();
        Receiver stalled = consume(connect(gate), stalledQueue, autoAck, prefetch);
        gate.pause();
        long withStall = publish("", stalledQueue, COUNT);

        assertRate(what, baseline, withStall);
        assertMostWaitInTheQueue(stalledQueue, stalled);
        gate.open();
        stalled.awaitCount(COUNT);
        await().atMost(Duration.ofSeconds(30)).until(() -> depth(stalledQueue) == 0);
    }

    @Test
    void aStalledConsumerOfOneFanoutCopyHoldsBackNeitherThePublisherNorTheOtherCopy() throws Exception {
        String both = exchange();
        String a = queue("copy-a");
        String b = queue("copy-b");
        bind(a, both);
        bind(b, both);
        Receiver healthyA = consume(connect(), a, true, 0);
        Receiver healthyB = consume(connect(), b, true, 0);
        long baseline = publish(both, "", COUNT);
        healthyA.awaitCount(COUNT);
        healthyB.awaitCount(COUNT);

        String fan = exchange();
        String stalledQueue = queue("copy-stalled");
        String otherQueue = queue("copy-other");
        bind(stalledQueue, fan);
        bind(otherQueue, fan);
        ReadGate gate = gate();
        Receiver stalled = consume(connect(gate), stalledQueue, true, 0);
        Receiver other = consume(connect(), otherQueue, true, 0);
        gate.pause();
        long withStall = publish(fan, "", COUNT);

        assertRate("fanout to two queues, one copy's consumer stalled", baseline, withStall);
        other.awaitCount(COUNT);
        assertMostWaitInTheQueue(stalledQueue, stalled);
        gate.open();
        stalled.awaitCount(COUNT);
    }

    @Test
    void aSlowReaderHoldsBackOnlyItsOwnQueueAndKeepsItsConnection() throws Exception {
        String healthy = queue("healthy-slow");
        Receiver normal = consume(connect(), healthy, true, 0);
        long baseline = publish("", healthy, COUNT);
        normal.awaitCount(COUNT);

        String slowQueue = queue("slow");
        ReadGate gate = gate();
        Receiver slow = consume(connect(gate), slowQueue, true, 0);
        gate.limit(256 * 1024);
        long started = System.nanoTime();
        long withSlow = publish("", slowQueue, COUNT);

        assertRate("direct queue, auto-ack consumer reading 256 KiB/s", baseline, withSlow);
        assertThat(depth(slowQueue)).as("messages waiting for the slow consumer").isGreaterThan(COUNT / 2);
        // Slow is not stuck: past the broker's send timeout the consumer is still there and receiving.
        long readBefore = slow.count();
        long wait = broker.sendTimeoutMillis() + 2000 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (wait > 0) {
            Thread.sleep(wait); // the point is to let time pass beyond the send timeout
        }
        assertThat(consumers(slowQueue)).as("consumers of the slow queue after the send timeout").isEqualTo(1);
        assertThat(slow.count()).isGreaterThan(readBefore);
        gate.open();
        slow.awaitCount(COUNT);
    }

    /**
     * A client that never reads again is closed once its socket made no progress for the send
     * timeout, as RabbitMQ 3.10 does (30 s, its listener's default; Warren's tcp_listen_options.send_timeout),
     * and its unacknowledged messages go back to the queue.
     */
    @Test
    void aClientThatNeverReadsAgainIsClosedAfterTheSendTimeoutAndItsMessagesGoBack() throws Exception {
        String q = queue("never");
        ReadGate gate = gate();
        consume(connect(gate), q, false, 10_000);
        gate.pause();
        long paused = System.nanoTime();
        int count = 20_000;
        publish("", q, count);
        await().atMost(Duration.ofMillis(broker.sendTimeoutMillis() + 30_000)).pollInterval(Duration.ofMillis(100))
                .until(() -> consumers(q) == 0);
        long closedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - paused);
        System.out.printf(Locale.ROOT, "[flow] a client that stopped reading was closed %.1f s after it stopped (send timeout %.1f s)%n",
                closedAfter / 1000.0, broker.sendTimeoutMillis() / 1000.0);
        assertThat(closedAfter).as("closed after (ms)").isGreaterThanOrEqualTo(broker.sendTimeoutMillis());
        await().atMost(Duration.ofSeconds(10)).until(() -> depth(q) == count);
    }

    /** The queue of a stalled consumer grows to 1 GiB while the broker's RSS stays far below that. */
    @Test
    void theBrokersMemoryStaysBoundedWhileAStalledConsumersQueueGrowsTo1GiB() throws Exception {
        assumeTrue(broker.isWarren(), "reads the broker's RSS, which only a broker of our own process gives");
        String q = queue("gigabyte");
        ReadGate gate = gate();
        Receiver stalled = consume(connect(gate), q, true, 0);
        gate.pause();
        int body = 16 * 1024;
        int count = (int) ((1L << 30) / body);
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    peak.accumulateAndGet(broker.rss().orElse(0), Math::max);
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }, "rss-sampler");
        sampler.start();
        try {
            publish("", q, count, body);
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        long waiting = depth(q);
        System.out.printf(Locale.ROOT, "[flow] stalled queue holds %d messages (%.0f MiB); broker peak RSS %.0f MiB (%s)%n",
                waiting, waiting * (double) body / (1 << 20), peak.get() / (double) (1 << 20), FlowTarget.HEAP);
        assertThat(waiting * body).as("bytes waiting in the stalled queue").isGreaterThan(900L << 20);
        assertThat(peak.get()).as("broker's peak RSS").isLessThan(600L << 20);
        gate.open();
        stalled.awaitCount(count);
    }

    // ---------------------------------------------------------------- helpers

    private void assertRate(String what, long baselineNanos, long nanos) {
        double share = (double) baselineNanos / nanos;
        System.out.printf(Locale.ROOT, "[flow] %s: publisher at %.2fx its rate with a healthy consumer (%.0f vs %.0f msg/s)%n",
                what, share, COUNT * 1e9 / nanos, COUNT * 1e9 / baselineNanos);
        assertThat(share).as("%s: publish rate against the healthy baseline", what).isGreaterThanOrEqualTo(MIN_RATE_SHARE);
    }

    /** Nearly everything published waits in the queue, not in the broker's or the kernel's buffers. */
    private void assertMostWaitInTheQueue(String queue, Receiver stalled) throws Exception {
        long depth = depth(queue);
        assertThat(depth).as("messages waiting in the stalled queue (the client took %d)", stalled.count())
                .isGreaterThan(COUNT / 2);
    }

    private String queue(String name) throws Exception {
        String q = "flow-" + name + "-" + UUID.randomUUID();
        try (Connection c = broker.factory().newConnection()) {
            c.createChannel().queueDeclare(q, false, false, false, null);
        }
        queues.add(q);
        return q;
    }

    private String exchange() throws Exception {
        String e = "flow-fanout-" + UUID.randomUUID();
        try (Connection c = broker.factory().newConnection()) {
            c.createChannel().exchangeDeclare(e, BuiltinExchangeType.FANOUT);
        }
        exchanges.add(e);
        return e;
    }

    private void bind(String queue, String exchange) throws Exception {
        try (Connection c = broker.factory().newConnection()) {
            c.createChannel().queueBind(queue, exchange, "");
        }
    }

    private long depth(String queue) throws Exception {
        try (Connection c = broker.factory().newConnection()) {
            return c.createChannel().queueDeclarePassive(queue).getMessageCount();
        }
    }

    private long consumers(String queue) throws Exception {
        try (Connection c = broker.factory().newConnection()) {
            return c.createChannel().queueDeclarePassive(queue).getConsumerCount();
        }
    }

    private ReadGate gate() {
        ReadGate gate = new ReadGate();
        gates.add(gate);
        return gate;
    }

    private Connection connect() throws Exception {
        Connection c = broker.factory().newConnection();
        connections.add(c);
        return c;
    }

    private Connection connect(ReadGate gate) throws Exception {
        Connection c = gate.on(broker.factory()).newConnection();
        connections.add(c);
        return c;
    }

    private Receiver consume(Connection c, String queue, boolean autoAck, int prefetch) throws Exception {
        Channel ch = c.createChannel();
        if (prefetch > 0) {
            ch.basicQos(prefetch);
        }
        Receiver r = new Receiver(ch, autoAck);
        ch.basicConsume(queue, autoAck, r::deliver, tag -> { });
        return r;
    }

    private long publish(String exchange, String routingKey, int count) throws Exception {
        return publish(exchange, routingKey, count, BODY);
    }

    /** Publishes {@code count} numbered messages with confirms (1,000 outstanding); returns the time until all are confirmed. */
    private long publish(String exchange, String routingKey, int count, int bodySize) throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        ConfirmWindow window = new ConfirmWindow(ch, 1000);
        byte[] body = new byte[bodySize];
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            ByteBuffer.wrap(body).putLong(i);
            assertThat(window.publish(exchange, routingKey, null, body)).as("window had room within 30 s at %d", i).isTrue();
        }
        window.drain(60_000);
        long nanos = System.nanoTime() - start;
        assertThat(window.acked()).isEqualTo(count);
        c.close();
        connections.remove(c);
        return nanos;
    }

    /** Counts deliveries and checks that they come in publish order, each once; acks every 100th (multiple). */
    private static final class Receiver {
        private final Channel channel;
        private final boolean autoAck;
        private final AtomicLong received = new AtomicLong();
        private final AtomicLong outOfOrder = new AtomicLong();

        Receiver(Channel channel, boolean autoAck) {
            this.channel = channel;
            this.autoAck = autoAck;
        }

        void deliver(String tag, com.rabbitmq.client.Delivery d) throws java.io.IOException {
            long seq = ByteBuffer.wrap(d.getBody()).getLong();
            if (seq != received.getAndIncrement()) {
                outOfOrder.incrementAndGet();
            }
            if (!autoAck && received.get() % 100 == 0 && channel.isOpen()) {
                channel.basicAck(d.getEnvelope().getDeliveryTag(), true);
            }
        }

        long count() {
            return received.get();
        }

        void awaitCount(long expected) {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> received.get() >= expected);
            assertThat(received.get()).as("deliveries").isEqualTo(expected);
            assertThat(outOfOrder.get()).as("deliveries out of publish order").isZero();
        }
    }
}
