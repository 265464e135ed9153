package io.warren.it.badinput;

import static io.warren.it.RawAmqpClient.FRAME_BODY;
import static io.warren.it.RawAmqpClient.FRAME_HEADER;
import static io.warren.it.RawAmqpClient.contentHeader;
import static io.warren.it.RawAmqpClient.payload;
import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.RawAmqpClient.Close;
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
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_BODY, 1, "sneaky".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertThat(close.replyText()).startsWith("UNEXPECTED_FRAME");
        assertBystanderUnaffected();
    }

    @Test
    void bodyWithoutPublish() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_BODY, 1, "orphan".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void headerWithoutPublish() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_HEADER, 1, contentHeader(60, 3));
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void methodWhereHeaderExpected() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", liveQueue());
            raw.basicPublish(1, "", liveQueue());
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void methodWhereBodyExpected() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, contentHeader(60, 10));
            raw.send(FRAME_BODY, 1, new byte[4]);
            raw.basicPublish(1, "", liveQueue());
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void headerForAnotherClass() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, payload().shortInt(50).shortInt(0).longLong(3).shortInt(0).build());
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
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, payload().shortInt(60).shortInt(0).build());
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
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, contentHeader(60, 5));
            raw.send(FRAME_BODY, 1, "more than five".getBytes(StandardCharsets.UTF_8));
            raw.basicPublish(1, "", liveQueue()); // RabbitMQ notices only here
        });
        assertThat(close.replyCode()).isEqualTo(targetIsWarren() ? 501 : 505);
        assertBystanderUnaffected();
    }

    // RabbitMQ 3.10 answers the two malformed headers tables below with 541 INTERNAL_ERROR (its
    // channel crashes decoding them); Warren answers 502 SYNTAX_ERROR.
    @Test
    void headersPropertyWithUnknownTypeLetter() throws Exception {
        byte[] headers = payload().table(payload().shortStr("h").octet('Q').longInt(1).build()).build();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, contentHeader(60, 2, HEADERS_FLAG, headers));
            raw.send(FRAME_BODY, 1, new byte[2]);
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }

    @Test
    void headersPropertyLongerThanTheFrame() throws Exception {
        byte[] table = payload().shortStr("h").octet('I').longInt(1).build();
        byte[] lying = ByteBuffer.allocate(4 + table.length).putInt(4000).put(table).array();
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", liveQueue());
            raw.send(FRAME_HEADER, 1, contentHeader(60, 2, HEADERS_FLAG, lying));
            raw.send(FRAME_BODY, 1, new byte[2]);
        });
        assertThat(close.replyCode()).isEqualTo(502);
        assertBystanderUnaffected();
    }
}
