package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.RawAmqpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

/** A client that does not open with the AMQP 0-9-1 header gets ours back and the socket closed. */
class ProtocolHeaderTest extends BadInputTest {
    static Stream<Arguments> headers() {
        return Stream.of(
                Arguments.of("HTTP request", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII)),
                Arguments.of("AMQP 0-10", new byte[] {'A', 'M', 'Q', 'P', 1, 1, 0, 10}),
                Arguments.of("AMQP 1.0", new byte[] {'A', 'M', 'Q', 'P', 0, 1, 0, 0}),
                Arguments.of("AMQP 1.0 SASL", new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0}),
                Arguments.of("binary garbage", new byte[] {(byte) 0xff, 0, 0x16, 3, 1, 0, 0x2e, 1, 0, 0, 0x2a}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headers")
    void answeredWithOurHeaderAndClosed(String name, byte[] header) throws Exception {
        try (RawAmqpClient raw = connectRaw()) {
            raw.sendRaw(header);
            assertThat(raw.readExactly(8)).isEqualTo(RawAmqpClient.PROTOCOL_HEADER);
            assertThat(raw.awaitServerClose(Duration.ofSeconds(5))).as("socket closed").isTrue();
        }
        assertBystanderUnaffected();
    }
}
