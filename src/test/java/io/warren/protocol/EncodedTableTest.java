package io.warren.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Tables kept encoded ({@link EncodedTable}) read back as {@link FieldTableCodec#readTable} reads
 * them, and fail on exactly the same input with exactly the same error.
 */
class EncodedTableTest {
    @Test
    void encodedTableDecodesToTheSameTable() {
        byte[] wire = encode(sample());
        Map<String, Object> eager = FieldTableCodec.readTable(Unpooled.wrappedBuffer(wire));
        ByteBuf in = Unpooled.wrappedBuffer(wire);
        EncodedTable table = EncodedTable.read(in);
        assertThat(in.isReadable()).isFalse();
        assertThat(encode(table.decode())).isEqualTo(encode(eager));
        EncodedTable empty = EncodedTable.read(Unpooled.wrappedBuffer(encode(Map.of())));
        assertThat(empty.decode()).isEmpty();
        assertThat(empty.find("anything")).isNull();
    }

    @Test
    void findReadsOneValueByItsKeys() {
        EncodedTable entries = EncodedTable.read(Unpooled.wrappedBuffer(encode(sample())));
        assertThat(entries.find("product")).isEqualTo(FieldValues.LongString.of("Warren"));
        assertThat(entries.find("capabilities", "consumer_cancel_notify")).isEqualTo(true);
        assertThat(entries.find("capabilities", "basic.nack")).isEqualTo(false);
        assertThat(entries.find("capabilities", "nested")).isEqualTo(Map.of("deep", 7));
        assertThat(entries.find("capabilities")).isInstanceOf(Map.class);
        assertThat(entries.find("missing")).isNull();
        assertThat(entries.find("capabilities", "missing")).isNull();
        assertThat(entries.find("product", "not-a-table")).isNull();
        assertThat(entries.find("void")).isNull();
        assertThat(entries.find("list")).isEqualTo(List.of(1, FieldValues.LongString.of("two")));
        assertThat(entries.find("clé")).isEqualTo(FieldValues.LongString.of("é"));
        assertThat(entries.find("cle")).isNull();
    }

    @Test
    void findReturnsTheLastOfRepeatedKeysAsDecodingDoes() {
        ByteBuf wire = Unpooled.buffer();
        int lengthAt = wire.writerIndex();
        wire.writeInt(0);
        for (int i = 1; i <= 3; i++) {
            FieldTableCodec.writeShortString(wire, "k");
            FieldTableCodec.writeValue(wire, i);
        }
        wire.setInt(lengthAt, wire.writerIndex() - 4);
        byte[] bytes = ByteBufUtil.getBytes(wire);
        EncodedTable entries = EncodedTable.read(Unpooled.wrappedBuffer(bytes));
        assertThat(entries.find("k")).isEqualTo(3)
                .isEqualTo(FieldTableCodec.readTable(Unpooled.wrappedBuffer(bytes)).get("k"));
    }

    @Test
    void damagedTablesFailAsTheEagerReaderFails() {
        byte[] wire = encode(sample());
        // Every truncation...
        for (int length = 0; length < wire.length; length++) {
            byte[] cut = java.util.Arrays.copyOf(wire, length);
            ByteBuf asWhole = Unpooled.buffer().writeInt(0).writeBytes(cut, 4 <= length ? 4 : length, Math.max(0, length - 4));
            asWhole.setInt(0, asWhole.readableBytes() - 4);
            sameOutcome(cut);
            sameOutcome(ByteBufUtil.getBytes(asWhole));
        }
        // ... and many random corruptions of one to three bytes.
        Random random = new Random(42);
        for (int round = 0; round < 20_000; round++) {
            byte[] bad = wire.clone();
            for (int k = random.nextInt(3); k >= 0; k--) {
                bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            }
            sameOutcome(bad);
        }
    }

    private static void sameOutcome(byte[] wire) {
        Object eager;
        try {
            eager = encode(FieldTableCodec.readTable(Unpooled.wrappedBuffer(wire)));
        } catch (RuntimeException e) {
            eager = outcome(e);
        }
        Object lazy;
        try {
            lazy = encode(EncodedTable.read(Unpooled.wrappedBuffer(wire)).decode());
        } catch (RuntimeException e) {
            lazy = outcome(e);
        }
        if (eager instanceof byte[] a && lazy instanceof byte[] b) {
            assertThat(b).as("decoded %s", ByteBufUtil.hexDump(wire)).isEqualTo(a);
            findAgreesWithDecode(EncodedTable.read(Unpooled.wrappedBuffer(wire)));
        } else {
            assertThat(lazy).as("outcome for %s", ByteBufUtil.hexDump(wire)).isEqualTo(eager);
        }
    }

    @Test
    void findAgreesWithDecodeForEveryKey() {
        findAgreesWithDecode(EncodedTable.read(Unpooled.wrappedBuffer(encode(sample()))));
    }

    /**
     * Every key, and every key of every nested table, finds what decoding the whole table gives
     * (keys that are not valid UTF-8, from the random damage, cannot be asked for by name).
     */
    @SuppressWarnings("unchecked")
    private static void findAgreesWithDecode(EncodedTable table) {
        for (Map.Entry<String, Object> e : table.decode().entrySet()) {
            if (e.getKey().indexOf('\uFFFD') >= 0) {
                continue;
            }
            assertThat(encodeValue(table.find(e.getKey()))).as(e.getKey()).isEqualTo(encodeValue(e.getValue()));
            if (e.getValue() instanceof Map<?, ?> nested) {
                for (Map.Entry<String, Object> n : ((Map<String, Object>) nested).entrySet()) {
                    if (n.getKey().indexOf('\uFFFD') >= 0) {
                        continue;
                    }
                    assertThat(encodeValue(table.find(e.getKey(), n.getKey()))).as(e.getKey() + "." + n.getKey())
                            .isEqualTo(encodeValue(n.getValue()));
                }
                assertThat(table.find(e.getKey(), "\u0000no such key")).isNull();
            } else {
                assertThat(table.find(e.getKey(), "anything")).isNull();
            }
        }
    }

    private static byte[] encodeValue(Object value) {
        ByteBuf out = Unpooled.buffer();
        FieldTableCodec.writeValue(out, value);
        return ByteBufUtil.getBytes(out);
    }

    /**
     * An error as the peer sees it: an AmqpException's text, or for an IndexOutOfBoundsException only
     * its class (MethodCodec turns it into FRAME_ERROR "cannot decode the arguments", message unused).
     */
    private static String outcome(RuntimeException e) {
        return e instanceof IndexOutOfBoundsException ? "IndexOutOfBoundsException"
                : e.getClass().getName() + ": " + e.getMessage();
    }

    private static Map<String, Object> sample() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("deep", 7);
        Map<String, Object> capabilities = new LinkedHashMap<>();
        capabilities.put("publisher_confirms", true);
        capabilities.put("basic.nack", false);
        capabilities.put("consumer_cancel_notify", true);
        capabilities.put("nested", nested);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("product", FieldValues.LongString.of("Warren"));
        t.put("capabilities", capabilities);
        t.put("byte", (byte) -3);
        t.put("ubyte", new FieldValues.UByte(200));
        t.put("short", (short) -300);
        t.put("ushort", new FieldValues.UShort(60000));
        t.put("int", -70000);
        t.put("uint", new FieldValues.UInt(4_000_000_000L));
        t.put("long", Long.MIN_VALUE);
        t.put("float", 1.5f);
        t.put("double", -2.25);
        t.put("decimal", new BigDecimal("12.345"));
        t.put("timestamp", new FieldValues.Timestamp(1_700_000_000L));
        t.put("bytes", new byte[] {1, 2, 3});
        t.put("list", List.of(1, "two"));
        t.put("void", null);
        t.put("string", "chaîne");
        t.put("clé", (Object) "é");
        return t;
    }

    private static byte[] encode(Map<String, Object> table) {
        ByteBuf out = Unpooled.buffer();
        FieldTableCodec.writeTable(out, table);
        return ByteBufUtil.getBytes(out);
    }
}
