package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import io.warren.it.BrokerProcess;
import io.warren.it.ConfirmWindow;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * How long a broker with a million persistent messages in 100 durable queues takes to come back
 * after kill -9: from launching the process until it accepts connections and every queue has its
 * count. A measurement more than a test (it asserts only that everything is back and prints the
 * times); about 35 s in all on a 2-core machine, most of it publishing, so it stays in the default run.
 */
class RestartTimeTest {
    private static final int QUEUES = 100;
    private static final int PER_QUEUE = 10_000;
    private static final int CONNECTIONS = 4;

    @Test
    void millionMessagesIn100QueuesComeBackAfterKill9() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start()) {
            long publishStart = System.nanoTime();
            publish(broker);
            double publishSeconds = (System.nanoTime() - publishStart) / 1e9;
            broker.kill9();

            long start = System.nanoTime();
            broker.restart();
            double acceptSeconds = (System.nanoTime() - start) / 1e9;
            long total = 0;
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                for (int q = 0; q < QUEUES; q++) {
                    int count = ch.queueDeclarePassive(queue(q)).getMessageCount();
                    assertThat(count).as(queue(q)).isEqualTo(PER_QUEUE);
                    total += count;
                }
            }
            double countedSeconds = (System.nanoTime() - start) / 1e9;
            Matcher recovered = Pattern.compile("Recovered .* in \\d+ ms").matcher(broker.log());
            String line = recovered.find() ? recovered.group() : "(no recovery line in the log)";
            System.out.printf("[restart-time] %d queues x %d persistent 16-byte messages: published with confirms in %.1f s; "
                            + "after kill -9, accepting connections %.2f s after launch (JVM start included), all %d "
                            + "counted after %.2f s; broker says: %s%n",
                    QUEUES, PER_QUEUE, publishSeconds, acceptSeconds, total, countedSeconds, line);
            assertThat(total).isEqualTo((long) QUEUES * PER_QUEUE);
        }
    }

    private static String queue(int q) {
        return "restart-" + q;
    }

    /** Each connection fills its share of the queues, round robin, with up to 1000 unconfirmed. */
    private static void publish(BrokerProcess broker) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < CONNECTIONS; t++) {
            int first = t;
            Thread thread = new Thread(() -> {
                try (Connection c = broker.connect()) {
                    Channel ch = c.createChannel();
                    List<String> mine = new ArrayList<>();
                    for (int q = first; q < QUEUES; q += CONNECTIONS) {
                        ch.queueDeclare(queue(q), true, false, false, null);
                        mine.add(queue(q));
                    }
                    ConfirmWindow window = new ConfirmWindow(ch, 1000);
                    byte[] body = new byte[16];
                    for (int i = 0; i < PER_QUEUE; i++) {
                        for (String q : mine) {
                            window.publish("", q, MessageProperties.PERSISTENT_BASIC, body);
                        }
                    }
                    window.drain(120_000);
                    assertThat(window.nacked()).isZero();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "restart-publisher-" + t);
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
    }
}
