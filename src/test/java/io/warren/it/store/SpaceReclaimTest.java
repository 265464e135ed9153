package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import io.warren.it.BrokerProcess;
import io.warren.it.ConfirmWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Acked messages give their disk space back: after several 16 MiB segments' worth of persistent
 * messages have gone through a durable queue and been acked, at most the segment being written is
 * left. The broker runs in its own process (production speed, no leak tracking).
 */
class SpaceReclaimTest {
    private static final String QUEUE = "reclaim-q";
    private static final int MESSAGES = 300_000;
    private static final long SEGMENT_SIZE = 16L << 20;

    @Test
    void ackedSegmentsAreDeleted() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(); Connection pc = broker.connect(); Connection cc = broker.connect()) {
            Channel pub = pc.createChannel();
            pub.queueDeclare(QUEUE, true, false, false, null);
            Path queueDir = onlyQueueDir(broker.dataDir());
            long before = broker.queuesSize();

            // Fill first, so that the backlog spans several segments; then drain it.
            long start = System.nanoTime();
            ConfirmWindow window = new ConfirmWindow(pub, 1000);
            byte[] body = new byte[100];
            for (int i = 0; i < MESSAGES; i++) {
                window.publish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body);
            }
            window.drain(60_000);
            double publishSeconds = (System.nanoTime() - start) / 1e9;
            int filled = segments(queueDir).size();
            long peak = broker.queuesSize();
            assertThat(filled).as("segments holding the backlog").isGreaterThanOrEqualTo(3);

            start = System.nanoTime();
            Channel sub = cc.createChannel();
            sub.basicQos(1000);
            CountDownLatch allAcked = new CountDownLatch(1);
            AtomicLong received = new AtomicLong();
            sub.basicConsume(QUEUE, false, new DefaultConsumer(sub) {
                @Override
                public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                        throws IOException {
                    long n = received.incrementAndGet();
                    if (n % 100 == 0 || n == MESSAGES) {
                        sub.basicAck(env.getDeliveryTag(), true);
                    }
                    if (n == MESSAGES) {
                        allAcked.countDown();
                    }
                }
            });
            assertThat(allAcked.await(120, TimeUnit.SECONDS)).as("consumer got all %d", MESSAGES).isTrue();
            double consumeSeconds = (System.nanoTime() - start) / 1e9;

            // Acks reach the log on the queue thread after basic.ack arrives: wait for the last trim.
            await().atMost(Duration.ofSeconds(30)).until(() -> segments(queueDir).size() <= 1);
            double reclaimSeconds = (System.nanoTime() - start) / 1e9;
            List<Path> left = segments(queueDir);
            long after = broker.queuesSize();
            System.out.printf("[space-reclaim] %d x 100-byte persistent messages: published and confirmed in %.1f s "
                            + "(%d segments, %d bytes); consumed and acked in %.1f s, space back %.1f s after the "
                            + "consumer started; left: %s, %d bytes (before: %d)%n",
                    MESSAGES, publishSeconds, filled, peak, consumeSeconds, reclaimSeconds,
                    left.stream().map(p -> p.getFileName().toString()).toList(), after, before);
            assertThat(window.nacked()).isZero();
            // Several segments were written (their numbers say so), and all but the current one are gone.
            assertThat(left).hasSize(1);
            assertThat(Long.parseLong(left.get(0).getFileName().toString().replace(".seg", ""))).isGreaterThanOrEqualTo(2);
            assertThat(after).isLessThanOrEqualTo(before + SEGMENT_SIZE + 4096);
            assertThat(pub.queueDeclarePassive(QUEUE).getMessageCount()).isZero();
        }
    }

    private static Path onlyQueueDir(Path dataDir) throws IOException {
        try (Stream<Path> dirs = Files.list(dataDir.resolve("queues"))) {
            List<Path> all = dirs.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    private static List<Path> segments(Path queueDir) throws IOException {
        try (Stream<Path> files = Files.list(queueDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
    }
}
