package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import io.warren.it.BrokerTest;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** x-max-length, x-max-length-bytes and x-overflow, as RabbitMQ's classic queues. */
class LengthLimitTest extends BrokerTest {
    private static List<String> drain(Channel ch, String q) throws IOException {
        List<String> bodies = new ArrayList<>();
        for (var r = ch.basicGet(q, true); r != null; r = ch.basicGet(q, true)) {
            bodies.add(new String(r.getBody()));
        }
        return bodies;
    }

    @Test
    void dropHeadKeepsTheNewestAndDeadLettersTheRest() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-maxlen");
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-length", 3,
                "x-dead-letter-exchange", "dlx-maxlen")).getQueue();
        for (int i = 1; i <= 5; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes());
        }
        assertThat(ch.messageCount(q)).isEqualTo(3);
        assertThat(drain(ch, q)).containsExactly("m3", "m4", "m5");
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(dead) == 2);
        var r = ch.basicGet(dead, true);
        assertThat(new String(r.getBody())).isEqualTo("m1");
        @SuppressWarnings("unchecked")
        var death = ((List<Map<String, Object>>) r.getProps().getHeaders().get("x-death")).get(0);
        assertThat(death.get("reason").toString()).isEqualTo("maxlen");
    }

    @Test
    void maxLengthBytesCountsBodyBytes() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-length-bytes", 10)).getQueue();
        ch.basicPublish("", q, null, "12345".getBytes());
        ch.basicPublish("", q, null, "67890".getBytes());
        ch.basicPublish("", q, null, "abc".getBytes());
        assertThat(drain(ch, q)).containsExactly("67890", "abc");
    }

    @Test
    void unackedMessagesDoNotCountTowardsTheLimit() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-length", 1)).getQueue();
        ch.basicPublish("", q, null, "a".getBytes());
        var a = ch.basicGet(q, false);
        ch.basicPublish("", q, null, "b".getBytes());
        assertThat(ch.messageCount(q)).isEqualTo(1);
        ch.basicReject(a.getEnvelope().getDeliveryTag(), true);
        // Requeued "a" makes two: the head ("a") goes, as in RabbitMQ.
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 1);
        assertThat(drain(ch, q)).containsExactly("b");
    }

    @Test
    void rejectPublishNacksWhatDoesNotFitAndKeepsTheRest() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-length", 2, "x-overflow", "reject-publish")).getQueue();
        ch.confirmSelect();
        ConcurrentSkipListSet<Long> acked = new ConcurrentSkipListSet<>();
        ConcurrentSkipListSet<Long> nacked = new ConcurrentSkipListSet<>();
        CountDownLatch all = new CountDownLatch(4);
        ch.addConfirmListener((tag, multiple) -> confirm(acked, tag, multiple, all, nacked),
                (tag, multiple) -> confirm(nacked, tag, multiple, all, acked));
        for (int i = 1; i <= 4; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes());
        }
        assertThat(all.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(acked).containsExactly(1L, 2L);
        assertThat(nacked).containsExactly(3L, 4L);
        assertThat(drain(ch, q)).containsExactly("m1", "m2");
    }

    private static void confirm(ConcurrentSkipListSet<Long> into, long tag, boolean multiple, CountDownLatch all,
                                ConcurrentSkipListSet<Long> other) {
        long from = multiple ? 1 : tag;
        for (long t = from; t <= tag; t++) {
            if (!other.contains(t) && into.add(t)) {
                all.countDown();
            }
        }
    }

    @Test
    void rejectPublishDlxDeadLettersTheRefusedMessage() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-reject-publish");
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish-dlx",
                "x-dead-letter-exchange", "dlx-reject-publish")).getQueue();
        ch.basicPublish("", q, null, "kept".getBytes());
        ch.basicPublish("", q, null, "refused".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(dead) == 1);
        assertThat(drain(ch, dead)).containsExactly("refused");
        assertThat(drain(ch, q)).containsExactly("kept");
    }

    @Test
    void badLimitsAreRefused() throws Exception {
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-limit", false, false, true, Map.of("x-max-length", -1)))
                .cause().hasMessageContaining("invalid arg 'x-max-length' for queue 'bad-limit' in vhost '/': {value_negative,-1}");
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-limit", false, false, true, Map.of("x-overflow", "drop-tail")))
                .cause().hasMessageContaining("invalid arg 'x-overflow' for queue 'bad-limit' in vhost '/': invalid_overflow");
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-limit", false, false, true,
                Map.of("x-dead-letter-routing-key", "k")))
                .cause().hasMessageContaining("invalid arg 'x-dead-letter-routing-key' for queue 'bad-limit' in vhost '/': "
                        + "routing_key_but_no_dlx_defined");
    }
}
