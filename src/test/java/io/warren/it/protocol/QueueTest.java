package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The queue class: declare and its flags, exclusivity, auto-delete, bind, purge, delete, and name shortcuts. */
class QueueTest extends BrokerTest {
    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static void await(Callable<Boolean> condition) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(condition);
    }

    private static void publish(Channel ch, String q, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        await(() -> ch.messageCount(q) == count);
    }

    /** True when a passive declare on a fresh channel finds the queue. */
    private static boolean exists(Connection c, String q) throws Exception {
        Channel probe = c.createChannel();
        try {
            probe.queueDeclarePassive(q);
            probe.close();
            return true;
        } catch (java.io.IOException e) {
            AMQP.Channel.Close close = (AMQP.Channel.Close) Closes.shutdown(() -> { throw e; }).getReason();
            assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
            return false;
        }
    }

    // ---------------------------------------------------------------- declare

    @Test
    void declarePassiveAndEquivalentRedeclare() throws Exception {
        Channel ch = connect().createChannel();
        String q = unique("q");

        AMQP.Queue.DeclareOk ok = ch.queueDeclare(q, true, false, false, null);
        assertThat(ok.getQueue()).isEqualTo(q);
        assertThat(ch.queueDeclarePassive(q).getQueue()).isEqualTo(q);
        assertThat(ch.queueDeclare(q, true, false, false, null).getQueue()).isEqualTo(q);
        ch.queueDelete(q);
    }

    @Test
    void redeclareWithAnotherDurabilityIsPreconditionFailed() throws Exception {
        Connection c = connect();
        String q = unique("q");
        c.createChannel().queueDeclare(q, false, false, true, null);
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclare(q, true, false, true, null));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - inequivalent arg 'durable' for queue '" + q
                + "' in vhost '/': received 'true' but current is 'false'");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(10);
        c.createChannel().queueDelete(q);
    }

    @Test
    void redeclareWithAnotherExclusivityIsResourceLocked() throws Exception {
        Connection c = connect();
        String shared = unique("shared");
        String exclusive = unique("exclusive");
        c.createChannel().queueDeclare(shared, false, false, true, null);
        c.createChannel().queueDeclare(exclusive, false, true, true, null);

        Channel a = c.createChannel();
        assertThat(Closes.channelClose(() -> a.queueDeclare(shared, false, true, true, null)).getReplyCode())
                .isEqualTo(AMQP.RESOURCE_LOCKED);
        Channel b = c.createChannel();
        assertThat(Closes.channelClose(() -> b.queueDeclare(exclusive, false, false, true, null)).getReplyCode())
                .as("same connection, exclusive flag dropped").isEqualTo(AMQP.RESOURCE_LOCKED);
        c.createChannel().queueDelete(shared);
    }

    @Test
    void passiveDeclareOfAMissingQueueIsNotFound() throws Exception {
        Channel ch = connect().createChannel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclarePassive("no-such-queue"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no queue 'no-such-queue' in vhost '/'");
    }

    @Test
    void serverNamedQueuesStartWithAmqGen() throws Exception {
        Channel ch = connect().createChannel();
        String a = ch.queueDeclare().getQueue();
        String b = ch.queueDeclare("", false, true, true, null).getQueue();
        assertThat(a).startsWith("amq.gen-").hasSizeGreaterThan("amq.gen-".length() + 8);
        assertThat(b).startsWith("amq.gen-").isNotEqualTo(a);
    }

    @Test
    void declaringAReservedNameIsAccessRefused() throws Exception {
        Channel ch = connect().createChannel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclare("amq.foo", false, false, false, null));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(10);
    }

    /** RabbitMQ refuses a non-passive declare of any amq.* name, even of a server-named queue that exists. */
    @Test
    void redeclaringAServerNamedQueueByNameIsAccessRefused() throws Exception {
        Connection c = connect();
        String q = c.createChannel().queueDeclare().getQueue();
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclare(q, false, true, true, null));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(c.createChannel().queueDeclarePassive(q).getQueue()).isEqualTo(q);
    }

    @Test
    void declareOkCarriesMessageAndConsumerCounts() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String q = ch.queueDeclare().getQueue();
        publish(ch, q, 3);
        Channel consumers = c.createChannel();
        consumers.basicQos(1);
        consumers.basicConsume(q, false, new DefaultConsumer(consumers));
        consumers.basicConsume(q, false, new DefaultConsumer(consumers));

        // Each consumer holds one unacked message (prefetch 1); the third is ready.
        await(() -> ch.queueDeclarePassive(q).getMessageCount() == 1);
        AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(q);
        assertThat(ok.getConsumerCount()).isEqualTo(2);
        assertThat(ok.getMessageCount()).as("ready messages only").isEqualTo(1);
    }

    // ---------------------------------------------------------------- exclusive queues

    @Test
    void exclusiveQueueIsLockedToOtherConnections() throws Exception {
        Connection owner = connect();
        String q = unique("exclusive");
        owner.createChannel().queueDeclare(q, false, true, false, null);
        Connection other = connect();

        assertLocked(other, q, 50, 10, ch -> ch.queueDeclare(q, false, false, false, null));
        assertLocked(other, q, 50, 10, ch -> ch.queueDeclare(q, false, true, false, null));
        assertLocked(other, q, 50, 10, ch -> ch.queueDeclarePassive(q));
        assertLocked(other, q, 60, 20, ch -> ch.basicConsume(q, new DefaultConsumer(ch)));
        assertLocked(other, q, 50, 20, ch -> ch.queueBind(q, "amq.fanout", ""));
        assertLocked(other, q, 60, 70, ch -> ch.basicGet(q, true));
        assertLocked(other, q, 50, 30, ch -> ch.queuePurge(q));
        assertLocked(other, q, 50, 40, ch -> ch.queueDelete(q));
        // As RabbitMQ: removing a binding that does not exist is a no-op even on another's exclusive queue...
        other.createChannel().queueUnbind(q, "amq.fanout", "");

        // The owner is unaffected.
        Channel mine = owner.createChannel();
        mine.queueBind(q, "amq.fanout", "");
        assertThat(mine.basicGet(q, true)).isNull();
        // ...but removing one that does is refused.
        assertLocked(other, q, 50, 50, ch -> ch.queueUnbind(q, "amq.fanout", ""));
        mine.queueUnbind(q, "amq.fanout", "");
    }

    private interface ChannelCall {
        void call(Channel ch) throws Exception;
    }

    private static void assertLocked(Connection c, String q, int classId, int methodId, ChannelCall call) throws Exception {
        Channel ch = c.createChannel();
        ThrowingCallable attempt = () -> call.call(ch);
        AMQP.Channel.Close close = Closes.channelClose(attempt);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.RESOURCE_LOCKED);
        assertThat(close.getReplyText()).startsWith("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '"
                + q + "' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(classId);
        assertThat(close.getMethodId()).isEqualTo(methodId);
    }

    @Test
    void exclusiveQueueIsDeletedWhenItsConnectionCloses() throws Exception {
        Connection owner = factory().newConnection();
        String q = unique("exclusive");
        owner.createChannel().queueDeclare(q, false, true, false, null);
        String serverNamed = owner.createChannel().queueDeclare().getQueue();
        Connection observer = connect();

        owner.close();

        await(() -> !exists(observer, q));
        await(() -> !exists(observer, serverNamed));
        Channel ch = observer.createChannel();
        ch.queueDeclare(q, false, false, true, null); // the name is free again, for anyone
        ch.queueDelete(q);
    }

    // ---------------------------------------------------------------- auto-delete

    @Test
    void autoDeleteQueueGoesAfterItsLastConsumerCancels() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String q = unique("auto");
        ch.queueDeclare(q, false, false, true, null);
        Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> exists(c, q)); // never had a consumer: it stays

        String first = ch.basicConsume(q, new DefaultConsumer(ch));
        String second = ch.basicConsume(q, new DefaultConsumer(ch));
        ch.basicCancel(first);
        assertThat(exists(c, q)).as("one consumer left").isTrue();

        ch.basicCancel(second);

        await(() -> !exists(c, q));
    }

    @Test
    void autoDeleteQueueGoesWhenItsConsumersChannelCloses() throws Exception {
        Connection c = connect();
        String q = unique("auto");
        c.createChannel().queueDeclare(q, false, false, true, null);
        Channel consumer = c.createChannel();
        consumer.basicConsume(q, new DefaultConsumer(consumer));

        consumer.close();

        await(() -> !exists(c, q));
    }

    // ---------------------------------------------------------------- bind, purge, delete

    @Test
    void bindAndUnbindControlRouting() throws Exception {
        Channel ch = connect().createChannel();
        String x = unique("x");
        ch.exchangeDeclare(x, "direct", false, true, null);
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, x, "k");
        ch.queueBind(q, x, "k"); // binding twice is one binding

        ch.basicPublish(x, "k", null, "bound".getBytes(StandardCharsets.UTF_8));
        await(() -> ch.messageCount(q) == 1);

        ch.queueUnbind(q, x, "k");
        ch.queueUnbind(q, x, "not-bound"); // unbinding a missing binding is fine
        ch.queueBind(q, "amq.direct", "keep-channel-open");
        ch.basicPublish("amq.direct", "k", null, new byte[1]);
        ch.basicPublish("amq.direct", "keep-channel-open", null, "after".getBytes(StandardCharsets.UTF_8));
        await(() -> ch.messageCount(q) == 2);
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("bound");
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("after");
    }

    @Test
    void bindingAMissingQueueIsNotFound() throws Exception {
        Channel ch = connect().createChannel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueBind("no-such-queue", "amq.direct", "k"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no queue 'no-such-queue' in vhost '/'");
    }

    /** RabbitMQ 3.x treats unbind as idempotent: a missing queue, exchange or binding is not an error. */
    @Test
    void unbindingSomethingMissingIsOk() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        ch.queueUnbind(q, "no-such-exchange", "k");
        ch.queueUnbind("no-such-queue", "amq.direct", "k");
        ch.queueUnbind(q, "amq.direct", "never-bound");
        ch.exchangeUnbind("no-such-exchange", "amq.direct", "k");
        ch.exchangeUnbind("amq.direct", "no-such-exchange", "k");
        assertThat(ch.isOpen()).isTrue();
    }

    /** As RabbitMQ's rabbit_channel: CR and LF are taken out of queue and exchange names on declare, bind, unbind and delete. */
    @Test
    void carriageReturnsAndLineFeedsAreStrippedFromNamesOnDeclareBindUnbindAndDelete() throws Exception {
        Channel ch = connect().createChannel();
        String q = unique("crlf");
        String x = unique("crlf-x");

        assertThat(ch.queueDeclare(q + "\r\n", false, false, true, null).getQueue()).isEqualTo(q);
        assertThat(ch.queueDeclarePassive("\n" + q).getQueue()).isEqualTo(q);
        ch.exchangeDeclare(x + "\n", "direct", false, false, null);
        ch.exchangeDeclarePassive(x);
        ch.queueBind("\r" + q, x + "\r", "k");

        ch.basicPublish(x, "k", null, "m".getBytes(StandardCharsets.UTF_8));
        await(() -> ch.messageCount(q) == 1);
        ch.queueUnbind(q + "\n", "\n" + x, "k");
        ch.basicPublish(x, "k", null, "m".getBytes(StandardCharsets.UTF_8));
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);

        assertThat(ch.queueDelete(q.substring(0, 3) + "\r\n" + q.substring(3)).getMessageCount()).isEqualTo(1);
        assertThat(exists(ch.getConnection(), q)).isFalse();
        ch.exchangeDelete(x + "\r");
    }

    /** As RabbitMQ, the other methods take names as they come: a queue name with a line feed names no queue. */
    @Test
    void namesOfPublishGetPurgeAndConsumeAreNotStripped() throws Exception {
        Connection c = connect();
        String q = c.createChannel().queueDeclare(unique("crlf"), false, false, true, null).getQueue();

        for (ChannelCall call : List.<ChannelCall>of(ch -> ch.basicGet(q + "\n", true),
                ch -> ch.queuePurge(q + "\n"), ch -> ch.basicConsume(q + "\n", new DefaultConsumer(ch)))) {
            Channel ch = c.createChannel();
            AMQP.Channel.Close close = Closes.channelClose(() -> call.call(ch));
            assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
            assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no queue '" + q + "\n' in vhost '/'");
        }
        Channel ch = c.createChannel();
        ch.basicPublish("amq.direct\n", q, null, new byte[0]);
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclarePassive(q));
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no exchange 'amq.direct\n' in vhost '/'");
    }

    @Test
    void purgeReturnsTheNumberOfMessagesRemoved() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        publish(ch, q, 4);

        assertThat(ch.queuePurge(q).getMessageCount()).isEqualTo(4);
        assertThat(ch.messageCount(q)).isZero();
        assertThat(ch.queuePurge(q).getMessageCount()).isZero();
    }

    @Test
    void deleteReturnsTheNumberOfMessagesDropped() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String q = unique("q");
        ch.queueDeclare(q, false, false, false, null);
        publish(ch, q, 3);

        assertThat(ch.queueDelete(q).getMessageCount()).isEqualTo(3);
        assertThat(exists(c, q)).isFalse();
    }

    /** RabbitMQ 3.x answers delete-ok with a count of 0 for a queue that does not exist. */
    @Test
    void deletingAMissingQueueIsOk() throws Exception {
        Channel ch = connect().createChannel();
        assertThat(ch.queueDelete("no-such-queue").getMessageCount()).isZero();
        assertThat(ch.queueDelete("no-such-queue", true, true).getMessageCount()).isZero();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void deleteIfUnusedWithAConsumerIsPreconditionFailed() throws Exception {
        Connection c = connect();
        Channel consumer = c.createChannel();
        String q = unique("q");
        consumer.queueDeclare(q, false, false, false, null);
        consumer.basicConsume(q, new DefaultConsumer(consumer));
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDelete(q, true, false));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - queue '" + q + "' in vhost '/' in use");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(40);
        assertThat(exists(c, q)).isTrue();
        consumer.queueDelete(q);
    }

    @Test
    void deleteIfEmptyWithMessagesIsPreconditionFailed() throws Exception {
        Connection c = connect();
        Channel setup = c.createChannel();
        String q = unique("q");
        setup.queueDeclare(q, false, false, false, null);
        publish(setup, q, 1);
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDelete(q, false, true));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - queue '" + q + "' in vhost '/' not empty");
        assertThat(setup.queueDelete(q, true, false).getMessageCount()).as("if-unused alone is fine").isEqualTo(1);
    }

    // ---------------------------------------------------------------- "" means the last declared queue

    @Test
    void emptyQueueNameMeansTheChannelsLastDeclaredQueue() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare().getQueue();
        String routingKey = unique("k");

        ch.queueBind("", "amq.direct", routingKey);
        ch.basicPublish("amq.direct", routingKey, null, "via bind".getBytes(StandardCharsets.UTF_8));
        await(() -> ch.messageCount(q) == 1);

        GetResponse got = ch.basicGet("", true);
        assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("via bind");

        publish(ch, q, 2);
        assertThat(ch.queuePurge("").getMessageCount()).isEqualTo(2);
        String tag = ch.basicConsume("", true, new DefaultConsumer(ch));
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isEqualTo(1);
        ch.basicCancel(tag);
        ch.queueUnbind("", "amq.direct", routingKey);
    }

    @Test
    void lastDeclaredQueueIsPerChannel() throws Exception {
        Connection c = connect();
        Channel declaring = c.createChannel();
        declaring.queueDeclare();
        Channel other = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> other.basicGet("", true));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no previously declared queue");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(70);
    }

    @Test
    void emptyQueueNameWithoutADeclareIsNotFound() throws Exception {
        Connection c = connect();
        Map<String, ChannelCall> calls = Map.of(
                "bind", ch -> ch.queueBind("", "amq.direct", "k"),
                "consume", ch -> ch.basicConsume("", new DefaultConsumer(ch)),
                "purge", ch -> ch.queuePurge(""),
                "delete", ch -> ch.queueDelete(""));
        for (Map.Entry<String, ChannelCall> e : calls.entrySet()) {
            Channel ch = c.createChannel();
            AMQP.Channel.Close close = Closes.channelClose(() -> e.getValue().call(ch));
            assertThat(close.getReplyCode()).as(e.getKey()).isEqualTo(AMQP.NOT_FOUND);
            assertThat(close.getReplyText()).as(e.getKey()).isEqualTo("NOT_FOUND - no previously declared queue");
        }
    }
}
