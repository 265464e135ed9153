package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Alternate exchanges: what an exchange cannot route goes to its alternate, and is not returned. */
class AlternateExchangeTest extends BrokerTest {
    @Test
    void unroutableMessagesGoToTheAlternateExchangeAndAreNotReturned() throws Exception {
        Channel ch = connect().createChannel();
        ch.exchangeDeclare("ae-fallback", BuiltinExchangeType.FANOUT);
        ch.exchangeDeclare("ae-main", BuiltinExchangeType.DIRECT, false, false, Map.of("alternate-exchange", "ae-fallback"));
        String routed = ch.queueDeclare().getQueue();
        String unrouted = ch.queueDeclare().getQueue();
        ch.queueBind(routed, "ae-main", "known");
        ch.queueBind(unrouted, "ae-fallback", "");
        BlockingQueue<Integer> returns = new ArrayBlockingQueue<>(10);
        ch.addReturnListener(r -> returns.add(r.getReplyCode()));

        ch.basicPublish("ae-main", "known", true, null, "a".getBytes());
        ch.basicPublish("ae-main", "unknown", true, null, "b".getBytes());
        ch.confirmSelect();
        ch.waitForConfirmsOrDie(5000);

        GetResponse r1 = ch.basicGet(routed, true);
        GetResponse r2 = ch.basicGet(unrouted, true);
        assertThat(new String(r1.getBody())).isEqualTo("a");
        assertThat(new String(r2.getBody())).isEqualTo("b");
        assertThat(r2.getEnvelope().getExchange()).isEqualTo("ae-main");
        assertThat(r2.getEnvelope().getRoutingKey()).isEqualTo("unknown");
        assertThat(ch.basicGet(unrouted, true)).isNull();
        assertThat(returns.poll(200, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void aMissingOrUnroutingAlternateStillReturnsMandatoryMessages() throws Exception {
        Channel ch = connect().createChannel();
        ch.exchangeDeclare("ae-missing-main", BuiltinExchangeType.DIRECT, false, false,
                Map.of("alternate-exchange", "ae-does-not-exist"));
        BlockingQueue<Integer> returns = new ArrayBlockingQueue<>(10);
        ch.addReturnListener(r -> returns.add(r.getReplyCode()));
        ch.basicPublish("ae-missing-main", "x", true, null, "c".getBytes());
        assertThat(returns.poll(5, TimeUnit.SECONDS)).isEqualTo(312);
    }
}
