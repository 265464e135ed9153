package io.warren.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** RabbitMQ tutorial 1: one producer, one consumer, the default exchange. */
class HelloWorldTest extends BrokerTest {
    @Test
    void consumerReceivesWhatProducerSent() throws Exception {
        Connection connection = connect();
        Channel producer = connection.createChannel();
        producer.queueDeclare("hello", false, false, false, null);

        Channel consumerChannel = connect().createChannel();
        consumerChannel.queueDeclare("hello", false, false, false, null);
        BlockingQueue<String> received = new ArrayBlockingQueue<>(10);
        consumerChannel.basicConsume("hello", true, new DefaultConsumer(consumerChannel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                received.add(new String(body, StandardCharsets.UTF_8));
            }
        });

        producer.basicPublish("", "hello", null, "Hello World!".getBytes(StandardCharsets.UTF_8));

        assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("Hello World!");
    }

    @Test
    void basicGetSeesMessagesInOrderWithCounts() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        for (int i = 0; i < 3; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(3);
        var first = ch.basicGet(q, false);
        assertThat(new String(first.getBody(), StandardCharsets.UTF_8)).isEqualTo("m0");
        assertThat(first.getMessageCount()).isEqualTo(2);
        ch.basicAck(first.getEnvelope().getDeliveryTag(), false);
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("m1");
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("m2");
        assertThat(ch.basicGet(q, true)).isNull();
    }
}
