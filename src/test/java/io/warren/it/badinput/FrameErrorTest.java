package io.warren.it.badinput;

import static io.warren.it.RawAmqpClient.FRAME_BODY;
import static io.warren.it.RawAmqpClient.FRAME_HEADER;
import static io.warren.it.RawAmqpClient.FRAME_HEARTBEAT;
import static io.warren.it.RawAmqpClient.FRAME_METHOD;
import static io.warren.it.RawAmqpClient.contentHeader;
import static io.warren.it.RawAmqpClient.method;
import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.RawAmqpClient;
import io.warren.it.RawAmqpClient.Close;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Violations of the framing itself: each closes the connection with 501 FRAME_ERROR. */
class FrameErrorTest extends BadInputTest {
    @Test
    void frameLargerThanServerFrameMax() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", "nowhere");
            raw.send(FRAME_HEADER, 1, contentHeader(60, 1_000_000));
            raw.send(FRAME_BODY, 1, new byte[(int) raw.serverFrameMax() + 1]);
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertThat(close.replyText()).startsWith("FRAME_ERROR");
        assertBystanderUnaffected();
    }

    @Test
    void frameLargerThanNegotiatedFrameMax() throws Exception {
        Close close;
        try (RawAmqpClient raw = connectRaw()) {
            raw.handshakeUpToTune();
            raw.tuneOk(raw.serverChannelMax(), 4096, 0);
            raw.connectionOpen("/");
            raw.openChannel(1);
            raw.basicPublish(1, "", "nowhere");
            raw.send(FRAME_HEADER, 1, contentHeader(60, 10_000));
            raw.send(FRAME_BODY, 1, new byte[5000]);
            close = raw.awaitConnectionClose();
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    /**
     * RabbitMQ lets a frame's payload (not the whole frame) reach frame_max: it forgives the 8 octets of
     * framing that some clients forget to count. Such a frame passes framing (and here, being a body
     * without a publish, fails later with 505).
     */
    @Test
    void payloadOfExactlyFrameMaxPassesFraming() throws Exception {
        Close close;
        try (RawAmqpClient raw = connectRaw()) {
            raw.handshakeUpToTune();
            raw.tuneOk(raw.serverChannelMax(), 4096, 0);
            raw.connectionOpen("/");
            raw.openChannel(1);
            raw.send(FRAME_BODY, 1, new byte[4096]);
            close = raw.awaitConnectionClose();
        }
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void unknownFrameType() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(9, 1, new byte[] {1, 2, 3});
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void wrongFrameEndOctet() throws Exception {
        Close close = closeAfter(raw -> raw.send(FRAME_METHOD, 1, method(20, 10).shortStr("").build(), 0xAB));
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void wrongFrameEndOctetAfterBody() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.basicPublish(1, "", "nowhere");
            raw.send(FRAME_HEADER, 1, contentHeader(60, 10));
            raw.send(FRAME_BODY, 1, new byte[10], 0x00);
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void methodFrameTooShortForClassAndMethodIds() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_METHOD, 1, new byte[] {0, 50});
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    /** The brief expected 501 here; RabbitMQ 3.10 answers 505 UNEXPECTED_FRAME ("type 8, all octets = <<>>"). */
    @Test
    void heartbeatOnNonZeroChannel() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.send(FRAME_HEARTBEAT, 1, new byte[0]);
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }
}
