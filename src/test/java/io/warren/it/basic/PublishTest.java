package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** basic.publish: routing, mandatory returns, missing exchanges, and the unsupported immediate flag. */
@Timeout(60)
class PublishTest extends BrokerTest {
    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("publish-" + UUID.randomUUID(), false, false, false, null).getQueue();
    }

    /** Waits for the broker to close the channel and returns why. */
    private static AMQP.Channel.Close awaitChannelClose(Channel ch) {
        await().atMost(Duration.ofSeconds(5)).until(() -> !ch.isOpen());
        ShutdownSignalException s = ch.getCloseReason();
        assertThat(s.isHardError()).as("channel error expected, got " + s.getReason()).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }

    @Test
    void defaultExchangeRoutesByQueueName() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicPublish("", q, null, "direct to queue".getBytes(StandardCharsets.UTF_8));

        GetResponse r = ch.basicGet(q, true);
        assertThat(r).isNotNull();
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("direct to queue");
        assertThat(r.getEnvelope().getExchange()).isEmpty();
        assertThat(r.getEnvelope().getRoutingKey()).isEqualTo(q);
    }

    @Test
    void defaultExchangeDropsMessagesForMissingQueues() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicPublish("", q + "-not-a-queue", null, new byte[] {1});
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void mandatoryUnroutableMessageIsReturned() throws Exception {
        Channel ch = connect().createChannel();
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        ch.addReturnListener(returns::add);
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                .contentType("text/plain").messageId("r-1").build();

        ch.basicPublish("amq.direct", "nobody-bound-" + UUID.randomUUID(), true, props, "back".getBytes());

        Return r = returns.poll(5, TimeUnit.SECONDS);
        assertThat(r).isNotNull();
        assertThat(r.getReplyCode()).isEqualTo(AMQP.NO_ROUTE);
        assertThat(r.getReplyText()).isEqualTo("NO_ROUTE");
        assertThat(r.getExchange()).isEqualTo("amq.direct");
        assertThat(r.getRoutingKey()).startsWith("nobody-bound-");
        assertThat(r.getBody()).isEqualTo("back".getBytes());
        assertThat(r.getProperties().getContentType()).isEqualTo("text/plain");
        assertThat(r.getProperties().getMessageId()).isEqualTo("r-1");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void mandatoryToAMissingQueueOnTheDefaultExchangeIsReturned() throws Exception {
        Channel ch = connect().createChannel();
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        ch.addReturnListener(returns::add);
        String missing = "missing-" + UUID.randomUUID();

        ch.basicPublish("", missing, true, null, new byte[0]);

        Return r = returns.poll(5, TimeUnit.SECONDS);
        assertThat(r).isNotNull();
        assertThat(r.getReplyCode()).isEqualTo(312);
        assertThat(r.getExchange()).isEmpty();
        assertThat(r.getRoutingKey()).isEqualTo(missing);
        assertThat(r.getBody()).isEmpty();
    }

    @Test
    void nonMandatoryUnroutableMessageIsDroppedSilently() throws Exception {
        Channel ch = connect().createChannel();
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        ch.addReturnListener(returns::add);
        ch.confirmSelect();

        ch.basicPublish("amq.direct", "nobody-" + UUID.randomUUID(), false, null, new byte[] {1});
        ch.waitForConfirmsOrDie(5000);

        assertThat(returns).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void routableMandatoryMessageIsNotReturned() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        ch.addReturnListener(returns::add);
        ch.confirmSelect();

        ch.basicPublish("", q, true, null, "kept".getBytes());
        ch.queueBind(q, "amq.direct", "rk");
        ch.basicPublish("amq.direct", "rk", true, null, "kept too".getBytes());
        // A return would come before the confirm of the same message.
        ch.waitForConfirmsOrDie(5000);

        assertThat(returns).isEmpty();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(2);
    }

    @Test
    void publishToAMissingExchangeClosesTheChannelWithNotFound() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();

        ch.basicPublish("no-such-exchange", "rk", null, new byte[] {1});

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);
        assertThat(conn.isOpen()).isTrue();
        assertThat(conn.createChannel().isOpen()).isTrue();
    }

    @Test
    void immediateIsNotImplementedAndClosesTheConnection() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);

        ch.basicPublish("", q, false, true, null, new byte[] {1});

        await().atMost(Duration.ofSeconds(5)).until(() -> !conn.isOpen());
        ShutdownSignalException s = conn.getCloseReason();
        assertThat(s.isHardError()).isTrue();
        AMQP.Connection.Close close = (AMQP.Connection.Close) s.getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_IMPLEMENTED);
        assertThat(close.getReplyText()).isEqualTo("NOT_IMPLEMENTED - immediate=true");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);

        Channel check = connect().createChannel();
        assertThat(check.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void fanoutToSeveralQueuesDeliversACopyToEach() throws Exception {
        Channel ch = connect().createChannel();
        String q1 = queue(ch);
        String q2 = queue(ch);
        ch.queueBind(q1, "amq.fanout", "");
        ch.queueBind(q2, "amq.fanout", "");
        try {
            ch.basicPublish("amq.fanout", "ignored", null, "copy".getBytes());
            assertThat(ch.basicGet(q1, true).getBody()).isEqualTo("copy".getBytes());
            assertThat(ch.basicGet(q2, true).getBody()).isEqualTo("copy".getBytes());
        } finally {
            ch.queueDelete(q1);
            ch.queueDelete(q2);
        }
    }
}
