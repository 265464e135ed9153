package io.warren.it.basic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.LongStringHelper;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import io.warren.it.BrokerTest;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Message content: the 14 basic properties, every field-table value type in headers, bodies split
 * over many frames, empty bodies, the user_id check and the maximum message size.
 */
@Timeout(60)
class ContentTest extends BrokerTest {
    /** A delivered message as the consumer saw it. */
    private record Received(AMQP.BasicProperties props, byte[] body) {
    }

    private static String queue(Channel ch) throws Exception {
        return ch.queueDeclare("content-" + UUID.randomUUID(), false, false, false, null).getQueue();
    }

    /** Publishes one message to a fresh queue and returns it as a consumer receives it. */
    private static Received roundTrip(Connection conn, AMQP.BasicProperties props, byte[] body) throws Exception {
        Channel ch = conn.createChannel();
        String q = queue(ch);
        BlockingQueue<Received> got = new ArrayBlockingQueue<>(1);
        ch.basicConsume(q, true, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties p, byte[] b) {
                got.add(new Received(p, b));
            }
        });
        ch.basicPublish("", q, props, body);
        Received r = got.poll(10, TimeUnit.SECONDS);
        assertThat(r).as("delivery").isNotNull();
        ch.queueDelete(q);
        ch.close();
        return r;
    }

    private static AMQP.Channel.Close awaitChannelClose(Channel ch) {
        await().atMost(Duration.ofSeconds(5)).until(() -> !ch.isOpen());
        ShutdownSignalException s = ch.getCloseReason();
        assertThat(s.isHardError()).as("channel error expected, got " + s.getReason()).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The content header payload the client would write for these properties (tables in key order). */
    private static byte[] encodedHeader(AMQP.BasicProperties props) throws Exception {
        AMQP.BasicProperties sorted = props.builder()
                .headers(props.getHeaders() == null ? null : (Map<String, Object>) canonical(props.getHeaders()))
                .build();
        return sorted.toFrame(0, 0).getPayload();
    }

    /** Tables with sorted keys, recursively, so two equal tables encode to the same bytes. */
    @SuppressWarnings("unchecked")
    private static Object canonical(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, x) -> out.put((String) k, canonical(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(canonical(x)));
            return out;
        }
        return v;
    }

    @Test
    void allFourteenPropertiesRoundTrip() throws Exception {
        Date timestamp = new Date(1_700_000_000_000L); // whole seconds: AMQP timestamps have no milliseconds
        AMQP.BasicProperties sent = new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .contentEncoding("gzip")
                .headers(Map.of("h", "v"))
                .deliveryMode(2)
                .priority(7)
                .correlationId("corr-1")
                .replyTo("reply-queue")
                .expiration("60000")
                .messageId("msg-1")
                .timestamp(timestamp)
                .type("order.created")
                .userId("guest")
                .appId("content-test")
                .clusterId("cluster-a")
                .build();

        Received r = roundTrip(connect(), sent, "{}".getBytes());

        AMQP.BasicProperties p = r.props();
        assertThat(p.getContentType()).isEqualTo("application/json");
        assertThat(p.getContentEncoding()).isEqualTo("gzip");
        assertThat(p.getHeaders()).hasSize(1);
        assertThat(p.getHeaders().get("h")).hasToString("v");
        assertThat(p.getDeliveryMode()).isEqualTo(2);
        assertThat(p.getPriority()).isEqualTo(7);
        assertThat(p.getCorrelationId()).isEqualTo("corr-1");
        assertThat(p.getReplyTo()).isEqualTo("reply-queue");
        assertThat(p.getExpiration()).isEqualTo("60000");
        assertThat(p.getMessageId()).isEqualTo("msg-1");
        assertThat(p.getTimestamp()).isEqualTo(timestamp);
        assertThat(p.getType()).isEqualTo("order.created");
        assertThat(p.getUserId()).isEqualTo("guest");
        assertThat(p.getAppId()).isEqualTo("content-test");
        assertThat(p.getClusterId()).isEqualTo("cluster-a");
        assertThat(encodedHeader(p)).isEqualTo(encodedHeader(sent));
        assertThat(r.body()).isEqualTo("{}".getBytes());
    }

    @Test
    void absentPropertiesStayAbsent() throws Exception {
        Received r = roundTrip(connect(), new AMQP.BasicProperties.Builder().messageId("only").build(), new byte[] {1});
        AMQP.BasicProperties p = r.props();
        assertThat(p.getMessageId()).isEqualTo("only");
        assertThat(p.getContentType()).isNull();
        assertThat(p.getHeaders()).isNull();
        assertThat(p.getDeliveryMode()).isNull();
        assertThat(p.getPriority()).isNull();
        assertThat(p.getTimestamp()).isNull();
        assertThat(p.getUserId()).isNull();
        assertThat(p.getClusterId()).isNull();

        Received none = roundTrip(connect(), null, new byte[] {2});
        assertThat(encodedHeader(none.props())).isEqualTo(encodedHeader(new AMQP.BasicProperties()));
    }

    @Test
    void everyFieldTableTypeRoundTripsInHeaders() throws Exception {
        Date date = new Date(1_600_000_000_000L);
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("inner-int", 5);
        nested.put("inner-list", List.of("a", 2L));
        nested.put("inner-map", Map.of("deep", true));
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("string", "héllo wörld");
        headers.put("longstring", LongStringHelper.asLongString(new byte[] {'r', 'a', 'w', 0, (byte) 0xff}));
        headers.put("int", Integer.MIN_VALUE);
        headers.put("long", Long.MAX_VALUE);
        headers.put("short", (short) -12345);
        headers.put("byte", (byte) -7);
        headers.put("float", 3.25f);
        headers.put("double", -1.0e300);
        headers.put("decimal", new BigDecimal("-12345.678"));
        headers.put("true", true);
        headers.put("false", false);
        headers.put("date", date);
        headers.put("map", nested);
        headers.put("list", List.of(1, "two", 3.0d, List.of((short) 4), Map.of("k", "v"), new byte[] {9}));
        headers.put("empty-list", List.of());
        headers.put("empty-map", Map.of());
        headers.put("bytes", new byte[] {0, 1, (byte) 0x80, (byte) 0xff});
        headers.put("void", null);
        AMQP.BasicProperties sent = new AMQP.BasicProperties.Builder().headers(headers).build();

        Received r = roundTrip(connect(), sent, new byte[0]);
        Map<String, Object> h = r.props().getHeaders();

        assertThat(h.keySet()).containsExactlyInAnyOrderElementsOf(headers.keySet());
        assertThat(h.get("string")).isInstanceOf(LongString.class).hasToString("héllo wörld");
        assertThat(((LongString) h.get("longstring")).getBytes()).containsExactly('r', 'a', 'w', 0, 0xff);
        assertThat(h.get("int")).isEqualTo(Integer.MIN_VALUE);
        assertThat(h.get("long")).isEqualTo(Long.MAX_VALUE);
        assertThat(h.get("short")).isEqualTo((short) -12345);
        assertThat(h.get("byte")).isEqualTo((byte) -7);
        assertThat(h.get("float")).isEqualTo(3.25f);
        assertThat(h.get("double")).isEqualTo(-1.0e300);
        assertThat(h.get("decimal")).isEqualTo(new BigDecimal("-12345.678"));
        assertThat(h.get("true")).isEqualTo(true);
        assertThat(h.get("false")).isEqualTo(false);
        assertThat(h.get("date")).isEqualTo(date);
        assertThat(h.get("bytes")).isEqualTo(new byte[] {0, 1, (byte) 0x80, (byte) 0xff});
        assertThat(h).containsEntry("void", null);
        assertThat(h.get("empty-list")).isEqualTo(List.of());
        assertThat(h.get("empty-map")).isEqualTo(Map.of());

        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) h.get("map");
        assertThat(map.get("inner-int")).isEqualTo(5);
        assertThat((List<?>) map.get("inner-list")).hasSize(2);
        assertThat(((List<?>) map.get("inner-list")).get(0)).hasToString("a");
        assertThat(((List<?>) map.get("inner-list")).get(1)).isEqualTo(2L);
        assertThat(((Map<?, ?>) map.get("inner-map")).get("deep")).isEqualTo(true);

        List<?> list = (List<?>) h.get("list");
        assertThat(list).hasSize(6);
        assertThat(list.get(0)).isEqualTo(1);
        assertThat(list.get(1)).hasToString("two");
        assertThat(list.get(2)).isEqualTo(3.0d);
        assertThat(list.get(3)).isEqualTo(List.of((short) 4));
        assertThat(((Map<?, ?>) list.get(4)).get("k")).hasToString("v");
        assertThat(list.get(5)).isEqualTo(new byte[] {9});

        // Same table, same bytes: the broker passed the header through unchanged.
        assertThat(encodedHeader(r.props())).isEqualTo(encodedHeader(sent));
    }

    @Test
    void headersSurviveTheHeadersExchange() throws Exception {
        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.queueBind(q, "amq.match", "", Map.of("x-match", "all", "kind", "test", "n", 42));
        try {
            Map<String, Object> headers = new HashMap<>();
            headers.put("kind", "test");
            headers.put("n", 42);
            headers.put("extra", List.of(new BigDecimal("1.5"), new Date(1_000_000_000_000L), (byte) 1));
            AMQP.BasicProperties sent = new AMQP.BasicProperties.Builder().headers(headers).build();
            ch.basicPublish("amq.match", "", sent, new byte[] {1});

            GetResponse r = ch.basicGet(q, true);
            assertThat(r).isNotNull();
            assertThat(encodedHeader(r.getProps())).isEqualTo(encodedHeader(sent));
        } finally {
            ch.queueDelete(q);
        }
    }

    @Test
    void userIdOfTheAuthenticatedUserIsAccepted() throws Exception {
        Received r = roundTrip(connect(), new AMQP.BasicProperties.Builder().userId("guest").build(), new byte[] {1});
        assertThat(r.props().getUserId()).isEqualTo("guest");
    }

    @Test
    void userIdOfAnotherUserIsPreconditionFailed() throws Exception {
        Connection conn = connect();
        Channel ch = conn.createChannel();
        String q = queue(ch);

        ch.basicPublish("", q, new AMQP.BasicProperties.Builder().userId("mallory").build(), new byte[] {1});

        AMQP.Channel.Close close = awaitChannelClose(ch);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo(
                "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated user was 'guest'");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);
        assertThat(conn.createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void emptyBodiesArriveEmpty() throws Exception {
        Received plain = roundTrip(connect(), null, new byte[0]);
        assertThat(plain.body()).isEmpty();
        Received withProps = roundTrip(connect(), new AMQP.BasicProperties.Builder().type("t").build(), new byte[0]);
        assertThat(withProps.body()).isEmpty();
        assertThat(withProps.props().getType()).isEqualTo("t");

        Channel ch = connect().createChannel();
        String q = queue(ch);
        ch.basicPublish("", q, null, new byte[0]);
        GetResponse g = ch.basicGet(q, true);
        assertThat(g.getBody()).isEmpty();
        assertThat(g.getProps().getBodySize()).isZero();
    }

    @Test
    void oneMebibyteBodyArrivesIntactWithTheDefaultFrameMax() throws Exception {
        Connection conn = connect();
        assertThat(conn.getFrameMax()).isEqualTo(131072);
        byte[] body = randomBytes(1 << 20, 1);

        Received r = roundTrip(conn, null, body);

        assertThat(r.body()).isEqualTo(body);
    }

    @Test
    void bodiesArriveIntactWithASmallClientFrameMax() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedFrameMax(4096);
        Connection conn = track(f.newConnection());
        assertThat(conn.getFrameMax()).isEqualTo(4096);

        byte[] big = randomBytes(1 << 20, 2);
        assertThat(roundTrip(conn, null, big).body()).isEqualTo(big);

        // Around the frame boundary: a body frame carries at most frame_max - 8 bytes.
        for (int size : new int[] {4087, 4088, 4089, 8175, 8176, 8177}) {
            byte[] body = randomBytes(size, size);
            assertThat(roundTrip(conn, null, body).body()).as("body of %d bytes", size).isEqualTo(body);
        }
    }

    @Test
    void bodyOverTheMaximumMessageSizeIsPreconditionFailed() throws Exception {
        Warren small = new Warren(new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1")
                .dataDir(Files.createTempDirectory("warren-max-size")).maxMessageSize(1024)).start();
        try {
            ConnectionFactory f = factory();
            f.setPort(small.amqpPort());
            Connection conn = track(f.newConnection());
            Channel ch = conn.createChannel();
            String q = queue(ch);

            ch.basicPublish("", q, null, new byte[1024]); // exactly the limit is fine
            assertThat(ch.basicGet(q, true).getBody()).hasSize(1024);

            ch.basicPublish("", q, null, new byte[1025]);

            AMQP.Channel.Close close = awaitChannelClose(ch);
            assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
            assertThat(close.getReplyText())
                    .isEqualTo("PRECONDITION_FAILED - message size 1025 is larger than configured max size 1024");
            assertThat(close.getClassId()).isEqualTo(60);
            assertThat(close.getMethodId()).isEqualTo(40);
            assertThat(conn.isOpen()).isTrue();
            assertThat(conn.createChannel().queueDeclarePassive(q).getMessageCount()).isZero();
        } finally {
            small.close();
        }
    }
}
