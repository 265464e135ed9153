package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import io.warren.it.BrokerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The broker in a process of its own, killed with SIGKILL at an arbitrary moment and started again
 * on the same data directory: what it confirmed, committed or did not see acked is all still there,
 * once and in order.
 */
class CrashRecoveryTest {
    private static final String QUEUE = "crash-q";

    /** A message as the drain after the restart saw it: its number (the body) and its redelivered flag. */
    private record Got(long n, boolean redelivered) {
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7, 1234, 987654321})
    void everyConfirmedMessageSurvivesKill9OnceAndInOrder(long seed) throws Exception {
        Random random = new Random(seed);
        long delayMillis = 200 + random.nextInt(1301);
        try (BrokerProcess broker = BrokerProcess.start()) {
            Set<Long> confirmed = new HashSet<>();
            AtomicInteger published = new AtomicInteger();
            Connection c = broker.connect();
            try {
                Channel ch = c.createChannel();
                ch.queueDeclare(QUEUE, true, false, false, null);
                ch.confirmSelect();
                ConcurrentSkipListSet<Long> outstanding = new ConcurrentSkipListSet<>();
                Semaphore window = new Semaphore(100);
                ch.addConfirmListener(new ConfirmListener() {
                    @Override
                    public void handleAck(long tag, boolean multiple) {
                        settle(tag, multiple, true);
                    }

                    @Override
                    public void handleNack(long tag, boolean multiple) {
                        settle(tag, multiple, false);
                    }

                    private void settle(long tag, boolean multiple, boolean ok) {
                        List<Long> settled = new ArrayList<>(multiple ? outstanding.headSet(tag, true) : List.of(tag));
                        synchronized (confirmed) {
                            for (Long seq : settled) {
                                if (outstanding.remove(seq)) {
                                    if (ok) {
                                        confirmed.add(seq);
                                    }
                                    window.release();
                                }
                            }
                        }
                    }
                });
                Thread publisher = new Thread(() -> {
                    try {
                        while (c.isOpen()) {
                            if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                                continue;
                            }
                            long seq = ch.getNextPublishSeqNo();
                            outstanding.add(seq);
                            ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body(seq));
                            published.incrementAndGet();
                        }
                    } catch (Exception e) {
                        // The broker died under us: that is the point.
                    }
                }, "crash-publisher");
                publisher.start();
                // The random moment of the crash: here the wait itself is what the test needs.
                TimeUnit.MILLISECONDS.sleep(delayMillis);
                broker.kill9();
                publisher.join(30_000);
                assertThat(publisher.isAlive()).isFalse();
            } finally {
                c.abort(); // the broker is dead: nothing to close politely
            }
            List<Long> confirmedSorted;
            synchronized (confirmed) {
                confirmedSorted = confirmed.stream().sorted().toList();
            }
            assertThat(confirmedSorted).as("confirms before the kill").isNotEmpty();

            broker.restart();
            List<Got> got = drain(broker, QUEUE);
            List<Long> numbers = got.stream().map(Got::n).toList();
            System.out.printf("[crash/confirms] seed %d: killed after %d ms; published %d, confirmed %d, recovered %d%n",
                    seed, delayMillis, published.get(), confirmedSorted.size(), numbers.size());
            assertStrictlyIncreasing(numbers);
            assertThat(numbers).as("every confirmed message is back").containsAll(confirmedSorted);
            // The log is append-only and a kill keeps what was written: what comes back is a prefix.
            assertThat(numbers).as("no gaps").allSatisfy(n -> assertThat(n).isBetween(1L, (long) numbers.size()));
            assertThat(got).as("recovered messages are flagged redelivered").allMatch(Got::redelivered);
            assertThat(broker.log()).contains("Recovered");
        }
    }

    @Test
    void unackedMessagesSurviveKill9MidConsumeAndComeBackRedelivered() throws Exception {
        int total = 20_000;
        Random random = new Random(42);
        int killAfter = 5_000 + random.nextInt(10_000);
        try (BrokerProcess broker = BrokerProcess.start()) {
            prefill(broker, total);
            Set<Long> acked = new ConcurrentSkipListSet<>();
            Set<Long> delivered = new ConcurrentSkipListSet<>();
            CountDownLatch halfway = new CountDownLatch(1);
            Connection c = broker.connect();
            try {
                Channel ch = c.createChannel();
                ch.basicQos(500);
                ch.basicConsume(QUEUE, false, new DefaultConsumer(ch) {
                    @Override
                    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                            throws IOException {
                        long n = number(body);
                        delivered.add(n);
                        // Every 50th is left unacked (delivered, never settled; at most 300 of the 500 prefetch).
                        if (n % 50 != 0) {
                            ch.basicAck(env.getDeliveryTag(), false);
                            acked.add(n);
                        }
                        if (delivered.size() >= killAfter) {
                            halfway.countDown();
                        }
                    }
                });
                assertThat(halfway.await(60, TimeUnit.SECONDS)).isTrue();
                broker.kill9();
            } finally {
                c.abort(); // the broker is dead: nothing to close politely
            }
            broker.restart();
            List<Got> got = drain(broker, QUEUE);
            List<Long> numbers = got.stream().map(Got::n).toList();
            Set<Long> back = new HashSet<>(numbers);
            long duplicates = numbers.stream().filter(acked::contains).count();
            long deliveredUnacked = delivered.stream().filter(n -> !acked.contains(n)).count();
            System.out.printf("[crash/consume] killed after %d deliveries: delivered %d, acked %d, delivered but unacked %d;"
                            + " recovered %d, of which %d had been acked (ack not yet recorded at the kill)%n",
                    killAfter, delivered.size(), acked.size(), deliveredUnacked, numbers.size(), duplicates);
            assertStrictlyIncreasing(numbers);
            for (long n = 1; n <= total; n++) {
                if (!acked.contains(n)) {
                    assertThat(back).as("message %d was never acked", n).contains(n);
                }
            }
            assertThat(got).as("recovered messages are flagged redelivered").allMatch(Got::redelivered);
            // Acks the client sent but the broker had not yet written: bounded by what was in flight.
            assertThat(duplicates).isLessThanOrEqualTo(1_000);
        }
    }

    @Test
    void committedTransactionsSurviveKill9() throws Exception {
        long delayMillis = 200 + new Random(99).nextInt(1301);
        try (BrokerProcess broker = BrokerProcess.start()) {
            List<Long> committed = new ArrayList<>();
            AtomicInteger commits = new AtomicInteger();
            Connection c = broker.connect();
            try {
                Channel ch = c.createChannel();
                ch.queueDeclare(QUEUE, true, false, false, null);
                ch.txSelect();
                Thread publisher = new Thread(() -> {
                    long next = 1;
                    try {
                        while (c.isOpen()) {
                            List<Long> batch = new ArrayList<>();
                            for (int i = 0; i < 5; i++, next++) {
                                ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body(next));
                                batch.add(next);
                            }
                            ch.txCommit();
                            synchronized (committed) {
                                committed.addAll(batch);
                            }
                            commits.incrementAndGet();
                        }
                    } catch (Exception e) {
                        // The broker died under us.
                    }
                }, "crash-tx-publisher");
                publisher.start();
                // The random moment of the crash.
                TimeUnit.MILLISECONDS.sleep(delayMillis);
                broker.kill9();
                publisher.join(30_000);
                assertThat(publisher.isAlive()).isFalse();
            } finally {
                c.abort(); // the broker is dead: nothing to close politely
            }
            List<Long> committedCopy;
            synchronized (committed) {
                committedCopy = List.copyOf(committed);
            }
            assertThat(committedCopy).isNotEmpty();
            broker.restart();
            List<Long> numbers = drain(broker, QUEUE).stream().map(Got::n).toList();
            System.out.printf("[crash/tx] killed after %d ms: %d commits (%d messages), recovered %d%n",
                    delayMillis, commits.get(), committedCopy.size(), numbers.size());
            assertStrictlyIncreasing(numbers);
            assertThat(numbers).containsAll(committedCopy);
        }
    }

    /**
     * Large bodies routed to two durable queues are stored once and shared. One queue takes and acks
     * all of them before the kill; the other must still have every one after the restart, whichever
     * queue recovery reads first.
     */
    @ParameterizedTest(name = "{0} drained")
    @ValueSource(strings = {"shared-a", "shared-b"})
    void sharedBodiesSurviveKill9WhenTheOtherQueueAckedThem(String drained) throws Exception {
        int total = 50;
        try (BrokerProcess broker = BrokerProcess.start()) {
            Connection c = broker.connect();
            try {
                Channel ch = c.createChannel();
                ch.exchangeDeclare("shared-fan", "fanout", true);
                for (String q : List.of("shared-a", "shared-b")) {
                    ch.queueDeclare(q, true, false, false, null);
                    ch.queueBind(q, "shared-fan", "");
                }
                ch.confirmSelect();
                for (long n = 1; n <= total; n++) {
                    byte[] body = java.util.Arrays.copyOf(body(n), 8192); // zero-padded: big enough to be shared
                    ch.basicPublish("shared-fan", "", MessageProperties.PERSISTENT_BASIC, body);
                }
                ch.waitForConfirmsOrDie(10_000);
                for (int i = 0; i < total; i++) {
                    ch.basicAck(ch.basicGet(drained, false).getEnvelope().getDeliveryTag(), false);
                }
                assertThat(ch.basicGet(drained, false)).isNull();
                broker.kill9();
            } finally {
                c.abort();
            }
            broker.restart();
            String other = drained.equals("shared-a") ? "shared-b" : "shared-a";
            List<Long> numbers = drain(broker, other).stream().map(Got::n).toList();
            assertThat(numbers).as(other + " after " + drained + " acked everything\n" + broker.log())
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
            // Ack records reach the log within a few milliseconds (as in RabbitMQ, a lost ack only
            // means a redelivery): acks from just before the kill may come back, redelivered.
            assertThat(drain(broker, drained)).allSatisfy(got -> assertThat(got.redelivered()).isTrue());
        }
    }

    /** declare-ok means the queue is in definitions.json: a kill right after it must not lose the queue. */
    @Test
    void aDeclaredQueueIsOnDiskWhenDeclareOkArrives() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            java.nio.file.Path definitions = broker.dataDir().resolve("definitions.json");
            for (int i = 0; i < 200; i++) {
                ch.queueDeclare("declared-" + i, true, false, false, null);
                assertThat(java.nio.file.Files.readString(definitions)).as("after declare-ok of declared-%d", i)
                        .contains("\"declared-" + i + "\"");
            }
        }
    }

    private static void prefill(BrokerProcess broker, int total) throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            ch.confirmSelect();
            for (long n = 1; n <= total; n++) {
                ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body(n));
                if (n % 1000 == 0) {
                    ch.waitForConfirmsOrDie(30_000);
                }
            }
            ch.waitForConfirmsOrDie(30_000);
        }
    }

    /** Takes everything in the queue (the count at the start), with auto-ack. */
    static List<Got> drain(BrokerProcess broker, String queue) throws Exception {
        List<Got> got = new ArrayList<>();
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            int count = ch.queueDeclarePassive(queue).getMessageCount();
            BlockingQueue<Got> inbox = new LinkedBlockingQueue<>();
            ch.basicConsume(queue, true, new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                    inbox.add(new Got(number(body), env.isRedeliver()));
                }
            });
            while (got.size() < count) {
                Got g = inbox.poll(10, TimeUnit.SECONDS);
                assertThat(g).as("delivery %d of %d", got.size() + 1, count).isNotNull();
                got.add(g);
            }
            assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isZero();
        }
        return got;
    }

    private static void assertStrictlyIncreasing(List<Long> numbers) {
        for (int i = 1; i < numbers.size(); i++) {
            if (numbers.get(i) <= numbers.get(i - 1)) {
                throw new AssertionError("out of order or duplicated at position " + i + ": " + numbers.get(i - 1)
                        + " then " + numbers.get(i));
            }
        }
    }

    static byte[] body(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    /** The number at the start of a body (which may be padded after it). */
    static long number(byte[] body) {
        int end = 0;
        while (end < body.length && body[end] >= '0' && body[end] <= '9') {
            end++;
        }
        return Long.parseLong(new String(body, 0, end, StandardCharsets.US_ASCII));
    }
}
