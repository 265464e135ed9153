package io.warren.it.badinput;

import static io.warren.it.badinput.RawSocketClient.BODY;
import static io.warren.it.badinput.RawSocketClient.HEADER;
import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.badinput.RawSocketClient.Args;
import io.warren.it.badinput.RawSocketClient.Close;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Content (basic.publish, header, body) out of order or malformed. Publishes aim at the bystander's
 * consumed queue, so anything that slipped through would show up there.
 */
class ContentErrorTest extends BadInputTest {
    private static final int HEADERS_FLAG = 0x2000;

    @Test
    void bodyRightAfterPublish() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(BODY, 1, "sneaky".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertThat(close.replyText()).startsWith("UNEXPECTED_FRAME");
        assertBystanderUnaffected();
    }

    @Test
    void bodyWithoutPublish() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendFrame(BODY, 1, "orphan".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void headerWithoutPublish() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(3));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void methodWhereHeaderExpected() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.publish(1, liveQueue());
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void methodWhereBodyExpected() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(10));
            raw.sendFrame(BODY, 1, new byte[4]);
            raw.publish(1, liveQueue());
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void headerForAnotherClass() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, new Args().shortInt(50).shortInt(0).longlong(3).shortInt(0).bytes());
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertThat(close.replyText())
                .isEqualTo("UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead");
        assertThat(close.classId()).isEqualTo(60);
        assertThat(close.methodId()).isEqualTo(40);
        assertBystanderUnaffected();
    }

    @Test
    void headerTooShort() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, new Args().shortInt(60).shortInt(0).bytes());
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    /**
     * RabbitMQ 3.10 does not notice extra body bytes until the next method frame (then 505 "expected
     * content body"); Warren rejects the oversized body frame itself with 501 FRAME_ERROR.
     */
    @Test
    void bodyLargerThanDeclared() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(5));
            raw.sendFrame(BODY, 1, "more than five".getBytes(StandardCharsets.UTF_8));
            raw.publish(1, liveQueue()); // RabbitMQ notices only here
        });
        assertThat(close.replyCode()).isEqualTo(targetIsWarren() ? 501 : 505);
        assertBystanderUnaffected();
    }

    // RabbitMQ 3.10 answers the two malformed headers tables below with 541 INTERNAL_ERROR (its
    // channel crashes decoding them); Warren answers 502 SYNTAX_ERROR.
    @Test
    void headersPropertyWithUnknownTypeLetter() throws Exception {
        byte[] headers = new Args().table(new Args().shortstr("h").octet('Q').longInt(1).bytes()).bytes();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(2, HEADERS_FLAG, headers));
            raw.sendFrame(BODY, 1, new byte[2]);
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }

    @Test
    void headersPropertyLongerThanTheFrame() throws Exception {
        byte[] table = new Args().shortstr("h").octet('I').longInt(1).bytes();
        byte[] lying = ByteBuffer.allocate(4 + table.length).putInt(4000).put(table).array();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, liveQueue());
            raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(2, HEADERS_FLAG, lying));
            raw.sendFrame(BODY, 1, new byte[2]);
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }
}
