package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A large persistent body fanned out to many durable queues is written to disk once. */
class SharedBodyTest extends InProcessStoreTest {

    private long bytesOnDisk() throws IOException {
        try (Stream<Path> files = Files.walk(broker.dataDir())) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".seg") || p.toString().endsWith(".bdy"))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void sixtyFourKibToTenDurableQueuesIsWrittenOnceAndSurvivesRestart() throws Exception {
        broker = new RestartableBroker("warren-shared");
        byte[] body = new byte[64 * 1024];
        new Random(7).nextBytes(body);
        long before;
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            ch.exchangeDeclare("fan", BuiltinExchangeType.FANOUT, true);
            for (int i = 0; i < 10; i++) {
                ch.queueDeclare("fan-" + i, true, false, false, null);
                ch.queueBind("fan-" + i, "fan", "");
            }
            before = bytesOnDisk();
            ch.confirmSelect();
            ch.basicPublish("fan", "", MessageProperties.PERSISTENT_BASIC, body);
            ch.waitForConfirmsOrDie(5000);
        }
        broker.restart();
        // Measured once the broker has stopped and started again: a running queue log is longer by
        // the zeros it writes ahead of its records, which a stop gives back.
        long written = bytesOnDisk() - before;
        // Once: the body plus ten small references, far below ten copies.
        assertThat(written).isBetween((long) body.length, (long) body.length + 10 * 200);
        try (Connection c = connect()) {
            Channel ch = c.createChannel();
            for (int i = 0; i < 10; i++) {
                GetResponse r = ch.basicGet("fan-" + i, false);
                assertThat(r).as("queue fan-" + i).isNotNull();
                assertThat(r.getBody()).isEqualTo(body);
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            }
        }
    }
}
