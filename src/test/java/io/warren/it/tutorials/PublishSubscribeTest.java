package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tutorial 3, publish/subscribe: EmitLog publishes to a fanout exchange, and every
 * ReceiveLogs binds a fresh server-named, exclusive, auto-delete queue to it.
 */
class PublishSubscribeTest extends BrokerTest {

    /** One ReceiveLogs program: its connection, its temporary queue and what it printed. */
    private record Subscriber(Connection connection, String queue, BlockingQueue<String> received) {
        String next() throws InterruptedException {
            return received.poll(5, TimeUnit.SECONDS);
        }
    }

    private static String logsExchange() {
        return "logs-" + UUID.randomUUID();
    }

    private Subscriber subscribe(String exchange) throws Exception {
        Connection connection = connect();
        Channel channel = connection.createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.FANOUT);
        String queueName = channel.queueDeclare().getQueue();
        channel.queueBind(queueName, exchange, "");
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        DeliverCallback deliverCallback = (consumerTag, delivery) ->
                received.add(new String(delivery.getBody(), StandardCharsets.UTF_8));
        channel.basicConsume(queueName, true, deliverCallback, consumerTag -> { });
        return new Subscriber(connection, queueName, received);
    }

    private Channel emitter(String exchange) throws Exception {
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, "fanout");
        return channel;
    }

    private static void emit(Channel channel, String exchange, String message) throws Exception {
        channel.basicPublish(exchange, "", null, message.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everySubscriberGetsEveryMessage() throws Exception {
        String exchange = logsExchange();
        Subscriber first = subscribe(exchange);
        Subscriber second = subscribe(exchange);
        Channel emitter = emitter(exchange);

        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String message = "info: log line " + i;
            emit(emitter, exchange, message);
            sent.add(message);
        }

        for (Subscriber s : List.of(first, second)) {
            List<String> got = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                got.add(s.next());
            }
            assertThat(got).containsExactlyElementsOf(sent);
        }
        assertThat(first.queue()).isNotEqualTo(second.queue());
    }

    @Test
    void routingKeyIsIgnoredByTheFanoutExchange() throws Exception {
        String exchange = logsExchange();
        Subscriber subscriber = subscribe(exchange);
        Channel emitter = emitter(exchange);

        emitter.basicPublish(exchange, "some.key", null, "keyed".getBytes(StandardCharsets.UTF_8));

        assertThat(subscriber.next()).isEqualTo("keyed");
    }

    @Test
    void temporaryQueuesAreServerNamedExclusiveAndAutoDelete() throws Exception {
        String exchange = logsExchange();
        Subscriber subscriber = subscribe(exchange);
        assertThat(subscriber.queue()).startsWith("amq.gen-");

        // Exclusive: another connection may not even look at it.
        Channel other = connect().createChannel();
        Throwable locked = catchThrowable(() -> other.queueDeclarePassive(subscriber.queue()));
        assertThat(channelClose(locked).getReplyCode()).isEqualTo(AMQP.RESOURCE_LOCKED);

        // When the subscriber goes away, so does its queue.
        subscriber.connection().close();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            Channel probe = connect().createChannel();
            Throwable gone = catchThrowable(() -> probe.queueDeclarePassive(subscriber.queue()));
            return gone != null && channelClose(gone).getReplyCode() == AMQP.NOT_FOUND;
        });
    }

    @Test
    void aSubscriberThatConnectsLaterOnlyGetsLaterMessages() throws Exception {
        String exchange = logsExchange();
        Channel emitter = emitter(exchange);
        emit(emitter, exchange, "nobody listening");

        Subscriber early = subscribe(exchange);
        emit(emitter, exchange, "before");
        assertThat(early.next()).isEqualTo("before");

        Subscriber late = subscribe(exchange);
        emit(emitter, exchange, "after");

        assertThat(early.next()).isEqualTo("after");
        assertThat(late.next()).isEqualTo("after");
        // Nothing that was published before the late subscriber bound its queue reaches it.
        emit(emitter, exchange, "last");
        assertThat(late.next()).isEqualTo("last");
        assertThat(late.received()).isEmpty();
        assertThat(early.next()).isEqualTo("last");
    }

    private static AMQP.Channel.Close channelClose(Throwable thrown) {
        Throwable t = thrown;
        while (t != null && !(t instanceof ShutdownSignalException)) {
            t = t.getCause();
        }
        assertThat(t).as("channel closed by the broker, got %s", thrown).isNotNull();
        return (AMQP.Channel.Close) ((ShutdownSignalException) t).getReason();
    }
}
