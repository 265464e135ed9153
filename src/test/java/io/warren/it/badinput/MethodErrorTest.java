package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import static io.warren.it.RawAmqpClient.FRAME_BODY;
import static io.warren.it.RawAmqpClient.FRAME_METHOD;
import static io.warren.it.RawAmqpClient.method;
import static io.warren.it.RawAmqpClient.payload;

import io.warren.it.RawAmqpClient.Close;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Method frames that cannot be understood, or arrive where they make no sense. */
class MethodErrorTest extends BadInputTest {
    private static byte[] queueDeclare(String name, byte[] rawTable) {
        return method(50, 10).shortInt(0).shortStr(name).octet(0).raw(rawTable).build();
    }

    // RabbitMQ 3.10's reader crashes on an unknown class or method id (unknown_method_id) and drops the
    // socket without connection.close; Warren answers 503 COMMAND_INVALID, the spec's code for it.
    @Test
    void unknownClass() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendMethod(1, method(99, 10).build());
        });
        assertThat(close.replyCode()).isEqualTo(503);
        assertBystanderUnaffected();
    }

    @Test
    void unknownMethodOfKnownClass() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendMethod(1, method(60, 999).build());
        });
        assertThat(close.replyCode()).isEqualTo(503);
        assertBystanderUnaffected();
    }

    @Test
    void unknownMethodOnChannelZero() throws Exception {
        Close close = closeAfter(raw -> raw.sendMethod(0, method(10, 77).build()));
        assertThat(close.replyCode()).isEqualTo(503);
        assertBystanderUnaffected();
    }

    @Test
    void methodOnChannelThatIsNotOpen() throws Exception {
        Close close = closeAfter(raw -> raw.sendMethod(5,
                method(50, 10).shortInt(0).shortStr("q").octet(0).table(new byte[0]).build()));
        assertThat(close.replyCode()).isEqualTo(504);
        assertThat(close.replyText()).startsWith("CHANNEL_ERROR");
        assertBystanderUnaffected();
    }

    @Test
    void bodyFrameOnChannelThatIsNotOpen() throws Exception {
        Close close = closeAfter(raw -> raw.send(FRAME_BODY, 5, new byte[] {1, 2, 3}));
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void channelOpenOnOpenChannel() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendMethod(1, method(20, 10).shortStr("").build());
        });
        assertThat(close.replyCode()).isEqualTo(504);
        assertThat(close.replyText()).isEqualTo("CHANNEL_ERROR - second 'channel.open' seen");
        assertThat(close.classId()).isEqualTo(20);
        assertThat(close.methodId()).isEqualTo(10);
        assertBystanderUnaffected();
    }

    // Arguments that do not fit the frame: RabbitMQ answers 501 FRAME_ERROR "cannot decode <<...>>"
    // (the brief expected 502).
    @Test
    void truncatedArguments() throws Exception {
        // queue.declare cut off in the middle of the queue name.
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            byte[] whole = queueDeclare("some-queue", payload().table(new byte[0]).build());
            byte[] cut = java.util.Arrays.copyOf(whole, 10);
            raw.send(FRAME_METHOD, 1, cut);
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertThat(close.classId()).isEqualTo(50);
        assertThat(close.methodId()).isEqualTo(10);
        assertBystanderUnaffected();
    }

    // A bad value inside a well-sized table crashes RabbitMQ 3.10's reader (socket dropped, no close);
    // Warren answers 502 SYNTAX_ERROR.
    @Test
    void argumentTableWithUnknownTypeLetter() throws Exception {
        byte[] table = payload().shortStr("x-bad").octet('Q').longInt(1).build();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_METHOD, 1, queueDeclare("bad-type", payload().table(table).build()));
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }

    @Test
    void argumentTableLongerThanTheFrame() throws Exception {
        byte[] table = payload().shortStr("x-max-length").octet('I').longInt(10).build();
        byte[] lying = ByteBuffer.allocate(4 + table.length).putInt(1000).put(table).array();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_METHOD, 1, queueDeclare("bad-length", lying));
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void valueInsideTableRunsPastTheTable() throws Exception {
        // A long string claiming 500 bytes inside a table of 20.
        byte[] table = payload().shortStr("x-s").octet('S').longInt(500).raw(new byte[10]).build();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_METHOD, 1, queueDeclare("bad-value", payload().table(table).build()));
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }
}
