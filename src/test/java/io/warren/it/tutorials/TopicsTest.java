package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RabbitMQ tutorial 5, topics: EmitLogTopic publishes with a dotted routing key to a topic exchange,
 * ReceiveLogsTopic binds its temporary queue with patterns where '*' is exactly one word and '#'
 * zero or more. Everything is matched by the broker; the tests only publish and look.
 */
class TopicsTest extends BrokerTest {

    /** Every routing key each binding pattern is tried against. */
    private static final List<String> KEYS = List.of(
            "", "a", "b", "ab", "a.b", "b.a", "a.bb", "a.b.c", "a.c.b", "a.x.y.b", "a..b", "a.", ".b", ".", "..");

    private static String topicLogs() {
        return "topic_logs-" + UUID.randomUUID();
    }

    /** Binding key, then the keys of {@link #KEYS} it matches, in publishing order; '_' is "". */
    static Stream<Arguments> patterns() {
        return Stream.of(
                // '#' is zero or more words: everything, the empty key included.
                arguments("#", "_ a b ab a.b b.a a.bb a.b.c a.c.b a.x.y.b a..b a. .b . .."),
                arguments("#.#", "_ a b ab a.b b.a a.bb a.b.c a.c.b a.x.y.b a..b a. .b . .."),
                // '*' is exactly one word, and a word may be empty; the empty key has no words.
                arguments("*", "a b ab"),
                arguments("*.*", "a.b b.a a.bb a. .b ."),
                arguments("*.#", "a b ab a.b b.a a.bb a.b.c a.c.b a.x.y.b a..b a. .b . .."),
                arguments("#.*", "a b ab a.b b.a a.bb a.b.c a.c.b a.x.y.b a..b a. .b . .."),
                arguments("a.*", "a.b a.bb a."),
                arguments("*.b", "a.b .b"),
                arguments("a.*.b", "a.c.b a..b"),
                arguments("a.#", "a a.b a.bb a.b.c a.c.b a.x.y.b a..b a."),
                arguments("#.b", "b a.b a.c.b a.x.y.b a..b .b"),
                arguments("a.#.b", "a.b a.c.b a.x.y.b a..b"),
                arguments("#.a.#", "a a.b b.a a.bb a.b.c a.c.b a.x.y.b a..b a."),
                // Literal keys: a key without dots is one word; empty words are words too.
                arguments("ab", "ab"),
                arguments("a.b", "a.b"),
                arguments("a..b", "a..b"),
                arguments("a.", "a."),
                arguments("..", ".."),
                arguments("_", "_"));
    }

    @ParameterizedTest(name = "binding \"{0}\" matches {1}")
    @MethodSource("patterns")
    void bindingPatternMatchesExactlyTheseKeys(String pattern, String matches) throws Exception {
        String bindingKey = pattern.equals("_") ? "" : pattern;
        List<String> expected = Arrays.stream(matches.trim().split(" +"))
                .map(k -> k.equals("_") ? "" : k)
                .toList();

        String exchange = topicLogs();
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC);
        String queueName = channel.queueDeclare().getQueue();
        channel.queueBind(queueName, exchange, bindingKey);

        channel.confirmSelect();
        for (String key : KEYS) {
            channel.basicPublish(exchange, key, null, key.getBytes(StandardCharsets.UTF_8));
        }
        channel.waitForConfirmsOrDie(5000);

        List<String> routed = new ArrayList<>();
        GetResponse r;
        while ((r = channel.basicGet(queueName, true)) != null) {
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo(r.getEnvelope().getRoutingKey());
            routed.add(r.getEnvelope().getRoutingKey());
        }
        assertThat(routed).containsExactlyElementsOf(expected);
    }

    /** ReceiveLogsTopic: a temporary queue bound with each pattern, collecting the routing keys it sees. */
    private BlockingQueue<String> receiveLogs(String exchange, String... bindingKeys) throws Exception {
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, "topic");
        String queueName = channel.queueDeclare().getQueue();
        for (String bindingKey : bindingKeys) {
            channel.queueBind(queueName, exchange, bindingKey);
        }
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        DeliverCallback deliverCallback = (consumerTag, delivery) -> received.add(delivery.getEnvelope().getRoutingKey());
        channel.basicConsume(queueName, true, deliverCallback, consumerTag -> { });
        return received;
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
    void theTutorialsAnimalsExample() throws Exception {
        String exchange = topicLogs();
        BlockingQueue<String> q1 = receiveLogs(exchange, "*.orange.*");
        BlockingQueue<String> q2 = receiveLogs(exchange, "*.*.rabbit", "lazy.#");

        Channel emitter = connect().createChannel();
        emitter.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC);
        for (String key : List.of(
                "quick.orange.rabbit",      // both
                "lazy.orange.elephant",     // both
                "quick.orange.fox",         // Q1
                "lazy.brown.fox",           // Q2
                "lazy.pink.rabbit",         // Q2, once although two bindings match
                "quick.brown.fox",          // none
                "orange",                   // none: too few words
                "quick.orange.male.rabbit", // none: too many words
                "lazy.orange.male.rabbit",  // Q2 through lazy.#
                "lazy",                     // Q2: '#' matches zero words
                "end.orange.rabbit")) {     // both: closes both streams
            emitter.basicPublish(exchange, key, null, key.getBytes(StandardCharsets.UTF_8));
        }

        assertThat(take(q1, 4)).containsExactly(
                "quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "end.orange.rabbit");
        assertThat(take(q2, 7)).containsExactly(
                "quick.orange.rabbit", "lazy.orange.elephant", "lazy.brown.fox", "lazy.pink.rabbit",
                "lazy.orange.male.rabbit", "lazy", "end.orange.rabbit");
    }

    @Test
    void hashAloneBehavesLikeFanoutAndNoWildcardLikeDirect() throws Exception {
        String exchange = topicLogs();
        BlockingQueue<String> everything = receiveLogs(exchange, "#");
        BlockingQueue<String> onlyKern = receiveLogs(exchange, "kern.critical");

        Channel emitter = connect().createChannel();
        for (String key : List.of("anonymous.info", "kern.critical", "kern.critical.extra", "kern.critical")) {
            emitter.basicPublish(exchange, key, null, key.getBytes(StandardCharsets.UTF_8));
        }

        assertThat(take(everything, 4))
                .containsExactly("anonymous.info", "kern.critical", "kern.critical.extra", "kern.critical");
        assertThat(take(onlyKern, 2)).containsExactly("kern.critical", "kern.critical");
    }

    @Test
    void overlappingPatternsOnOneQueueDeliverOneCopy() throws Exception {
        String exchange = topicLogs();
        Channel channel = connect().createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC);
        String queueName = channel.queueDeclare().getQueue();
        for (String bindingKey : List.of("#", "a.#", "*.b", "a.b", "#.b")) {
            channel.queueBind(queueName, exchange, bindingKey);
        }

        channel.confirmSelect();
        channel.basicPublish(exchange, "a.b", null, "x".getBytes(StandardCharsets.UTF_8));
        channel.waitForConfirmsOrDie(5000);

        assertThat(channel.queueDeclarePassive(queueName).getMessageCount()).isEqualTo(1);
    }
}
