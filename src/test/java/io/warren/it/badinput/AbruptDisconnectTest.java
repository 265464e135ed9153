package io.warren.it.badinput;

import static io.warren.it.badinput.RawSocketClient.BODY;
import static io.warren.it.badinput.RawSocketClient.HEADER;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import io.warren.it.badinput.RawSocketClient.Args;
import java.nio.charset.StandardCharsets;
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
    private static void hangUp(RawSocketClient raw, boolean reset) throws Exception {
        if (reset) {
            raw.abort();
        } else {
            raw.close();
        }
    }

    @ParameterizedTest(name = "reset={0}")
    @ValueSource(booleans = {false, true})
    void midFrame(boolean reset) throws Exception {
        RawSocketClient raw = RawSocketClient.open(targetPort());
        raw.openChannel(1);
        byte[] frame = RawSocketClient.frame(RawSocketClient.METHOD, 1, RawSocketClient.methodPayload(50, 10,
                new Args().shortInt(0).shortstr("half-declared").octet(0).table(new byte[0]).bytes()), 0xCE);
        raw.send(Arrays.copyOf(frame, frame.length / 2));
        hangUp(raw, reset);
        awaitOnlyBystanderConnected();
        assertBystanderUnaffected();
    }

    @ParameterizedTest(name = "reset={0}")
    @ValueSource(booleans = {false, true})
    void midContent(boolean reset) throws Exception {
        RawSocketClient raw = RawSocketClient.open(targetPort());
        raw.openChannel(1);
        raw.publish(1, liveQueue());
        raw.sendFrame(HEADER, 1, RawSocketClient.contentHeader(200_000));
        raw.sendFrame(BODY, 1, new byte[100_000]);
        // and half of the next body frame
        byte[] next = RawSocketClient.frame(BODY, 1, new byte[50_000], 0xCE);
        raw.send(Arrays.copyOf(next, next.length / 2));
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
        RawSocketClient raw = RawSocketClient.open(targetPort());
        raw.openChannel(1);
        raw.sendMethod(1, 60, 20, new Args().shortInt(0).shortstr(q).shortstr("raw").octet(0).table(new byte[0]).bytes());
        int deliveries = 0;
        while (deliveries < 3) {
            RawSocketClient.Frame f = raw.readFrame();
            if (f.isMethod(60, 60)) {
                deliveries++;
            }
        }
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        // Die in the middle of a frame.
        raw.send(new byte[] {1, 0, 1, 0, 0});
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
