package io.warren.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldValues;
import io.warren.protocol.Properties;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HeadersExchangeTest {
    private final List<ContentHeader> made = new ArrayList<>();

    @AfterEach
    void releaseHeaders() {
        made.forEach(ContentHeader::release);
    }

    private static ClassicQueue queue(String name) {
        return new ClassicQueue(new QueueType.Spec("/", name, false, false, false, QueueArguments.NONE, null),
                new QueueType.Home(ImmediateEventExecutor.INSTANCE, null, null, Long.MAX_VALUE, null, q -> { }));
    }

    private static HeadersExchange headers() {
        return new HeadersExchange("h", false, false, false, Map.of());
    }

    /** Alternating keys and values (nulls allowed), in order. */
    private static Map<String, Object> table(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /** A content header whose headers went through the wire codec, as a publisher's would. */
    private ContentHeader message(Map<String, Object> headers) {
        Properties p = new Properties();
        p.headers = headers;
        ContentHeader h = ContentHeader.of(0, p, ByteBufAllocator.DEFAULT);
        made.add(h);
        return h;
    }

    private ContentHeader noHeaders() {
        return message(null);
    }

    private static List<String> route(Exchange x, ContentHeader header) {
        List<String> names = new ArrayList<>();
        for (Queue q : new RouteResult().route(x, "ignored", header).queues()) {
            names.add(q.name());
        }
        return names;
    }

    /** True when a binding with these arguments takes a message with these headers. */
    private boolean matches(Map<String, Object> bindingArgs, Map<String, Object> messageHeaders) {
        HeadersExchange x = headers();
        x.bind(new Binding(x, queue("q"), "", bindingArgs));
        return !route(x, messageHeaders == null ? noHeaders() : message(messageHeaders)).isEmpty();
    }

    @Test
    void allIsTheDefaultAndNeedsEveryHeader() {
        Map<String, Object> args = table("format", "pdf", "type", "report");
        assertThat(matches(args, table("format", "pdf", "type", "report"))).isTrue();
        assertThat(matches(args, table("type", "report", "format", "pdf", "extra", 1))).isTrue();
        assertThat(matches(args, table("format", "pdf"))).isFalse();
        assertThat(matches(args, table("format", "pdf", "type", "log"))).isFalse();
        assertThat(matches(args, table())).isFalse();
        assertThat(matches(args, null)).isFalse();

        Map<String, Object> explicit = table("x-match", "all", "format", "pdf", "type", "report");
        assertThat(matches(explicit, table("format", "pdf", "type", "report"))).isTrue();
        assertThat(matches(explicit, table("format", "pdf"))).isFalse();
    }

    @Test
    void anyNeedsOneHeader() {
        Map<String, Object> args = table("x-match", "any", "format", "pdf", "type", "report");
        assertThat(matches(args, table("format", "pdf"))).isTrue();
        assertThat(matches(args, table("type", "report", "other", "x"))).isTrue();
        assertThat(matches(args, table("format", "zip", "type", "log"))).isFalse();
        assertThat(matches(args, table("other", "pdf"))).isFalse();
        assertThat(matches(args, null)).isFalse();
    }

    @Test
    void withNothingWantedAllTakesEverythingAndAnyNothing() {
        assertThat(matches(table(), null)).isTrue();
        assertThat(matches(table(), table("a", 1))).isTrue();
        assertThat(matches(table("x-match", "all"), null)).isTrue();
        assertThat(matches(table("x-match", "any"), table("a", 1))).isFalse();
        assertThat(matches(table("x-match", "any", "x-a", 1), table("x-a", 1))).isFalse();
        assertThat(matches(table("x-match", "all-with-x"), null)).isTrue();
        assertThat(matches(table("x-match", "any-with-x"), table("x-match", "any-with-x"))).isFalse();
    }

    @Test
    void xArgumentsAreIgnoredByAllAndAny() {
        Map<String, Object> all = table("x-match", "all", "x-tenant", "a", "format", "pdf");
        assertThat(matches(all, table("format", "pdf"))).isTrue();
        assertThat(matches(all, table("format", "pdf", "x-tenant", "b"))).isTrue();

        Map<String, Object> any = table("x-match", "any", "x-tenant", "a", "format", "pdf");
        assertThat(matches(any, table("x-tenant", "a"))).isFalse();
        assertThat(matches(any, table("format", "pdf"))).isTrue();
    }

    @Test
    void withXVariantsCompareXArgumentsButNeverXMatch() {
        Map<String, Object> all = table("x-match", "all-with-x", "x-tenant", "a", "format", "pdf");
        assertThat(matches(all, table("format", "pdf"))).isFalse();
        assertThat(matches(all, table("format", "pdf", "x-tenant", "a"))).isTrue();
        assertThat(matches(all, table("format", "pdf", "x-tenant", "b"))).isFalse();
        // the message need not carry x-match itself
        assertThat(matches(all, table("format", "pdf", "x-tenant", "a", "x-match", "nope"))).isTrue();

        Map<String, Object> any = table("x-match", "any-with-x", "x-tenant", "a", "format", "pdf");
        assertThat(matches(any, table("x-tenant", "a"))).isTrue();
        assertThat(matches(any, table("format", "pdf"))).isTrue();
        assertThat(matches(any, table("x-tenant", "b", "format", "zip"))).isFalse();
        assertThat(matches(any, table("x-match", "any-with-x"))).isFalse();
    }

    @Test
    void xMatchMayBeALongStringAndUnknownModesMeanAll() {
        Map<String, Object> longStr = table("x-match", FieldValues.LongString.of("any"), "a", 1, "b", 2);
        assertThat(matches(longStr, table("a", 1))).isTrue();
        Map<String, Object> upper = table("x-match", "ANY", "a", 1, "b", 2);
        assertThat(matches(upper, table("a", 1))).isFalse();
        assertThat(matches(upper, table("a", 1, "b", 2))).isTrue();
        Map<String, Object> notAString = table("x-match", 1, "a", 1, "b", 2);
        assertThat(matches(notAString, table("a", 1))).isFalse();
    }

    @Test
    void aVoidArgumentAsksOnlyForPresence() {
        Map<String, Object> all = table("a", null, "b", "x");
        assertThat(matches(all, table("a", "anything", "b", "x"))).isTrue();
        assertThat(matches(all, table("a", 42, "b", "x"))).isTrue();
        assertThat(matches(all, table("a", null, "b", "x"))).isTrue();
        assertThat(matches(all, table("b", "x"))).isFalse();
        assertThat(matches(all, null)).isFalse();

        Map<String, Object> any = table("x-match", "any", "a", null, "b", "x");
        assertThat(matches(any, table("a", null))).isTrue();
        assertThat(matches(any, table("c", 1))).isFalse();

        Map<String, Object> voidMarker = new LinkedHashMap<>(table("x-match", "any"));
        voidMarker.put("a", Binding.VOID);
        assertThat(matches(voidMarker, table("a", "v"))).isTrue();
    }

    @Test
    void aVoidHeaderMatchesOnlyAVoidArgument() {
        assertThat(matches(table("a", "x"), table("a", null))).isFalse();
        assertThat(matches(table("a", 0), table("a", null))).isFalse();
        assertThat(matches(table("a", ""), table("a", null))).isFalse();
    }

    @Test
    void stringsCompareByContentWhateverTheirJavaType() {
        assertThat(matches(table("a", "héllo"), table("a", "héllo"))).isTrue();
        assertThat(matches(table("a", FieldValues.LongString.of("héllo")), table("a", "héllo"))).isTrue();
        assertThat(matches(table("a", "héllo"), table("a", FieldValues.LongString.of("héllo")))).isTrue();
        assertThat(matches(table("a", "abc"), table("a", "abd"))).isFalse();
        assertThat(matches(table("a", "abc"), table("a", "ABC"))).isFalse();
        assertThat(matches(table("a", ""), table("a", ""))).isTrue();
        // 'x' byte arrays and 'S' strings are both binaries in RabbitMQ
        assertThat(matches(table("a", "abc".getBytes(StandardCharsets.UTF_8)), table("a", "abc"))).isTrue();
        assertThat(matches(table("a", "abc"), table("a", "abc".getBytes(StandardCharsets.UTF_8)))).isTrue();
        // a string never equals a number or a boolean
        assertThat(matches(table("a", "1"), table("a", 1))).isFalse();
        assertThat(matches(table("a", 1), table("a", "1"))).isFalse();
        assertThat(matches(table("a", "true"), table("a", true))).isFalse();
    }

    @Test
    void javaStringHeadersCompareToEveryStringForm() {
        // Headers set by the broker itself may be Java Strings rather than decoded long strings.
        assertThat(HeadersExchange.sameTerm(HeadersExchange.comparable("abc"), "abc")).isTrue();
        assertThat(HeadersExchange.sameTerm(HeadersExchange.comparable(FieldValues.LongString.of("é")), "é")).isTrue();
        assertThat(HeadersExchange.sameTerm(HeadersExchange.comparable(new byte[] {(byte) 0xff}), "\ufffd")).isFalse();
        assertThat(HeadersExchange.sameTerm(HeadersExchange.comparable("abc"), "abd")).isFalse();
    }

    @Test
    void integersOfEveryWidthAreEqual() {
        assertThat(matches(table("n", 1), table("n", 1L))).isTrue();
        assertThat(matches(table("n", 1L), table("n", 1))).isTrue();
        assertThat(matches(table("n", (byte) 7), table("n", (short) 7))).isTrue();
        assertThat(matches(table("n", new FieldValues.UInt(4_000_000_000L)), table("n", 4_000_000_000L))).isTrue();
        assertThat(matches(table("n", new FieldValues.UByte(200)), table("n", new FieldValues.UShort(200)))).isTrue();
        assertThat(matches(table("n", -1), table("n", new FieldValues.UInt(0xffffffffL)))).isFalse();
        assertThat(matches(table("n", 1), table("n", 2))).isFalse();
    }

    @Test
    void integersFloatsAndDecimalsAreDifferentTerms() {
        assertThat(matches(table("n", 1), table("n", 1.0d))).isFalse();
        assertThat(matches(table("n", 1.0d), table("n", 1))).isFalse();
        assertThat(matches(table("n", 1), table("n", new BigDecimal("1")))).isFalse();
        assertThat(matches(table("n", 1.5d), table("n", 1.5f))).isTrue();
        assertThat(matches(table("n", 1.5f), table("n", 1.5d))).isTrue();
        assertThat(matches(table("n", 0.1d), table("n", 0.1f))).isFalse();
        assertThat(matches(table("n", new BigDecimal("1.0")), table("n", new BigDecimal("1.0")))).isTrue();
        assertThat(matches(table("n", new BigDecimal("1.0")), table("n", new BigDecimal("1.00")))).isFalse();
        assertThat(matches(table("b", true), table("b", true))).isTrue();
        assertThat(matches(table("b", true), table("b", false))).isFalse();
        assertThat(matches(table("b", true), table("b", 1))).isFalse();
    }

    @Test
    void headerTimestampsCompareAsMilliseconds() {
        assertThat(matches(table("t", 5000L), table("t", new FieldValues.Timestamp(5)))).isTrue();
        assertThat(matches(table("t", 5L), table("t", new FieldValues.Timestamp(5)))).isFalse();
        assertThat(matches(table("t", new FieldValues.Timestamp(5)), table("t", 5L))).isTrue();
        assertThat(matches(table("t", new FieldValues.Timestamp(5)), table("t", new FieldValues.Timestamp(5)))).isFalse();
        assertThat(matches(table("t", new FieldValues.Timestamp(5)), table("t", new FieldValues.Timestamp(0)))).isFalse();
    }

    @Test
    void arraysAndTablesCompareWithElementTypes() {
        assertThat(matches(table("a", List.of(1, "x")), table("a", List.of(1, "x")))).isTrue();
        assertThat(matches(table("a", List.of(1, FieldValues.LongString.of("x"))), table("a", List.of(1, "x")))).isTrue();
        assertThat(matches(table("a", List.of(1)), table("a", List.of(1L)))).isFalse();
        assertThat(matches(table("a", List.of(1, 2)), table("a", List.of(2, 1)))).isFalse();
        assertThat(matches(table("a", List.of(1)), table("a", 1))).isFalse();
        assertThat(matches(table("a", List.of()), table("a", List.of()))).isTrue();

        assertThat(matches(table("t", table("k", 1, "s", "v")), table("t", table("k", 1, "s", "v")))).isTrue();
        assertThat(matches(table("t", table("k", 1)), table("t", table("k", 1L)))).isFalse();
        assertThat(matches(table("t", table("k", 1, "s", "v")), table("t", table("s", "v", "k", 1)))).isFalse();
        assertThat(matches(table("t", table("k", List.of(table("z", null)))), table("t", table("k", List.of(table("z", null)))))).isTrue();
    }

    @Test
    void routingKeyIsIgnoredAndEachDestinationGetsOneCopy() {
        HeadersExchange x = headers();
        ClassicQueue q1 = queue("q1");
        ClassicQueue q2 = queue("q2");
        x.bind(new Binding(x, q1, "some-key", table("a", 1)));
        x.bind(new Binding(x, q1, "other-key", table("x-match", "any", "a", 1, "b", 2)));
        x.bind(new Binding(x, q2, "", table("b", 2)));
        List<String> names = new ArrayList<>();
        for (Queue q : new RouteResult().route(x, "unrelated", message(table("a", 1, "b", 2))).queues()) {
            names.add(q.name());
        }
        assertThat(names).containsExactlyInAnyOrder("q1", "q2");
        assertThat(route(x, message(table("a", 1)))).containsExactly("q1");
    }

    @Test
    void rebindAndUnbind() {
        HeadersExchange x = headers();
        ClassicQueue q = queue("q");
        Binding pdf = new Binding(x, q, "", table("format", "pdf"));
        Binding zip = new Binding(x, q, "", table("format", "zip"));
        assertThat(route(x, message(table("format", "pdf")))).isEmpty();
        assertThat(x.bind(pdf)).isTrue();
        assertThat(x.bind(new Binding(x, q, "", table("format", "pdf")))).isFalse();
        assertThat(x.bind(zip)).isTrue();
        assertThat(route(x, message(table("format", "pdf")))).containsExactly("q");
        assertThat(route(x, message(table("format", "zip")))).containsExactly("q");

        assertThat(x.unbind(pdf)).isTrue();
        assertThat(route(x, message(table("format", "pdf")))).isEmpty();
        assertThat(route(x, message(table("format", "zip")))).containsExactly("q");

        assertThat(x.unbindAll(q)).isTrue();
        assertThat(route(x, message(table("format", "zip")))).isEmpty();
    }

    @Test
    void routesToExchanges() {
        HeadersExchange x = headers();
        FanoutExchange fanout = new FanoutExchange("f", false, false, false, Map.of());
        fanout.bind(new Binding(fanout, queue("behind-fanout"), "", null));
        x.bind(new Binding(x, fanout, "", table("x-match", "any", "a", 1)));
        assertThat(route(x, message(table("a", 1)))).containsExactly("behind-fanout");
        assertThat(route(x, message(table("a", 2)))).isEmpty();
    }

    @Test
    void bindingValidationFollowsRabbitMq() {
        assertThat(HeadersExchange.invalidBindingReason(null)).isNull();
        assertThat(HeadersExchange.invalidBindingReason(table("a", 1))).isNull();
        for (String mode : List.of("all", "any", "all-with-x", "any-with-x")) {
            assertThat(HeadersExchange.invalidBindingReason(table("x-match", mode))).isNull();
            assertThat(HeadersExchange.invalidBindingReason(table("x-match", FieldValues.LongString.of(mode)))).isNull();
        }
        assertThat(HeadersExchange.invalidBindingReason(table("x-match", "ANY"))).contains("Invalid x-match field value");
        assertThat(HeadersExchange.invalidBindingReason(table("x-match", 1))).contains("Invalid x-match field type signedint");
        assertThat(HeadersExchange.invalidBindingReason(table("x-match", null))).contains("Invalid x-match field type void");
    }
}
