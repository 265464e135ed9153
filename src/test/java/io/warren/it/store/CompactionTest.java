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
import org.awaitility.Awaitility;

/** A message left unacked does not keep its whole (otherwise settled) segment on disk. */
class CompactionTest extends InProcessStoreTest {

    private long queueBytes() throws Exception {
        try (Stream<Path> files = Files.walk(broker.dataDir().resolve("queues"))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "queue memory budget {0} bytes")
    @org.junit.jupiter.params.provider.ValueSource(longs = {32L << 20, 64 * 1024})
    void sparseSegmentsAreCompactedAndTheMovedMessageSurvivesRestartInOrder(long budget) throws Exception {
        broker = new RestartableBroker("warren-compact", c -> c.queueMemoryBytes(budget));
        int n = 250_000;
        byte[] body = new byte[100];
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("compact", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                ch.basicPublish("", "compact", MessageProperties.PERSISTENT_BASIC,
                        ByteBuffer.wrap(body).putInt(0, i).array());
            }
            ch.waitForConfirmsOrDie(60_000);
            long full = queueBytes();
            assertThat(full).isGreaterThan(32L << 20);

            // Hold the first message unacked on one channel; drain and ack everything else.
            Channel holder = c.createChannel();
            GetResponse held = holder.basicGet("compact", false);
            assertThat(ByteBuffer.wrap(held.getBody()).getInt(0)).isZero();
            Channel drain = c.createChannel();
            drain.basicQos(500);
            CountDownLatch done = new CountDownLatch(1);
            AtomicLong seen = new AtomicLong();
            drain.basicConsume("compact", false, (tag, d) -> {
                if (seen.incrementAndGet() % 100 == 0 || seen.get() == n - 1) {
                    drain.basicAck(d.getEnvelope().getDeliveryTag(), true);
                }
                if (seen.get() == n - 1) {
                    done.countDown();
                }
            }, tag -> { });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            // Only the held message is live: its segment is compacted and the settled ones go.
            Awaitility.await().atMost(10, TimeUnit.SECONDS)
                    .untilAsserted(() -> assertThat(queueBytes()).isLessThan(16L << 20));
        }
        broker.restart();
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            assertThat(ch.queueDeclarePassive("compact").getMessageCount()).isEqualTo(1);
            GetResponse r = ch.basicGet("compact", true);
            assertThat(ByteBuffer.wrap(r.getBody()).getInt(0)).isZero();
            assertThat(r.getEnvelope().isRedeliver()).isTrue();
        }
    }
}
