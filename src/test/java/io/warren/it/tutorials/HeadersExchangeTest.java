package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The headers exchange through the broker, in the style of the tutorials: queues bound with header
 * arguments and x-match all/any, messages routed on their headers and never on the routing key.
 */
class HeadersExchangeTest extends BrokerTest {
    private Channel channel;
    private String exchange;

    @BeforeEach
    void declareExchange() throws Exception {
        channel = connect().createChannel();
        exchange = "headers-" + UUID.randomUUID();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.HEADERS);
        channel.confirmSelect();
    }

    private String boundQueue(Map<String, Object> arguments) throws Exception {
        String queue = channel.queueDeclare().getQueue();
        channel.queueBind(queue, exchange, "", arguments);
        return queue;
    }

    private static Map<String, Object> args(Object... keyValues) {
        Map<String, Object> map = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    private void publish(String body, Map<String, Object> headers) throws Exception {
        AMQP.BasicProperties props = headers == null ? null : new AMQP.BasicProperties.Builder().headers(headers).build();
        channel.basicPublish(exchange, "ignored." + body, props, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits for every publish to be confirmed, so it has reached its queues, then empties the queue. */
    private List<String> drain(String queue) throws Exception {
        channel.waitForConfirmsOrDie(5_000);
        List<String> got = new ArrayList<>();
        GetResponse r;
        while ((r = channel.basicGet(queue, true)) != null) {
            got.add(new String(r.getBody(), StandardCharsets.UTF_8));
        }
        return got;
    }

    @Test
    void matchAllNeedsEveryBoundHeaderWithAnEqualValue() throws Exception {
        String pdfReports = boundQueue(args("x-match", "all", "format", "pdf", "type", "report"));

        publish("both", args("format", "pdf", "type", "report"));
        publish("both-and-more", args("format", "pdf", "type", "report", "lang", "en"));
        publish("format-only", args("format", "pdf"));
        publish("wrong-type", args("format", "pdf", "type", "log"));
        publish("no-headers", null);

        assertThat(drain(pdfReports)).containsExactly("both", "both-and-more");
    }

    @Test
    void matchAnyNeedsOneBoundHeaderWithAnEqualValue() throws Exception {
        String pdfOrReport = boundQueue(args("x-match", "any", "format", "pdf", "type", "report"));

        publish("both", args("format", "pdf", "type", "report"));
        publish("format-only", args("format", "pdf"));
        publish("type-only", args("type", "report", "format", "zip"));
        publish("neither", args("format", "zip", "type", "log"));
        publish("no-headers", null);

        assertThat(drain(pdfOrReport)).containsExactly("both", "format-only", "type-only");
    }

    @Test
    void withoutXMatchTheDefaultIsAll() throws Exception {
        String queue = boundQueue(args("format", "pdf", "type", "report"));

        publish("both", args("format", "pdf", "type", "report"));
        publish("format-only", args("format", "pdf"));

        assertThat(drain(queue)).containsExactly("both");
    }

    @Test
    void routingKeyPlaysNoPart() throws Exception {
        String queue = boundQueue(args("x-match", "all", "format", "pdf"));

        channel.basicPublish(exchange, "anything", new AMQP.BasicProperties.Builder()
                .headers(args("format", "pdf")).build(), "a".getBytes(StandardCharsets.UTF_8));
        channel.basicPublish(exchange, "", new AMQP.BasicProperties.Builder()
                .headers(args("format", "pdf")).build(), "b".getBytes(StandardCharsets.UTF_8));

        assertThat(drain(queue)).containsExactly("a", "b");
    }

    @Test
    void oneMessageReachesEveryMatchingQueue() throws Exception {
        String all = boundQueue(args("x-match", "all", "format", "pdf", "type", "report"));
        String any = boundQueue(args("x-match", "any", "format", "pdf", "type", "log"));
        String logs = boundQueue(args("type", "log"));

        publish("pdf-report", args("format", "pdf", "type", "report"));
        publish("zip-log", args("format", "zip", "type", "log"));
        publish("pdf-log", args("format", "pdf", "type", "log"));

        assertThat(drain(all)).containsExactly("pdf-report");
        assertThat(drain(any)).containsExactly("pdf-report", "zip-log", "pdf-log");
        assertThat(drain(logs)).containsExactly("zip-log", "pdf-log");
    }

    @Test
    void valuesMustBeEqualIncludingTheirType() throws Exception {
        String intOne = boundQueue(args("x-match", "all", "n", 1));
        String stringOne = boundQueue(args("x-match", "all", "n", "1"));

        publish("int", args("n", 1));
        publish("string", args("n", "1"));
        publish("other-int", args("n", 2));

        assertThat(drain(intOne)).containsExactly("int");
        assertThat(drain(stringOne)).containsExactly("string");
    }

    @Test
    void aBindingWithNoHeadersMatchesEverythingWithAllAndNothingWithAny() throws Exception {
        String allOfNothing = boundQueue(args("x-match", "all"));
        String anyOfNothing = boundQueue(args("x-match", "any"));

        publish("plain", null);
        publish("with-headers", args("format", "pdf"));

        assertThat(drain(allOfNothing)).containsExactly("plain", "with-headers");
        assertThat(drain(anyOfNothing)).isEmpty();
    }

    @Test
    void bindingArgumentsStartingWithXAreNotMatchedOn() throws Exception {
        String queue = boundQueue(args("x-match", "all", "x-custom", "ignored", "format", "pdf"));

        publish("no-x-header", args("format", "pdf"));
        publish("wrong-format", args("format", "zip", "x-custom", "ignored"));

        assertThat(drain(queue)).containsExactly("no-x-header");
    }

    @Test
    void unbindingWithTheSameArgumentsRemovesTheBinding() throws Exception {
        Map<String, Object> arguments = args("x-match", "any", "format", "pdf");
        String queue = boundQueue(arguments);
        publish("bound", args("format", "pdf"));
        assertThat(drain(queue)).containsExactly("bound");

        channel.queueUnbind(queue, exchange, "", arguments);
        publish("unbound", args("format", "pdf"));

        assertThat(drain(queue)).isEmpty();
    }

    @Test
    void anInvalidXMatchValueIsRefused() throws Exception {
        String queue = channel.queueDeclare().getQueue();
        Throwable thrown = catchThrowable(
                () -> channel.queueBind(queue, exchange, "", args("x-match", "some")));

        Throwable t = thrown;
        while (t != null && !(t instanceof ShutdownSignalException)) {
            t = t.getCause();
        }
        assertThat(t).as("channel closed, got %s", thrown).isNotNull();
        AMQP.Channel.Close close = (AMQP.Channel.Close) ((ShutdownSignalException) t).getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - Invalid x-match field value <<\"some\">>;"
                + " expected all, any, all-with-x, or any-with-x");
    }

    @Test
    void withXModesMatchOnBindingArgumentsStartingWithXToo() throws Exception {
        String allWithX = boundQueue(args("x-match", "all-with-x", "x-custom", "v", "format", "pdf"));
        String anyWithX = boundQueue(args("x-match", "any-with-x", "x-custom", "v"));
        String anyWithoutX = boundQueue(args("x-match", "any", "x-custom", "v"));

        publish("format-only", args("format", "pdf"));
        publish("format-and-x", args("format", "pdf", "x-custom", "v"));
        publish("x-only", args("x-custom", "v"));
        publish("other-x", args("x-custom", "w", "format", "pdf"));

        assertThat(drain(allWithX)).containsExactly("format-and-x");
        assertThat(drain(anyWithX)).containsExactly("format-and-x", "x-only");
        assertThat(drain(anyWithoutX)).isEmpty();
    }
}
