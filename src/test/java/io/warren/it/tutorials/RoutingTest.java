package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.Return;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tutorial 4, routing: EmitLogDirect publishes with the severity as routing key to a direct
 * exchange; each ReceiveLogsDirect binds its temporary queue once per severity it wants.
 */
class RoutingTest extends BrokerTest {

    private static String directLogs() {
        return "direct_logs-" + UUID.randomUUID();
    }

    /** ReceiveLogsDirect: a temporary queue bound with each severity, printing "severity:message". */
    private BlockingQueue<String> receiveLogs(String exchange, String... severities) throws Exception {
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.DIRECT);
        String queueName = channel.queueDeclare().getQueue();
        for (String severity : severities) {
            channel.queueBind(queueName, exchange, severity);
        }
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        DeliverCallback deliverCallback = (consumerTag, delivery) -> received.add(
                delivery.getEnvelope().getRoutingKey() + ":" + new String(delivery.getBody(), StandardCharsets.UTF_8));
        channel.basicConsume(queueName, true, deliverCallback, consumerTag -> { });
        return received;
    }

    private static void emit(Channel channel, String exchange, String severity, String message) throws Exception {
        channel.basicPublish(exchange, severity, null, message.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> take(BlockingQueue<String> received, int n) throws InterruptedException {
        List<String> got = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String s = received.poll(5, TimeUnit.SECONDS);
            if (s == null) {
                break;
            }
            got.add(s);
        }
        return got;
    }

    @Test
    void eachReceiverGetsOnlyTheSeveritiesItBound() throws Exception {
        String exchange = directLogs();
        BlockingQueue<String> errorsToDisk = receiveLogs(exchange, "error");
        BlockingQueue<String> allToScreen = receiveLogs(exchange, "info", "warning", "error");

        Channel emitter = connect().createChannel();
        emitter.exchangeDeclare(exchange, BuiltinExchangeType.DIRECT);
        emit(emitter, exchange, "info", "starting");
        emit(emitter, exchange, "warning", "disk at 80%");
        emit(emitter, exchange, "debug", "nobody wants this");
        emit(emitter, exchange, "error", "disk full");
        emit(emitter, exchange, "info", "stopping");
        // Both receivers bound "error": this one ends both streams, so anything unexpected shows up before it.
        emit(emitter, exchange, "error", "end");

        assertThat(take(errorsToDisk, 2)).containsExactly("error:disk full", "error:end");
        assertThat(take(allToScreen, 5)).containsExactly(
                "info:starting", "warning:disk at 80%", "error:disk full", "info:stopping", "error:end");
    }

    @Test
    void oneKeyBoundToTwoQueuesBehavesLikeFanout() throws Exception {
        String exchange = directLogs();
        BlockingQueue<String> first = receiveLogs(exchange, "black");
        BlockingQueue<String> second = receiveLogs(exchange, "black", "green");

        Channel emitter = connect().createChannel();
        emit(emitter, exchange, "black", "b1");
        emit(emitter, exchange, "green", "g1");
        emit(emitter, exchange, "black", "b2");

        assertThat(take(first, 2)).containsExactly("black:b1", "black:b2");
        assertThat(take(second, 3)).containsExactly("black:b1", "green:g1", "black:b2");
    }

    @Test
    void aQueueBoundTwiceWithTheSameKeyGetsOneCopy() throws Exception {
        String exchange = directLogs();
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.DIRECT);
        String queue = channel.queueDeclare().getQueue();
        channel.queueBind(queue, exchange, "error");
        channel.queueBind(queue, exchange, "error");
        channel.queueBind(queue, exchange, "warning");

        channel.confirmSelect();
        emit(channel, exchange, "error", "once");
        emit(channel, exchange, "warning", "also once");
        channel.waitForConfirmsOrDie(5000);

        assertThat(drain(channel, queue)).containsExactly("once", "also once");
    }

    @Test
    void anUnboundSeverityIsReturnedWhenMandatory() throws Exception {
        String exchange = directLogs();
        BlockingQueue<String> errors = receiveLogs(exchange, "error");

        Channel emitter = connect().createChannel();
        BlockingQueue<Return> returns = new LinkedBlockingQueue<>();
        emitter.addReturnListener(returns::add);
        emitter.basicPublish(exchange, "debug", true, null, "lost".getBytes(StandardCharsets.UTF_8));
        emitter.basicPublish(exchange, "error", true, null, "kept".getBytes(StandardCharsets.UTF_8));

        Return returned = returns.poll(5, TimeUnit.SECONDS);
        assertThat(returned).isNotNull();
        assertThat(returned.getReplyCode()).isEqualTo(AMQP.NO_ROUTE);
        assertThat(returned.getReplyText()).isEqualTo("NO_ROUTE");
        assertThat(returned.getExchange()).isEqualTo(exchange);
        assertThat(returned.getRoutingKey()).isEqualTo("debug");
        assertThat(new String(returned.getBody(), StandardCharsets.UTF_8)).isEqualTo("lost");
        assertThat(take(errors, 1)).containsExactly("error:kept");
        assertThat(returns).isEmpty();
    }

    @Test
    void unbindingASeverityStopsItsDelivery() throws Exception {
        String exchange = directLogs();
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.DIRECT);
        String queue = channel.queueDeclare().getQueue();
        channel.queueBind(queue, exchange, "info");
        channel.queueBind(queue, exchange, "error");
        channel.queueUnbind(queue, exchange, "info");

        channel.confirmSelect();
        emit(channel, exchange, "info", "dropped");
        emit(channel, exchange, "error", "kept");
        channel.waitForConfirmsOrDie(5000);

        assertThat(drain(channel, queue)).containsExactly("kept");
    }

    private static List<String> drain(Channel channel, String queue) throws Exception {
        List<String> got = new ArrayList<>();
        GetResponse r;
        while ((r = channel.basicGet(queue, true)) != null) {
            got.add(new String(r.getBody(), StandardCharsets.UTF_8));
        }
        return got;
    }
}
