package io.warren.it.badinput;

import static io.warren.it.RawAmqpClient.method;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.warren.it.RawAmqpClient;
import io.warren.it.RawAmqpClient.Close;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * connection.tune-ok asking for limits the server did not offer: 530 NOT_ALLOWED with RabbitMQ's
 * text, attributed to connection.tune-ok. (RabbitMQ 3.10 logs exactly this text but then just resets
 * the socket after 3 s; Warren sends the connection.close.) As in RabbitMQ, 0 ("no limit") is refused
 * when the server has a limit.
 */
class HandshakeErrorTest extends BadInputTest {
    private Close tuneOkWithFrameMax(long frameMax) throws Exception {
        return tuneOk(-1, frameMax);
    }

    /** channelMax -1: the server's. */
    private Close tuneOk(int channelMax, long frameMax) throws Exception {
        try (RawAmqpClient raw = connectRaw()) {
            raw.handshakeUpToTune();
            raw.tuneOk(channelMax < 0 ? raw.serverChannelMax() : channelMax, frameMax, 0);
            Close close = raw.awaitConnectionClose();
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).isTrue();
            return close;
        }
    }

    @Test
    void frameMaxBelowMinimum() throws Exception {
        Close close = tuneOkWithFrameMax(1024);
        assertThat(close.replyCode()).isEqualTo(530);
        assertThat(close.replyText()).isEqualTo("NOT_ALLOWED - negotiated frame_max = 1024 is lower than the minimum allowed value (4096)");
        assertThat(close.classId()).isEqualTo(10);
        assertThat(close.methodId()).isEqualTo(31);
        assertBystanderUnaffected();
    }

    @Test
    void frameMaxAboveServers() throws Exception {
        Close close = tuneOkWithFrameMax(1_048_576);
        assertThat(close.replyCode()).isEqualTo(530);
        assertThat(close.replyText()).isEqualTo("NOT_ALLOWED - negotiated frame_max = 1048576 is higher than the maximum allowed value (131072)");
        assertThat(close.classId()).isEqualTo(10);
        assertThat(close.methodId()).isEqualTo(31);
        assertBystanderUnaffected();
    }

    @Test
    void frameMaxZeroWhenTheServerHasALimit() throws Exception {
        Close close = tuneOkWithFrameMax(0);
        assertThat(close.replyCode()).isEqualTo(530);
        assertThat(close.replyText())
                .isEqualTo("NOT_ALLOWED - negotiated frame_max = 0 is higher than the maximum allowed value (131072)");
        assertBystanderUnaffected();
    }

    @Test
    void channelMaxZeroWhenTheServerHasALimit() throws Exception {
        Close close = tuneOk(0, 131072);
        assertThat(close.replyCode()).isEqualTo(530);
        assertThat(close.replyText()).isEqualTo(
                "NOT_ALLOWED - negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)");
        assertBystanderUnaffected();
    }

    @Test
    void channelMaxAboveServers() throws Exception {
        Close close = tuneOk(4000, 131072);
        assertThat(close.replyCode()).isEqualTo(530);
        assertThat(close.replyText()).isEqualTo(
                "NOT_ALLOWED - negotiated channel_max = 4000 is higher than the maximum allowed value (2047)");
        assertBystanderUnaffected();
    }

    /** connection.start-ok padded (in a client property) to exactly {@code payloadSize} bytes of frame payload. */
    private static byte[] startOkOfSize(int payloadSize) {
        byte[] response = "\0guest\0guest".getBytes(StandardCharsets.UTF_8);
        int padding = 0;
        byte[] payload = startOk(padding, response);
        padding = payloadSize - payload.length;
        payload = startOk(padding, response);
        assertThat(payload).hasSize(payloadSize);
        return payload;
    }

    private static byte[] startOk(int padding, byte[] response) {
        Map<String, Object> clientProperties = new LinkedHashMap<>();
        clientProperties.put("product", "RawAmqpClient");
        clientProperties.put("padding", "x".repeat(Math.max(0, padding)));
        return method(10, 11).table(clientProperties).shortStr("PLAIN").longStr(response).shortStr("en_US").build();
    }

    @Test
    void aStartOkOfExactly4096BytesIsAccepted() throws Exception {
        try (RawAmqpClient raw = connectRaw()) {
            raw.sendProtocolHeader();
            raw.expectMethod(0, 10, 10, Duration.ofSeconds(5));
            raw.sendMethod(0, startOkOfSize(4096));
            raw.expectMethod(0, 10, 30, Duration.ofSeconds(5));
        }
        assertBystanderUnaffected();
    }

    /**
     * As RabbitMQ: before tune-ok, frames may carry 4096 bytes (its initial_frame_max), whatever the
     * server will offer in connection.tune. A larger one is a framing error that RabbitMQ, not
     * trusting the client yet, does not answer: it closes the socket after its 3 s silent close delay.
     */
    @Test
    void aStartOkLargerThan4096BytesGetsNoReplyAndTheSocketClosesAfterThreeSeconds() throws Exception {
        try (RawAmqpClient raw = connectRaw()) {
            raw.sendProtocolHeader();
            raw.expectMethod(0, 10, 10, Duration.ofSeconds(5));
            long start = System.nanoTime();
            raw.sendMethod(0, startOkOfSize(4097));

            assertThatThrownBy(() -> raw.readFrame(Duration.ofSeconds(10)))
                    .as("no frame, only the end of the stream").isInstanceOf(EOFException.class);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMs).as("ms until the socket closed").isBetween(2500L, 6000L);
        }
        assertBystanderUnaffected();
    }

    @Test
    void aFrameLargerThan4096BytesBeforeTuneOkIsRefusedToo() throws Exception {
        try (RawAmqpClient raw = connectRaw()) {
            raw.handshakeUpToTune();
            assertThat(raw.serverFrameMax()).isGreaterThan(4096);
            raw.send(RawAmqpClient.FRAME_METHOD, 0, new byte[5000]);

            assertThatThrownBy(() -> raw.readFrame(Duration.ofSeconds(10))).isInstanceOf(EOFException.class);
        }
        assertBystanderUnaffected();
    }
}
