package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** x-message-ttl and the expiration property, as RabbitMQ's classic queues, and expiry behind longer-lived messages. */
class MessageTtlTest extends BrokerTest {
    private static AMQP.BasicProperties expiring(String ms) {
        return new AMQP.BasicProperties.Builder().expiration(ms).build();
    }

    @Test
    void queueTtlDropsMessagesNotConsumedInTime() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-message-ttl", 200)).getQueue();
        ch.basicPublish("", q, null, "old".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 0);
        ch.basicPublish("", q, null, "new".getBytes());
        GetResponse r = ch.basicGet(q, true);
        assertThat(new String(r.getBody())).isEqualTo("new");
    }

    @Test
    void expiredMessagesAreNeverDeliveredNorReturnedByGet() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-message-ttl", 100)).getQueue();
        for (int i = 0; i < 10; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes());
        }
        Thread.sleep(300); // let the TTL pass: what is asserted is that nothing comes after it
        assertThat(ch.basicGet(q, true)).isNull();
        BlockingQueue<String> got = new ArrayBlockingQueue<>(10);
        ch.basicConsume(q, true, (tag, d) -> got.add(new String(d.getBody())), tag -> { });
        assertThat(got.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void theLowerOfQueueAndMessageTtlWins() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-message-ttl", 60_000)).getQueue();
        ch.basicPublish("", q, expiring("100"), "short".getBytes());
        ch.basicPublish("", q, expiring("600000"), "long".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 1);
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("long");
    }

    @Test
    void aShortLivedMessageBehindLongLivedOnesExpiresOnTime() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicPublish("", q, expiring("600000"), "first".getBytes());
        ch.basicPublish("", q, expiring("100"), "second".getBytes());
        ch.basicPublish("", q, null, "third".getBytes());
        // RabbitMQ would keep "second" until "first" leaves; Warren drops it on time.
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 2);
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("first");
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("third");
    }

    @Test
    void ttlZeroIsDeliveredOnlyToAConsumerThatCanTakeItAtOnce() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicPublish("", q, expiring("0"), "nobody there".getBytes());
        BlockingQueue<String> got = new ArrayBlockingQueue<>(10);
        ch.basicConsume(q, true, (tag, d) -> got.add(new String(d.getBody())), tag -> { });
        ch.basicPublish("", q, expiring("0"), "taken".getBytes());
        assertThat(got.poll(5, TimeUnit.SECONDS)).isEqualTo("taken");
        assertThat(got.poll(200, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void aRequeuedMessageKeepsItsOriginalExpiry() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-message-ttl", 500)).getQueue();
        ch.basicPublish("", q, null, "m".getBytes());
        GetResponse r = ch.basicGet(q, false);
        Thread.sleep(600); // past its TTL while unacked: unacked messages do not expire
        ch.basicReject(r.getEnvelope().getDeliveryTag(), true);
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 0);
        assertThat(ch.basicGet(q, true)).isNull();
    }

    @Test
    void expiryHoldsForMessagesWaitingOnDisk() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("ttl-paged", true, false, false, Map.of("x-message-ttl", 300)).getQueue();
        byte[] body = new byte[64 * 1024];
        ch.confirmSelect();
        for (int i = 0; i < 1000; i++) { // 64 MiB: past the 32 MiB memory budget
            ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, body);
        }
        ch.waitForConfirmsOrDie(30_000);
        await().atMost(Duration.ofSeconds(20)).until(() -> ch.messageCount(q) == 0);
        ch.queueDelete(q);
    }

    @Test
    void invalidTtlsAreRefusedWithRabbitMqsErrors() throws Exception {
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-ttl", false, false, true,
                Map.of("x-message-ttl", -1)))
                .isInstanceOf(IOException.class).cause()
                .hasMessageContaining("PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'bad-ttl' in vhost '/': {value_negative,-1}");
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-ttl", false, false, true,
                Map.of("x-message-ttl", "1000")))
                .isInstanceOf(IOException.class).cause()
                .hasMessageContaining("invalid arg 'x-message-ttl' for queue 'bad-ttl' in vhost '/': {unacceptable_type,longstr}");
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicPublish("", q, expiring("soon"), "x".getBytes());
        assertThatThrownBy(() -> ch.queueDeclarePassive(q)).isInstanceOf(IOException.class).cause()
                .isInstanceOf(ShutdownSignalException.class)
                .hasMessageContaining("PRECONDITION_FAILED - invalid expiration 'soon': no_integer");
    }

    @Test
    void redeclaringWithAnotherTtlIsInequivalent() throws Exception {
        Channel ch = connect().createChannel();
        ch.queueDeclare("ttl-redeclare", false, false, true, Map.of("x-message-ttl", 1000));
        ch.queueDeclare("ttl-redeclare", false, false, true, Map.of("x-message-ttl", 1000L)); // same value, other width: fine
        assertThatThrownBy(() -> ch.queueDeclare("ttl-redeclare", false, false, true, Map.of("x-message-ttl", 2000)))
                .isInstanceOf(IOException.class).cause()
                .hasMessageContaining("PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'ttl-redeclare' "
                        + "in vhost '/': received '2000' but current is '1000'");
        Channel ch2 = connect().createChannel();
        assertThatThrownBy(() -> ch2.queueDeclare("ttl-redeclare", false, false, true, null))
                .isInstanceOf(IOException.class).cause()
                .hasMessageContaining("inequivalent arg 'x-message-ttl' for queue 'ttl-redeclare' in vhost '/': "
                        + "received none but current is the value '1000' of type 'signedint'");
    }
}
