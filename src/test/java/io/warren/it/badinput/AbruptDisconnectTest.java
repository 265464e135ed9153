package io.warren.it.badinput;

import static io.warren.it.RawAmqpClient.FRAME_BODY;
import static io.warren.it.RawAmqpClient.FRAME_HEADER;
import static io.warren.it.RawAmqpClient.FRAME_METHOD;
import static io.warren.it.RawAmqpClient.method;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import io.warren.it.RawAmqpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that vanish mid-frame or mid-message, by FIN (close) or RST (abort): the broker drops the
 * connection and the partial message, gives back what the client had unacked, and nobody else notices.
 */
class AbruptDisconnectTest extends BadInputTest {
    private static void hangUp(RawAmqpClient raw, boolean reset) throws Exception {
        if (reset) {
            raw.abort();
        } else {
            raw.close();
        }
    }

    @ParameterizedTest(name = "reset={0}")
    @ValueSource(booleans = {false, true})
    void midFrame(boolean reset) throws Exception {
        RawAmqpClient raw = openRaw();
        raw.openChannel(1);
        byte[] frame = RawAmqpClient.frame(FRAME_METHOD, 1,
                method(50, 10).shortInt(0).shortStr("half-declared").octet(0).table(new byte[0]).build(), 0xCE);
        raw.sendRaw(Arrays.copyOf(frame, frame.length / 2));
        hangUp(raw, reset);
        awaitOnlyBystanderConnected();
        assertBystanderUnaffected();
    }

    @ParameterizedTest(name = "reset={0}")
    @ValueSource(booleans = {false, true})
    void midContent(boolean reset) throws Exception {
        RawAmqpClient raw = openRaw();
        raw.openChannel(1);
        raw.basicPublish(1, "", liveQueue());
        raw.send(FRAME_HEADER, 1, RawAmqpClient.contentHeader(60, 200_000));
        raw.send(FRAME_BODY, 1, new byte[100_000]);
        // and half of the next body frame
        byte[] next = RawAmqpClient.frame(FRAME_BODY, 1, new byte[50_000], 0xCE);
        raw.sendRaw(Arrays.copyOf(next, next.length / 2));
        hangUp(raw, reset);
        awaitOnlyBystanderConnected();
        assertBystanderUnaffected(); // the live consumer sees "after", not the half message
    }

    @ParameterizedTest(name = "reset={0}")
    @ValueSource(booleans = {false, true})
    void unackedDeliveriesGoBackWhenTheConsumerDies(boolean reset) throws Exception {
        Channel ch = bystander.createChannel();
        String q = ch.queueDeclare("badinput-unacked-" + java.util.UUID.randomUUID(), false, false, false, null).getQueue();
        for (int i = 0; i < 3; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        RawAmqpClient raw = openRaw();
        raw.openChannel(1);
        raw.sendMethod(1, method(60, 20).shortInt(0).shortStr(q).shortStr("raw").octet(0).table(new byte[0]).build());
        int deliveries = 0;
        while (deliveries < 3) {
            RawAmqpClient.Frame f = raw.readFrame(Duration.ofSeconds(10));
            assertThat(f).as("a frame within 10 s").isNotNull();
            if (f.isMethod(60, 60)) {
                deliveries++;
            }
        }
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        // Die in the middle of a frame.
        raw.sendRaw(new byte[] {1, 0, 1, 0, 0});
        hangUp(raw, reset);
        awaitOnlyBystanderConnected();
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> ch.messageCount(q) == 3);
        for (int i = 0; i < 3; i++) {
            assertThat(new String(ch.basicGet(q, true).getBody(), StandardCharsets.UTF_8)).isEqualTo("m" + i);
        }
        ch.queueDelete(q);
        ch.close();
        assertBystanderUnaffected();
    }
}
