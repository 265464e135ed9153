package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.warren.it.BrokerProcess;
import io.warren.it.ConfirmWindow;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * One message left in two durable queues does not keep its whole 64 MiB file of shared bodies on
 * disk: the file is compacted, and the message (its key in the queue logs unchanged) comes back
 * whole after a restart, clean or kill -9.
 */
class SharedBodyCompactionTest {
    private static final String EXCHANGE = "compact-fan";
    private static final List<String> QUEUES = List.of("compact-a", "compact-b");
    /** 64 KiB bodies: about 160 MiB in all, two and a half files of shared bodies. */
    private static final int MESSAGES = 2500;
    private static final int BODY = 64 * 1024;

    private final byte[] first = body(0);

    private static byte[] body(int n) {
        byte[] b = new byte[BODY];
        new Random(n).nextBytes(b);
        ByteBuffer.wrap(b).putInt(0, n);
        return b;
    }

    @Test
    void aHeldSharedBodyIsCompactedAndComesBackAfterARestart() throws Exception {
        try (RestartableBroker broker = new RestartableBroker("warren-body-compact")) {
            try (Connection c = broker.connect()) {
                fillThenTakeAllButTheFirst(c, broker.dataDir());
            }
            broker.restart();
            try (Connection c = broker.connect()) {
                assertOnlyTheFirstCameBack(c);
            }
        }
    }

    @Test
    void aHeldSharedBodyIsCompactedAndComesBackAfterKill9() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start()) {
            Connection c = broker.connect();
            try {
                fillThenTakeAllButTheFirst(c, broker.dataDir());
                assertThat(broker.log()).contains("Compacted shared body segment");
                broker.kill9();
            } finally {
                c.abort();
            }
            broker.restart();
            try (Connection again = broker.connect()) {
                assertOnlyTheFirstCameBack(again);
            }
        }
    }

    /**
     * Publishes with confirms; takes the first message of each queue (holding one unacked, putting
     * the other back), consumes and acks all the others, and waits until the shared bodies take a
     * few MiB at most.
     */
    private void fillThenTakeAllButTheFirst(Connection c, Path dataDir) throws Exception {
        Channel ch = c.createChannel();
        ch.exchangeDeclare(EXCHANGE, BuiltinExchangeType.FANOUT, true);
        for (String q : QUEUES) {
            ch.queueDeclare(q, true, false, false, null);
            ch.queueBind(q, EXCHANGE, "");
        }
        ConfirmWindow window = new ConfirmWindow(c.createChannel(), 200);
        for (int n = 0; n < MESSAGES; n++) {
            assertThat(window.publish(EXCHANGE, "", MessageProperties.PERSISTENT_BASIC, n == 0 ? first : body(n))).isTrue();
        }
        window.drain(120_000);
        assertThat(window.nacked()).isZero();
        assertThat(bodyBytes(dataDir)).isGreaterThan(128L << 20);

        Channel holder = c.createChannel();
        GetResponse heldA = holder.basicGet(QUEUES.get(0), false);
        GetResponse heldB = holder.basicGet(QUEUES.get(1), false);
        assertThat(heldA.getBody()).isEqualTo(first);
        assertThat(heldB.getBody()).isEqualTo(first);

        // A channel per queue: an ack with "multiple" covers every earlier delivery on its channel.
        List<Channel> drains = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(QUEUES.size());
        for (String q : QUEUES) {
            Channel drain = c.createChannel();
            drains.add(drain);
            drain.basicQos(200);
            AtomicInteger seen = new AtomicInteger();
            drain.basicConsume(q, false, (tag, d) -> {
                int n = seen.incrementAndGet();
                if (n % 100 == 0 || n == MESSAGES - 1) {
                    drain.basicAck(d.getEnvelope().getDeliveryTag(), true);
                }
                if (n == MESSAGES - 1) {
                    done.countDown();
                }
            }, tag -> { });
        }
        assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
        for (Channel drain : drains) {
            drain.close();
        }
        holder.basicReject(heldB.getEnvelope().getDeliveryTag(), true);

        // Left: the held body's copy, and copies of bodies taken while they were being copied, in
        // compaction's file (compacted in turn once it holds 4 MiB); far below the 64 MiB file
        // that the held body kept before.
        Awaitility.await().atMost(60, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(bodyBytes(dataDir)).isLessThan(5L << 20));
    }

    private void assertOnlyTheFirstCameBack(Connection c) throws IOException {
        Channel ch = c.createChannel();
        for (String q : QUEUES) {
            assertThat(ch.queueDeclarePassive(q).getMessageCount()).as(q).isEqualTo(1);
            GetResponse r = ch.basicGet(q, false);
            assertThat(r.getBody()).as(q).isEqualTo(first);
            assertThat(r.getEnvelope().isRedeliver()).as(q).isTrue();
            ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            assertThat(ch.basicGet(q, false)).as(q).isNull();
        }
    }

    private static long bodyBytes(Path dataDir) throws IOException {
        try (Stream<Path> files = Files.list(dataDir.resolve("bodies"))) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
