package io.warren.it.badinput;

import static io.warren.it.badinput.RawSocketClient.BODY;
import static io.warren.it.badinput.RawSocketClient.HEARTBEAT;
import static io.warren.it.badinput.RawSocketClient.METHOD;
import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.badinput.RawSocketClient.Args;
import io.warren.it.badinput.RawSocketClient.Close;
import org.junit.jupiter.api.Test;

/** Violations of the framing itself: each closes the connection with 501 FRAME_ERROR. */
class FrameErrorTest extends BadInputTest {
    @Test
    void frameLargerThanServerFrameMax() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, "nowhere");
            raw.sendFrame(RawSocketClient.HEADER, 1, RawSocketClient.contentHeader(1_000_000));
            raw.sendFrame(BODY, 1, new byte[(int) raw.serverFrameMax() + 1]);
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertThat(close.replyText()).startsWith("FRAME_ERROR");
        assertBystanderUnaffected();
    }

    @Test
    void frameLargerThanNegotiatedFrameMax() throws Exception {
        Close close;
        try (RawSocketClient raw = RawSocketClient.connect(targetPort())) {
            raw.handshakeUpToTune();
            raw.tuneOk(raw.serverChannelMax(), 4096, 0);
            raw.connectionOpen();
            raw.openChannel(1);
            raw.publish(1, "nowhere");
            raw.sendFrame(RawSocketClient.HEADER, 1, RawSocketClient.contentHeader(10_000));
            raw.sendFrame(BODY, 1, new byte[5000]);
            close = raw.awaitConnectionClose();
            assertThat(raw.awaitSocketClosed(5000)).isTrue();
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
        try (RawSocketClient raw = RawSocketClient.connect(targetPort())) {
            raw.handshakeUpToTune();
            raw.tuneOk(raw.serverChannelMax(), 4096, 0);
            raw.connectionOpen();
            raw.openChannel(1);
            raw.sendFrame(BODY, 1, new byte[4096]);
            close = raw.awaitConnectionClose();
        }
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }

    @Test
    void unknownFrameType() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendFrame(9, 1, new byte[] {1, 2, 3});
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void wrongFrameEndOctet() throws Exception {
        Close close = closeAfter(raw -> raw.sendFrame(METHOD, 1,
                RawSocketClient.methodPayload(20, 10, new Args().shortstr("").bytes()), 0xAB));
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void wrongFrameEndOctetAfterBody() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.publish(1, "nowhere");
            raw.sendFrame(RawSocketClient.HEADER, 1, RawSocketClient.contentHeader(10));
            raw.sendFrame(BODY, 1, new byte[10], 0x00);
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    @Test
    void methodFrameTooShortForClassAndMethodIds() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendFrame(METHOD, 1, new byte[] {0, 50});
        });
        assertThat(close.replyCode()).isEqualTo(501);
        assertBystanderUnaffected();
    }

    /** The brief expected 501 here; RabbitMQ 3.10 answers 505 UNEXPECTED_FRAME ("type 8, all octets = <<>>"). */
    @Test
    void heartbeatOnNonZeroChannel() throws Exception {
        Close close = closeAfter(raw -> {
            raw.openChannel(1);
            raw.sendFrame(HEARTBEAT, 1, new byte[0]);
        });
        assertThat(close.replyCode()).isEqualTo(505);
        assertBystanderUnaffected();
    }
}
