package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.RawAmqpClient;
import io.warren.it.RawAmqpClient.Close;
import java.time.Duration;
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
}
