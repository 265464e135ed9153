package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import io.warren.it.BrokerTest;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dead-lettering as RabbitMQ does it: reasons, the x-death history, routing keys, cycles. */
class DeadLetterTest extends BrokerTest {
    private static GetResponse awaitMessage(Channel ch, String q) {
        return await().atMost(Duration.ofSeconds(5)).until(() -> ch.basicGet(q, true), r -> r != null);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> deaths(GetResponse r) {
        return (List<Map<String, Object>>) r.getProps().getHeaders().get("x-death");
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    @Test
    void rejectedMessagesGoToTheDeadLetterExchangeWithXDeath() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-rejected");
        String q = ch.queueDeclare("dl-source", false, true, false, Map.of("x-dead-letter-exchange", "dlx-rejected")).getQueue();
        ch.basicPublish("", q, new AMQP.BasicProperties.Builder().expiration("60000").build(), "m".getBytes());
        GetResponse got = ch.basicGet(q, false);
        ch.basicReject(got.getEnvelope().getDeliveryTag(), false);

        GetResponse r = awaitMessage(ch, dead);
        assertThat(new String(r.getBody())).isEqualTo("m");
        assertThat(r.getEnvelope().getExchange()).isEqualTo("dlx-rejected");
        assertThat(r.getEnvelope().getRoutingKey()).isEqualTo(q);
        assertThat(r.getProps().getExpiration()).isNull();
        Map<String, Object> death = deaths(r).get(0);
        assertThat(death.get("count")).isEqualTo(1L);
        assertThat(str(death.get("reason"))).isEqualTo("rejected");
        assertThat(str(death.get("queue"))).isEqualTo(q);
        assertThat(str(death.get("exchange"))).isEqualTo("");
        assertThat(str(death.get("original-expiration"))).isEqualTo("60000");
        assertThat(((List<?>) death.get("routing-keys"))).extracting(Object::toString).containsExactly(q);
        assertThat(death.get("time")).isInstanceOf(Date.class);
        Map<String, Object> headers = r.getProps().getHeaders();
        assertThat(str(headers.get("x-first-death-reason"))).isEqualTo("rejected");
        assertThat(str(headers.get("x-first-death-queue"))).isEqualTo(q);
        assertThat(str(headers.get("x-first-death-exchange"))).isEqualTo("");
        assertThat(str(headers.get("x-last-death-reason"))).isEqualTo("rejected");
    }

    @Test
    void expiredMessagesAreDeadLetteredWithTheQueuesRoutingKey() throws Exception {
        Channel ch = connect().createChannel();
        ch.exchangeDeclare("dlx-expired", BuiltinExchangeType.DIRECT);
        String dead = ch.queueDeclare().getQueue();
        ch.queueBind(dead, "dlx-expired", "expired-key");
        ch.queueDeclare("dl-expiring", false, true, false, Map.of("x-message-ttl", 50,
                "x-dead-letter-exchange", "dlx-expired", "x-dead-letter-routing-key", "expired-key"));
        ch.basicPublish("", "dl-expiring", null, "e".getBytes());
        GetResponse r = awaitMessage(ch, dead);
        assertThat(r.getEnvelope().getRoutingKey()).isEqualTo("expired-key");
        assertThat(str(deaths(r).get(0).get("reason"))).isEqualTo("expired");
        assertThat(((List<?>) deaths(r).get(0).get("routing-keys"))).extracting(Object::toString).containsExactly("dl-expiring");
    }

    @Test
    void nackWithoutRequeueDeadLettersAndRequeueDoesNot() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-nack");
        String q = ch.queueDeclare("", false, true, false, Map.of("x-dead-letter-exchange", "dlx-nack")).getQueue();
        ch.basicPublish("", q, null, "1".getBytes());
        ch.basicPublish("", q, null, "2".getBytes());
        GetResponse first = ch.basicGet(q, false);
        ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true);
        assertThat(ch.messageCount(dead)).isZero();
        GetResponse again = ch.basicGet(q, false);
        GetResponse second = ch.basicGet(q, false);
        ch.basicNack(second.getEnvelope().getDeliveryTag(), true, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(dead) == 2);
        assertThat(new String(again.getBody())).isEqualTo("1");
    }

    @Test
    void xDeathCountsRepeatsOfTheSameQueueAndReason() throws Exception {
        Channel ch = connect().createChannel();
        // A retry loop: work -> (rejected) -> retry with TTL -> (expired) -> work.
        ch.exchangeDeclare("dlx-work", BuiltinExchangeType.DIRECT);
        ch.exchangeDeclare("dlx-retry", BuiltinExchangeType.DIRECT);
        ch.queueDeclare("loop-work", false, true, false, Map.of("x-dead-letter-exchange", "dlx-retry"));
        ch.queueDeclare("loop-retry", false, true, false, Map.of("x-dead-letter-exchange", "dlx-work", "x-message-ttl", 20));
        ch.queueBind("loop-work", "dlx-work", "loop-work");
        ch.queueBind("loop-retry", "dlx-retry", "loop-work");
        ch.basicPublish("", "loop-work", null, "job".getBytes());
        GetResponse r = null;
        for (int round = 0; round < 3; round++) {
            r = await().atMost(Duration.ofSeconds(5)).until(() -> ch.basicGet("loop-work", false), x -> x != null);
            ch.basicReject(r.getEnvelope().getDeliveryTag(), false);
        }
        r = awaitMessage(ch, "loop-work");
        List<Map<String, Object>> deaths = deaths(r);
        assertThat(deaths).hasSize(2);
        assertThat(str(deaths.get(0).get("queue"))).isEqualTo("loop-retry");
        assertThat(str(deaths.get(0).get("reason"))).isEqualTo("expired");
        assertThat(deaths.get(0).get("count")).isEqualTo(3L);
        assertThat(str(deaths.get(1).get("queue"))).isEqualTo("loop-work");
        assertThat(deaths.get(1).get("count")).isEqualTo(3L);
        assertThat(str(r.getProps().getHeaders().get("x-first-death-reason"))).isEqualTo("rejected");
        assertThat(str(r.getProps().getHeaders().get("x-last-death-reason"))).isEqualTo("expired");
    }

    @Test
    void anAutomaticCycleIsDroppedAsInRabbitMq() throws Exception {
        Channel ch = connect().createChannel();
        // Expires into the default exchange with its own name: back to itself with no rejection in between.
        ch.queueDeclare("dl-cycle", false, true, false, Map.of("x-message-ttl", 20,
                "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "dl-cycle"));
        ch.basicPublish("", "dl-cycle", null, "c".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount("dl-cycle") == 0);
        Thread.sleep(100); // a cycle would bring it back within the TTL
        assertThat(ch.messageCount("dl-cycle")).isZero();
    }

    @Test
    void aMissingDeadLetterExchangeDropsSilently() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-dead-letter-exchange", "no-such-dlx")).getQueue();
        ch.basicPublish("", q, null, "m".getBytes());
        GetResponse r = ch.basicGet(q, false);
        ch.basicReject(r.getEnvelope().getDeliveryTag(), false);
        assertThat(ch.messageCount(q)).isZero();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void headersOfTheOriginalAreKept() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-headers");
        String q = ch.queueDeclare("", false, true, false, Map.of("x-dead-letter-exchange", "dlx-headers")).getQueue();
        ch.basicPublish("", q, new AMQP.BasicProperties.Builder().headers(Map.of("app", "kept")).contentType("text/plain")
                .deliveryMode(2).build(), "m".getBytes());
        GetResponse got = ch.basicGet(q, false);
        ch.basicReject(got.getEnvelope().getDeliveryTag(), false);
        GetResponse r = awaitMessage(ch, dead);
        assertThat(r.getProps().getHeaders().get("app")).isInstanceOf(LongString.class).hasToString("kept");
        assertThat(r.getProps().getContentType()).isEqualTo("text/plain");
        assertThat(r.getProps().getDeliveryMode()).isEqualTo(2);
    }
}
