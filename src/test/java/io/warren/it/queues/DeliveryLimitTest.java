package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** x-delivery-limit on classic queues (RabbitMQ has it on quorum queues only): poison messages stop looping. */
class DeliveryLimitTest extends BrokerTest {
    @Test
    void aMessageRequeuedMoreThanTheLimitIsDeadLettered() throws Exception {
        Channel ch = connect().createChannel();
        String dead = DeadLetterTarget.behind(ch, "dlx-poison");
        String q = ch.queueDeclare("", false, true, false, Map.of("x-delivery-limit", 2,
                "x-dead-letter-exchange", "dlx-poison")).getQueue();
        ch.basicPublish("", q, null, "poison".getBytes());
        GetResponse first = ch.basicGet(q, false);
        assertThat(first.getProps().getHeaders()).isNull();
        ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true);
        GetResponse second = ch.basicGet(q, false);
        assertThat(second.getProps().getHeaders()).containsEntry("x-delivery-count", 1L);
        ch.basicNack(second.getEnvelope().getDeliveryTag(), false, true);
        GetResponse third = ch.basicGet(q, false);
        assertThat(third.getProps().getHeaders()).containsEntry("x-delivery-count", 2L);
        ch.basicNack(third.getEnvelope().getDeliveryTag(), false, true);

        GetResponse r = await().atMost(Duration.ofSeconds(5)).until(() -> ch.basicGet(dead, true), x -> x != null);
        @SuppressWarnings("unchecked")
        var death = ((List<Map<String, Object>>) r.getProps().getHeaders().get("x-death")).get(0);
        assertThat(death.get("reason").toString()).isEqualTo("delivery_limit");
        assertThat(ch.messageCount(q)).isZero();
    }
}
