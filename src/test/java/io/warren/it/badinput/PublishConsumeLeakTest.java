package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * The publish/consume path under paranoid leak detection: 10,000 messages of 10 B to 300 KiB (small
 * ones copied, large ones split over several frames) through a queue with two consumers. Every
 * buffer must be released; {@link BadInputTest} fails the test if Netty reports a leak.
 */
class PublishConsumeLeakTest extends BadInputTest {
    private static final int MESSAGES = 10_000;
    private static final int MAX_SIZE = 300 * 1024;
    private static final int[] EDGES = {10, 4095, 4096, 131064, 131065, 131072, MAX_SIZE};

    @Test
    void noBufferLeaksOnPublishAndConsume() throws Exception {
        Connection consumerConnection = track(targetFactory().newConnection("leak-consumers"));
        Connection publisherConnection = track(targetFactory().newConnection("leak-publisher"));
        Channel setup = consumerConnection.createChannel();
        String q = setup.queueDeclare().getQueue();

        CountDownLatch done = new CountDownLatch(MESSAGES);
        AtomicLong receivedChecksum = new AtomicLong();
        AtomicLong receivedBytes = new AtomicLong();
        for (int c = 0; c < 2; c++) {
            Channel ch = consumerConnection.createChannel();
            ch.basicQos(50);
            ch.basicConsume(q, false, new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties,
                        byte[] body) throws IOException {
                    receivedChecksum.addAndGet(checksum(body));
                    receivedBytes.addAndGet(body.length);
                    getChannel().basicAck(envelope.getDeliveryTag(), false);
                    done.countDown();
                }
            });
        }

        Channel pub = publisherConnection.createChannel();
        pub.confirmSelect();
        Random random = new Random(42);
        long sentChecksum = 0;
        long sentBytes = 0;
        for (int i = 0; i < MESSAGES; i++) {
            int size = i < EDGES.length ? EDGES[i] : logUniformSize(random);
            byte[] body = new byte[size];
            random.nextBytes(body);
            sentChecksum += checksum(body);
            sentBytes += size;
            AMQP.BasicProperties props = i % 3 == 0
                    ? new AMQP.BasicProperties.Builder().contentType("application/octet-stream")
                            .headers(java.util.Map.of("i", i)).build()
                    : null;
            pub.basicPublish("", q, props, body);
            if (i % 500 == 499) {
                pub.waitForConfirmsOrDie(30_000);
            }
        }
        pub.waitForConfirmsOrDie(30_000);

        assertThat(done.await(120, TimeUnit.SECONDS)).as("all messages consumed").isTrue();
        assertThat(receivedBytes.get()).isEqualTo(sentBytes);
        assertThat(receivedChecksum.get()).isEqualTo(sentChecksum);
        consumerConnection.close();
        publisherConnection.close();
        assertBystanderUnaffected();
    }

    /** Sizes spread evenly over orders of magnitude, 10 B to 300 KiB. */
    private static int logUniformSize(Random random) {
        return (int) Math.round(10 * Math.pow(MAX_SIZE / 10.0, random.nextDouble()));
    }

    private static long checksum(byte[] body) {
        CRC32 crc = new CRC32();
        crc.update(body);
        return crc.getValue();
    }
}
