package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sender-selected distribution as RabbitMQ does it (its Java client's CcRoutes test and more): the
 * CC and BCC headers add routing keys, on every exchange of the way; a queue gets a message once
 * however many keys reach it; BCC never reaches a consumer; a CC or BCC that is not an array is a 406.
 */
@Timeout(60)
class SenderSelectedDistributionTest extends BrokerTest {
    private Channel ch;
    private final List<String> queues = new ArrayList<>();

    @BeforeEach
    void declareQueues() throws Exception {
        ch = connect().createChannel();
        for (int i = 0; i < 3; i++) {
            queues.add(ch.queueDeclare("cc-" + UUID.randomUUID(), false, false, true, null).getQueue());
        }
        ch.confirmSelect();
    }

    private String q(int i) {
        return queues.get(i - 1);
    }

    private static String name(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private void publish(String exchange, String key, Map<String, Object> headers) throws Exception {
        ch.basicPublish(exchange, key, new AMQP.BasicProperties.Builder().headers(headers).build(),
                "body".getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(5000);
    }

    private static Map<String, Object> headers(Object cc, Object bcc) {
        Map<String, Object> h = new HashMap<>();
        if (cc != null) {
            h.put("CC", cc);
        }
        if (bcc != null) {
            h.put("BCC", bcc);
        }
        return h;
    }

    /** Takes what each of the three queues holds: its one message, or null; never a second one. */
    private List<GetResponse> takeAll() throws Exception {
        List<GetResponse> got = new ArrayList<>();
        for (String q : queues) {
            GetResponse r = ch.basicGet(q, true);
            if (r != null) {
                assertThat(r.getMessageCount()).as("messages left in %s", q).isZero();
            }
            got.add(r);
        }
        return got;
    }

    private void expectReached(int... which) throws Exception {
        List<GetResponse> got = takeAll();
        for (int i = 1; i <= 3; i++) {
            boolean expected = false;
            for (int w : which) {
                expected |= w == i;
            }
            assertThat(got.get(i - 1) != null).as("queue %d reached", i).isEqualTo(expected);
        }
    }

    @Test
    void ccOnTheDefaultExchangeReachesTheNamedQueuesWithThePublishedRoutingKey() throws Exception {
        publish("", q(1), headers(List.of(q(2), q(3)), null));

        for (GetResponse r : takeAll()) {
            assertThat(r).isNotNull();
            assertThat(r.getEnvelope().getRoutingKey()).isEqualTo(q(1));
            assertThat(r.getProps().getHeaders()).containsKey("CC");
            assertThat(r.getProps().getHeaders().get("CC").toString()).isEqualTo(List.of(q(2), q(3)).toString());
        }
    }

    @Test
    void bccRoutesButIsTakenOffTheMessageWhileOtherHeadersStay() throws Exception {
        Map<String, Object> h = headers(null, List.of(q(2)));
        h.put("colour", "green");
        publish("", q(1), h);

        List<GetResponse> got = takeAll();
        assertThat(got.get(2)).isNull();
        for (GetResponse r : got.subList(0, 2)) {
            assertThat(r).isNotNull();
            assertThat(r.getProps().getHeaders()).doesNotContainKeys("BCC", "CC");
            assertThat(r.getProps().getHeaders().get("colour").toString()).isEqualTo("green");
        }
    }

    @Test
    void aQueueThatSeveralKeysReachGetsTheMessageOnce() throws Exception {
        publish("", q(1), headers(List.of(q(1), q(1)), List.of(q(1))));
        expectReached(1);
    }

    @Test
    void keysThatNameNoQueueAndEmptyListsAreIgnored() throws Exception {
        publish("", q(1), headers(List.of(), List.of("frob")));
        expectReached(1);
    }

    @Test
    void elementsThatAreNotStringsAreSkipped() throws Exception {
        publish("", q(1), headers(List.of(42, q(2), true), null));
        expectReached(1, 2);
    }

    @Test
    void aDirectExchangeMatchesEachKeyAgainstItsBindings() throws Exception {
        String direct = name("cc-direct");
        ch.exchangeDeclare(direct, BuiltinExchangeType.DIRECT, false, true, null);
        ch.queueBind(q(2), direct, "second");
        ch.queueBind(q(3), direct, "third");

        publish(direct, "nothing-bound", headers(List.of("second"), List.of("third")));
        expectReached(2, 3);
        // Keys that are queue names mean nothing to a direct exchange without such bindings.
        publish(direct, q(1), headers(List.of(q(1)), null));
        expectReached();
    }

    @Test
    void aTopicExchangeMatchesEachKeyAgainstItsPatterns() throws Exception {
        String topic = name("cc-topic");
        ch.exchangeDeclare(topic, BuiltinExchangeType.TOPIC, false, true, null);
        ch.queueBind(q(2), topic, "stock.*");
        ch.queueBind(q(3), topic, "#.eur");

        publish(topic, "", headers(List.of("stock.usd"), null));
        expectReached(2);
        publish(topic, "news", headers(List.of("stock.eur", "fx.eur"), null));
        expectReached(2, 3);
    }

    @Test
    void exchangeToExchangeBindingsSeeEveryKey() throws Exception {
        String direct = name("cc-e2e-direct");
        String topic = name("cc-e2e-topic");
        ch.exchangeDeclare(direct, BuiltinExchangeType.DIRECT, false, true, null);
        ch.exchangeDeclare(topic, BuiltinExchangeType.TOPIC, false, true, null);
        ch.exchangeBind(topic, direct, "routing_key1");
        ch.queueBind(q(2), topic, "routing_key2");

        // routing_key1 takes the message to the topic exchange, where routing_key2 (a BCC key) matches.
        publish(direct, "", headers(List.of("routing_key1"), List.of("routing_key2")));

        List<GetResponse> got = takeAll();
        assertThat(got.get(0)).isNull();
        assertThat(got.get(2)).isNull();
        assertThat(got.get(1)).isNotNull();
        assertThat(got.get(1).getProps().getHeaders()).containsKey("CC").doesNotContainKey("BCC");
    }

    @Test
    void fanoutAndHeadersExchangesIgnoreTheKeys() throws Exception {
        String fanout = name("cc-fanout");
        String match = name("cc-headers");
        ch.exchangeDeclare(fanout, BuiltinExchangeType.FANOUT, false, true, null);
        ch.exchangeDeclare(match, BuiltinExchangeType.HEADERS, false, true, null);
        ch.queueBind(q(1), fanout, "");
        ch.queueBind(q(1), match, "", Map.of("x-match", "all", "colour", "red"));

        publish(fanout, "", headers(List.of(q(2)), List.of(q(3))));
        expectReached(1);
        Map<String, Object> h = headers(List.of(q(2)), null);
        h.put("colour", "red");
        publish(match, "", h);
        expectReached(1);
    }

    @Test
    void theAlternateExchangeRoutesWithTheKeysToo() throws Exception {
        String alternate = name("cc-ae");
        String main = name("cc-main");
        ch.exchangeDeclare(alternate, BuiltinExchangeType.DIRECT, false, true, null);
        ch.exchangeDeclare(main, BuiltinExchangeType.DIRECT, false, true, Map.of("alternate-exchange", alternate));
        ch.queueBind(q(3), alternate, "cc-key");

        publish(main, "unbound", headers(List.of("cc-key"), null));
        expectReached(3);
    }

    @Test
    void aMandatoryMessageThatOnlyACcKeyRoutesIsNotReturned() throws Exception {
        BlockingQueue<String> returns = new LinkedBlockingQueue<>();
        ch.addReturnListener(r -> returns.add(r.getRoutingKey()));
        String missing = name("missing");

        ch.basicPublish("", missing, true, new AMQP.BasicProperties.Builder()
                .headers(headers(List.of(q(2)), null)).build(), new byte[0]);
        ch.basicPublish("", missing, true, new AMQP.BasicProperties.Builder()
                .headers(headers(null, List.of(name("also-missing")))).build(), new byte[0]);
        ch.waitForConfirmsOrDie(5000);

        assertThat(returns.poll(5, TimeUnit.SECONDS)).isEqualTo(missing);
        assertThat(returns.poll(200, TimeUnit.MILLISECONDS)).isNull();
        expectReached(2);
    }

    @Test
    void aTransactionalPublishRoutesWithItsKeysAtCommit() throws Exception {
        Channel tx = connect().createChannel();
        tx.txSelect();
        tx.basicPublish("", q(1), new AMQP.BasicProperties.Builder()
                .headers(headers(null, List.of(q(3)))).build(), new byte[0]);
        expectReached();

        tx.txCommit();
        List<GetResponse> got = takeAll();
        assertThat(got.get(1)).isNull();
        assertThat(got.get(0)).isNotNull();
        assertThat(got.get(2)).isNotNull();
        assertThat(got.get(2).getProps().getHeaders()).doesNotContainKey("BCC");
    }

    @Test
    void aCcThatIsNotAnArrayClosesTheChannelWithRabbitMqsWords() throws Exception {
        Channel bad = connect().createChannel();
        bad.basicPublish("", q(1), new AMQP.BasicProperties.Builder().headers(Map.of("CC", 0)).build(), new byte[0]);

        AMQP.Channel.Close close = awaitChannelClose(bad);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText())
                .isEqualTo("PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",signedint}");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);
        expectReached();
    }

    @Test
    void aBccThatIsAStringClosesTheChannel() throws Exception {
        Channel bad = connect().createChannel();
        bad.basicPublish("", q(1), new AMQP.BasicProperties.Builder()
                .headers(Map.of("CC", List.of(q(2)), "BCC", q(3))).build(), new byte[0]);

        AMQP.Channel.Close close = awaitChannelClose(bad);
        assertThat(close.getReplyText())
                .isEqualTo("PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"BCC\",longstr}");
        expectReached();
    }

    private static AMQP.Channel.Close awaitChannelClose(Channel channel) {
        await().atMost(Duration.ofSeconds(5)).until(() -> !channel.isOpen());
        ShutdownSignalException s = channel.getCloseReason();
        assertThat(s.isHardError()).as("channel error expected, got %s", s.getReason()).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }
}
