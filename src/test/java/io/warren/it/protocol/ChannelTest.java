package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import io.warren.it.BrokerTest;
import io.warren.it.RawAmqpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The channel class: opening and closing, flow, and which errors close a channel or the whole connection. */
class ChannelTest extends BrokerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void manyChannelsOpenAndCloseOnOneConnection() throws Exception {
        Connection c = connect();
        List<Channel> channels = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            channels.add(c.createChannel());
        }
        assertThat(channels).extracting(Channel::getChannelNumber).doesNotHaveDuplicates();
        for (Channel ch : channels) {
            assertThat(ch.isOpen()).isTrue();
            ch.close();
        }
        // Closed ids can be opened again, and the connection is still fine.
        Channel again = c.createChannel(channels.get(0).getChannelNumber());
        assertThat(again.queueDeclare().getQueue()).startsWith("amq.gen-");
        assertThat(c.isOpen()).isTrue();
    }

    @Test
    void closingAChannelLeavesTheOthersOpen() throws Exception {
        Connection c = connect();
        Channel a = c.createChannel();
        Channel b = c.createChannel();
        a.close();
        assertThat(a.isOpen()).isFalse();
        assertThat(b.queueDeclare().getQueue()).startsWith("amq.gen-");
    }

    /**
     * channel.flow is not in the 5.x Java client, so a raw client sends it. RabbitMQ 3.x answers
     * active=false with 540 NOT_IMPLEMENTED; Warren implements it as the spec describes (stop
     * deliveries until active=true), which no official-client program can observe.
     */
    @Test
    void channelFlowPausesAndResumesDeliveries() throws Exception {
        Channel publisher = connect().createChannel();
        String q = publisher.queueDeclare("flow-" + System.nanoTime(), false, false, true, null).getQueue();
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(0);
            raw.openChannel(1);
            raw.sendMethod(1, RawAmqpClient.method(60, 20).shortInt(0).shortStr(q).shortStr("raw")
                    .bits(false, true, false, false).table(Map.of()).build());
            raw.expectMethod(1, 60, 21, WAIT);

            raw.sendMethod(1, RawAmqpClient.method(20, 20).bits(false).build());
            assertThat(raw.expectMethod(1, 20, 21, WAIT).args().bits(1)[0]).as("flow-ok active").isFalse();
            publisher.basicPublish("", q, null, "paused".getBytes(StandardCharsets.UTF_8));
            await(() -> publisher.messageCount(q) == 1);
            assertThat(raw.readNonHeartbeat(Duration.ofMillis(500))).as("delivery while flow is off").isNull();

            raw.sendMethod(1, RawAmqpClient.method(20, 20).bits(true).build());
            assertThat(raw.expectMethod(1, 20, 21, WAIT).args().bits(1)[0]).as("flow-ok active").isTrue();
            RawAmqpClient.Frame deliver = raw.expectMethod(1, 60, 60, WAIT);
            assertThat(deliver.args().shortStr()).isEqualTo("raw");
        }
    }

    // ---------------------------------------------------------------- soft errors

    @Test
    void softErrorClosesOnlyTheChannel() throws Exception {
        Connection c = connect();
        Channel bystander = c.createChannel();
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclarePassive("no-such-queue-" + System.nanoTime()));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).startsWith("NOT_FOUND - no queue 'no-such-queue-").endsWith("' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(10);
        assertThat(ch.isOpen()).isFalse();
        assertThat(c.isOpen()).isTrue();
        assertThat(bystander.isOpen()).isTrue();
        assertThat(bystander.queueDeclare().getQueue()).startsWith("amq.gen-");
        assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
    }

    @Test
    void closedChannelIdCanBeReopenedAfterASoftError() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        int id = ch.getChannelNumber();
        Closes.channelClose(() -> ch.exchangeDeclarePassive("no-such-exchange"));

        Channel reopened = c.createChannel(id);
        assertThat(reopened).isNotNull();
        reopened.exchangeDeclarePassive("amq.direct");
    }

    // ---------------------------------------------------------------- hard errors

    /**
     * RabbitMQ 3.10 drops the connection without a close for a method it does not know (its reader
     * crashes), so there is no reply code to copy; Warren closes the connection politely with a hard
     * error naming the offending class and method (503 COMMAND_INVALID or 540 NOT_IMPLEMENTED).
     */
    @Test
    void unknownMethodClosesTheConnection() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(0);
            raw.openChannel(1);

            raw.sendMethod(1, RawAmqpClient.method(60, 999).build());

            RawAmqpClient.Args close = raw.expectMethod(0, 10, 50, WAIT).args();
            int code = close.shortInt();
            assertThat(code).isIn(AMQP.COMMAND_INVALID, AMQP.NOT_IMPLEMENTED);
            assertThat(close.shortStr()).startsWith(code == AMQP.COMMAND_INVALID ? "COMMAND_INVALID - " : "NOT_IMPLEMENTED - ");
            assertThat(close.shortInt()).as("class id").isEqualTo(60);
            assertThat(close.shortInt()).as("method id").isEqualTo(999);
            raw.sendMethod(0, RawAmqpClient.method(10, 51).build());
            assertThat(raw.awaitServerClose(WAIT)).isTrue();
        }
    }

    @Test
    void reopeningAnOpenChannelIsAChannelError() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(0);
            raw.openChannel(1);

            raw.sendMethod(1, RawAmqpClient.method(20, 10).shortStr("").build());

            RawAmqpClient.Args close = raw.expectMethod(0, 10, 50, WAIT).args();
            assertThat(close.shortInt()).isEqualTo(AMQP.CHANNEL_ERROR);
            assertThat(close.shortStr()).isEqualTo("CHANNEL_ERROR - second 'channel.open' seen");
            assertThat(close.shortInt()).as("class id").isEqualTo(20);
            assertThat(close.shortInt()).as("method id").isEqualTo(10);
        }
    }

    @Test
    void reusingAConsumerTagClosesTheConnection() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.basicConsume(q, false, "same-tag", new DefaultConsumer(ch));

        AMQP.Connection.Close close = Closes.connectionClose(
                () -> ch.basicConsume(q, false, "same-tag", new DefaultConsumer(ch)));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_ALLOWED);
        assertThat(close.getReplyText()).isEqualTo("NOT_ALLOWED - attempt to reuse consumer tag 'same-tag'");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(20);
        await(() -> !c.isOpen());
    }

    private static void await(Callable<Boolean> condition) {
        Awaitility.await().atMost(WAIT).until(condition);
    }
}
