package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Queues longer than their memory budget keep the rest on disk, transient messages included, and
 * hand everything back in order (a small budget makes this happen with few messages).
 */
class LongQueueTest extends InProcessStoreTest {
    private static final long BUDGET = 64 * 1024;

    @BeforeEach
    void start() throws Exception {
        broker = new RestartableBroker("warren-long", c -> c.queueMemoryBytes(BUDGET));
    }

    private static byte[] body(long i) {
        return ByteBuffer.allocate(16).putLong(i).putLong(~i).array();
    }

    private static long seq(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        long i = b.getLong();
        assertThat(b.getLong()).isEqualTo(~i);
        return i;
    }

    private void drainInOrder(Channel ch, String queue, long expected) throws Exception {
        ch.basicQos(500);
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong next = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        ch.basicConsume(queue, false, (tag, d) -> {
            if (seq(d.getBody()) != next.getAndIncrement()) {
                wrong.incrementAndGet();
            }
            if (next.get() % 100 == 0 || next.get() == expected) {
                ch.basicAck(d.getEnvelope().getDeliveryTag(), true);
            }
            if (next.get() == expected) {
                done.countDown();
            }
        }, tag -> { });
        assertThat(done.await(60, TimeUnit.SECONDS)).as("received %d of %d", next.get(), expected).isTrue();
        assertThat(wrong.get()).isZero();
    }

    @Test
    void transientQueueFarOverBudgetDeliversEverythingInOrder() throws Exception {
        int n = 50_000;
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare("", false, true, false, null).getQueue();
            for (int i = 0; i < n; i++) {
                ch.basicPublish("", q, null, body(i));
            }
            assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(n);
            assertThat(spillBytes()).isGreaterThan(0);
            drainInOrder(ch, q, n);
        }
        broker.close();
        broker = null;
    }

    @Test
    void durableQueueOverBudgetSurvivesRestartInOrderWithTransientsGone() throws Exception {
        int n = 20_000;
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("long", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                ch.basicPublish("", "long", MessageProperties.PERSISTENT_BASIC, body(i));
                ch.basicPublish("", "long", MessageProperties.BASIC, "transient".getBytes());
            }
            ch.waitForConfirmsOrDie(30_000);
            assertThat(ch.queueDeclarePassive("long").getMessageCount()).isEqualTo(2 * n);
        }
        broker.restart();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            assertThat(ch.queueDeclarePassive("long").getMessageCount()).isEqualTo(n);
            GetResponse first = ch.basicGet("long", false);
            assertThat(first.getEnvelope().isRedeliver()).isTrue();
            assertThat(seq(first.getBody())).isZero();
            ch.basicReject(first.getEnvelope().getDeliveryTag(), true);
            drainInOrder(ch, "long", n);
        }
    }

    @Test
    void purgeAndDeleteOfALongQueueLeaveNothingBehind() throws Exception {
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("purged", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 10_000; i++) {
                ch.basicPublish("", "purged", MessageProperties.PERSISTENT_BASIC, body(i));
            }
            ch.waitForConfirmsOrDie(30_000);
            assertThat(ch.queuePurge("purged").getMessageCount()).isEqualTo(10_000);
            assertThat(ch.queueDeclarePassive("purged").getMessageCount()).isZero();
            ch.basicPublish("", "purged", MessageProperties.PERSISTENT_BASIC, body(0));
            ch.waitForConfirmsOrDie(5000);
        }
        broker.restart();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            assertThat(ch.queueDeclarePassive("purged").getMessageCount()).isEqualTo(1);
            ch.queueDelete("purged");
        }
    }

    private long spillBytes() throws Exception {
        Path spill = broker.dataDir().resolve("spill");
        if (!Files.exists(spill)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(spill)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
