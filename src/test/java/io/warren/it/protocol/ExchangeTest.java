package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The exchange class: declare, delete, exchange-to-exchange bindings, and the rules for reserved names. */
class ExchangeTest extends BrokerTest {
    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private Channel channel() throws Exception {
        return connect().createChannel();
    }

    // ---------------------------------------------------------------- declare

    @ParameterizedTest
    @ValueSource(strings = {"direct", "fanout", "topic", "headers"})
    void declaresEachBuiltInType(String type) throws Exception {
        Channel ch = channel();
        String x = unique(type);

        assertThat(ch.exchangeDeclare(x, type)).isNotNull();
        ch.exchangeDeclarePassive(x);
        ch.exchangeDeclare(x, type); // an equivalent redeclare is fine
        ch.exchangeDelete(x);
    }

    @Test
    void passiveDeclareOfAMissingExchangeIsNotFound() throws Exception {
        Channel ch = channel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclarePassive("no-such-exchange"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(40);
        assertThat(close.getMethodId()).isEqualTo(10);
    }

    @Test
    void redeclareWithAnotherTypeIsPreconditionFailed() throws Exception {
        Connection c = connect();
        String x = unique("x");
        c.createChannel().exchangeDeclare(x, BuiltinExchangeType.DIRECT);
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclare(x, BuiltinExchangeType.FANOUT));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - inequivalent arg 'type' for exchange '" + x
                + "' in vhost '/': received 'fanout' but current is 'direct'");
    }

    @Test
    void redeclareWithAnotherDurabilityIsPreconditionFailed() throws Exception {
        Connection c = connect();
        String x = unique("x");
        c.createChannel().exchangeDeclare(x, "direct", false);
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclare(x, "direct", true));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).contains("inequivalent arg 'durable'");
    }

    @Test
    void redeclareWithAnotherAutoDeleteIsPreconditionFailed() throws Exception {
        Connection c = connect();
        String x = unique("x");
        c.createChannel().exchangeDeclare(x, "direct", false, false, null);
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclare(x, "direct", false, true, null));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).contains("inequivalent arg 'auto_delete'");
    }

    @Test
    void declaringAReservedNameIsAccessRefused() throws Exception {
        Channel ch = channel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclare("amq.foo", "direct"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText())
                .isEqualTo("ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'");
    }

    @Test
    void redeclaringABuiltInExchangeEquivalentlyIsFine() throws Exception {
        channel().exchangeDeclare("amq.direct", "direct", true);
    }

    @Test
    void unknownTypeIsCommandInvalidOnTheConnection() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();

        AMQP.Connection.Close close = Closes.connectionClose(() -> ch.exchangeDeclare(unique("x"), "no-such-type"));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.COMMAND_INVALID);
        assertThat(close.getReplyText()).isEqualTo("COMMAND_INVALID - unknown exchange type 'no-such-type'");
        assertThat(close.getClassId()).isEqualTo(40);
        assertThat(close.getMethodId()).isEqualTo(10);
    }

    @ParameterizedTest
    @ValueSource(strings = {"amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"})
    void builtInExchangesExist(String name) throws Exception {
        channel().exchangeDeclarePassive(name);
    }

    /** RabbitMQ refuses even a passive declare of the default exchange (it cannot be declared at all). */
    @Test
    void passiveDeclareOfTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclarePassive(""));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - operation not permitted on the default exchange");
    }

    @Test
    void defaultExchangeRoutesByQueueName() throws Exception {
        Channel ch = channel();
        String q = ch.queueDeclare().getQueue();
        ch.basicPublish("", q, null, "hi".getBytes(StandardCharsets.UTF_8));
        awaitMessages(ch, q, 1);
    }

    // ---------------------------------------------------------------- delete

    @Test
    void deleteRemovesTheExchange() throws Exception {
        Connection c = connect();
        String x = unique("x");
        Channel ch = c.createChannel();
        ch.exchangeDeclare(x, "topic");

        ch.exchangeDelete(x);

        Channel probe = c.createChannel();
        assertThat(Closes.channelClose(() -> probe.exchangeDeclarePassive(x)).getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
    }

    @Test
    void deleteRemovesBindingsFromTheExchange() throws Exception {
        Channel ch = channel();
        String x = unique("x");
        ch.exchangeDeclare(x, "fanout");
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, x, "");
        ch.exchangeDelete(x);
        ch.exchangeDeclare(x, "fanout"); // a new exchange of the same name has no bindings

        ch.basicPublish(x, "", null, new byte[1]);

        assertThat(ch.basicGet(q, true)).isNull();
        ch.exchangeDelete(x);
    }

    /** RabbitMQ 3.x answers delete-ok for an exchange that does not exist. */
    @Test
    void deletingAMissingExchangeIsOk() throws Exception {
        Channel ch = channel();
        ch.exchangeDelete("no-such-exchange");
        ch.exchangeDelete("no-such-exchange", true);
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void deleteIfUnusedWithBindingsIsPreconditionFailed() throws Exception {
        Connection c = connect();
        Channel setup = c.createChannel();
        String x = unique("x");
        setup.exchangeDeclare(x, "direct");
        String q = setup.queueDeclare().getQueue();
        setup.queueBind(q, x, "k");
        Channel ch = c.createChannel();

        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDelete(x, true));

        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - exchange '" + x + "' in vhost '/' in use");
        assertThat(close.getClassId()).isEqualTo(40);
        assertThat(close.getMethodId()).isEqualTo(20);
        setup.exchangeDeclarePassive(x); // still there
        setup.exchangeDelete(x);
    }

    @Test
    void deleteIfUnusedOfAnExchangeThatIsOnlyABindingDestinationSucceeds() throws Exception {
        Channel ch = channel();
        String source = unique("src");
        String destination = unique("dst");
        ch.exchangeDeclare(source, "fanout");
        ch.exchangeDeclare(destination, "fanout");
        ch.exchangeBind(destination, source, "");

        ch.exchangeDelete(destination, true); // "unused" looks only at bindings from the exchange

        ch.exchangeDelete(source, true); // and deleting the destination removed the binding
    }

    @ParameterizedTest
    @ValueSource(strings = {"amq.direct", "amq.topic", "amq.no-such-exchange"})
    void deletingAReservedExchangeIsAccessRefused(String name) throws Exception {
        Channel ch = channel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDelete(name));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText())
                .isEqualTo("ACCESS_REFUSED - deletion of system exchange '" + name + "' in vhost '/' not allowed");
        assertThat(close.getClassId()).isEqualTo(40);
        assertThat(close.getMethodId()).isEqualTo(20);
    }

    @Test
    void deletingTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDelete(""));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - operation not permitted on the default exchange");
    }

    // ---------------------------------------------------------------- exchange-to-exchange bindings

    @Test
    void messagesFlowThroughExchangeToExchangeBindings() throws Exception {
        Channel ch = channel();
        String upstream = unique("up");
        String downstream = unique("down");
        ch.exchangeDeclare(upstream, "topic");
        ch.exchangeDeclare(downstream, "direct");
        ch.exchangeBind(downstream, upstream, "orders.*");
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, downstream, "orders.new");

        ch.basicPublish(upstream, "orders.new", null, "routed".getBytes(StandardCharsets.UTF_8));
        ch.basicPublish(upstream, "orders.old", null, "wrong key downstream".getBytes(StandardCharsets.UTF_8));
        ch.basicPublish(upstream, "invoices.new", null, "wrong key upstream".getBytes(StandardCharsets.UTF_8));

        awaitMessages(ch, q, 1);
        GetResponse r = ch.basicGet(q, true);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("routed");
        assertThat(r.getEnvelope().getExchange()).as("exchange the message was published to").isEqualTo(upstream);
        assertThat(ch.basicGet(q, true)).isNull();

        ch.exchangeUnbind(downstream, upstream, "orders.*");
        ch.basicPublish(upstream, "orders.new", null, new byte[1]);
        ch.basicPublish(downstream, "orders.new", null, "direct".getBytes(StandardCharsets.UTF_8));
        awaitMessages(ch, q, 1);
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("direct");
        ch.exchangeDelete(upstream);
        ch.exchangeDelete(downstream);
    }

    @Test
    void carriageReturnsAndLineFeedsAreStrippedFromExchangeNames() throws Exception {
        Channel ch = channel();
        String source = unique("crlf-src");
        String destination = unique("crlf-dst");
        ch.exchangeDeclare("\r" + source + "\n", BuiltinExchangeType.FANOUT, false, false, null);
        ch.exchangeDeclare(destination + "\r\n", BuiltinExchangeType.FANOUT, false, false, null);
        ch.exchangeDeclarePassive(source + "\r");
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, destination, "");

        ch.exchangeBind(destination + "\n", source + "\n", "");
        ch.basicPublish(source, "", null, "through".getBytes(StandardCharsets.UTF_8));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 1);
        ch.exchangeUnbind("\n" + destination, "\r" + source, "");
        ch.basicPublish(source, "", null, "dropped".getBytes(StandardCharsets.UTF_8));
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);

        ch.exchangeDelete(source + "\r\n");
        ch.exchangeDelete("\n" + destination);
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeDeclarePassive(source));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
    }

    @Test
    void cyclesOfExchangeBindingsDeliverOnce() throws Exception {
        Channel ch = channel();
        String a = unique("a");
        String b = unique("b");
        ch.exchangeDeclare(a, "fanout");
        ch.exchangeDeclare(b, "fanout");
        ch.exchangeBind(b, a, "");
        ch.exchangeBind(a, b, "");
        ch.exchangeBind(a, a, "");
        String qa = ch.queueDeclare().getQueue();
        String qb = ch.queueDeclare().getQueue();
        ch.queueBind(qa, a, "");
        ch.queueBind(qb, b, "");

        ch.basicPublish(a, "", null, "once".getBytes(StandardCharsets.UTF_8));

        awaitMessages(ch, qa, 1);
        awaitMessages(ch, qb, 1);
        assertThat(ch.isOpen()).isTrue();
        ch.exchangeDelete(a);
        ch.exchangeDelete(b);
    }

    @Test
    void autoDeleteExchangeGoesWhenItsLastBindingIsRemoved() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String x = unique("auto");
        ch.exchangeDeclare(x, "direct", false, true, null);
        ch.exchangeDeclarePassive(x); // never bound: it stays
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, x, "one");
        ch.queueBind(q, x, "two");

        ch.queueUnbind(q, x, "one");
        ch.exchangeDeclarePassive(x); // one binding left

        ch.queueUnbind(q, x, "two");
        Channel probe = c.createChannel();
        assertThat(Closes.channelClose(() -> probe.exchangeDeclarePassive(x)).getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
    }

    @Test
    void autoDeleteExchangeGoesWhenItsLastExchangeBindingIsRemoved() throws Exception {
        Connection c = connect();
        Channel ch = c.createChannel();
        String x = unique("auto");
        String destination = unique("dst");
        ch.exchangeDeclare(x, "fanout", false, true, null);
        ch.exchangeDeclare(destination, "fanout");
        ch.exchangeBind(destination, x, "");

        ch.exchangeUnbind(destination, x, "");

        Channel probe = c.createChannel();
        assertThat(Closes.channelClose(() -> probe.exchangeDeclarePassive(x)).getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        ch.exchangeDelete(destination);
    }

    @Test
    void publishingToAnInternalExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        String x = unique("internal");
        ch.exchangeDeclare(x, "fanout", false, false, true, null);

        ch.basicPublish(x, "", null, new byte[1]);
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclare());

        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText())
                .isEqualTo("ACCESS_REFUSED - cannot publish to internal exchange '" + x + "' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);
    }

    @Test
    void internalExchangeReceivesThroughExchangeBindings() throws Exception {
        Channel ch = channel();
        String front = unique("front");
        String internal = unique("internal");
        ch.exchangeDeclare(front, "direct");
        ch.exchangeDeclare(internal, "fanout", false, false, true, null);
        ch.exchangeBind(internal, front, "k");
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, internal, "");

        ch.basicPublish(front, "k", null, "via e2e".getBytes(StandardCharsets.UTF_8));

        awaitMessages(ch, q, 1);
        assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("via e2e");
        ch.exchangeDelete(front);
        ch.exchangeDelete(internal);
    }

    // ---------------------------------------------------------------- the default exchange in bindings

    @Test
    void bindingAQueueToTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        String q = ch.queueDeclare().getQueue();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueBind(q, "", q));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - operation not permitted on the default exchange");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(20);
    }

    @Test
    void unbindingAQueueFromTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        String q = ch.queueDeclare().getQueue();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueUnbind(q, "", q));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getMethodId()).isEqualTo(50);
    }

    @Test
    void bindingFromTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        String x = unique("x");
        ch.exchangeDeclare(x, "direct", false, true, null);
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeBind(x, "", "k"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - operation not permitted on the default exchange");
        assertThat(close.getClassId()).isEqualTo(40);
        assertThat(close.getMethodId()).isEqualTo(30);
    }

    @Test
    void bindingToTheDefaultExchangeIsAccessRefused() throws Exception {
        Channel ch = channel();
        String x = unique("x");
        ch.exchangeDeclare(x, "direct", false, true, null);
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.exchangeBind("", x, "k"));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.ACCESS_REFUSED);
        assertThat(close.getReplyText()).isEqualTo("ACCESS_REFUSED - operation not permitted on the default exchange");
    }

    @Test
    void bindingToAMissingExchangeIsNotFound() throws Exception {
        Channel ch = channel();
        String q = ch.queueDeclare().getQueue();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueBind(q, "no-such-exchange", "k", Map.of()));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'");
    }

    private static void awaitMessages(Channel ch, String q, int count) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == count);
    }
}
