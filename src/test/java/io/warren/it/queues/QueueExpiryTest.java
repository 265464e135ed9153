package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import io.warren.it.BrokerTest;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** x-expires: a queue nobody uses (no consumer, get or redeclare) for that long is deleted. */
class QueueExpiryTest extends BrokerTest {
    /** A passive declare is a use too (as in RabbitMQ): probes must come less often than the queue's x-expires. */
    private static boolean exists(Channel probe, String q) throws Exception {
        try {
            probe.queueDeclarePassive(q);
            return true;
        } catch (IOException notFound) {
            return false;
        }
    }

    @Test
    void anUnusedQueueIsDeleted() throws Exception {
        Channel ch = connect().createChannel();
        ch.queueDeclare("expires-unused", false, false, false, Map.of("x-expires", 300));
        ch.basicPublish("", "expires-unused", null, "m".getBytes());
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> !exists(connect().createChannel(), "expires-unused"));
    }

    @Test
    void aQueueWithAConsumerDoesNotExpire() throws Exception {
        Channel ch = connect().createChannel();
        ch.queueDeclare("expires-consumed", false, false, false, Map.of("x-expires", 200));
        String tag = ch.basicConsume("expires-consumed", true, (t, d) -> { }, t -> { });
        Thread.sleep(600); // three intervals with a consumer
        assertThat(exists(connect().createChannel(), "expires-consumed")).isTrue();
        ch.basicCancel(tag);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(500))
                .until(() -> !exists(connect().createChannel(), "expires-consumed"));
    }

    @Test
    void redeclaringAndGettingCountAsUse() throws Exception {
        Channel ch = connect().createChannel();
        ch.queueDeclare("expires-used", false, false, false, Map.of("x-expires", 400));
        long deadline = System.nanoTime() + 1_200_000_000L;
        while (System.nanoTime() < deadline) { // three intervals, used every 100 ms
            Thread.sleep(100);
            ch.basicGet("expires-used", true);
            ch.queueDeclare("expires-used", false, false, false, Map.of("x-expires", 400));
        }
        assertThat(exists(connect().createChannel(), "expires-used")).isTrue();
    }

    @Test
    void zeroIsRefused() throws Exception {
        Channel ch = connect().createChannel();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ch.queueDeclare("expires-zero", false, false, false,
                Map.of("x-expires", 0))).cause()
                .hasMessageContaining("invalid arg 'x-expires' for queue 'expires-zero' in vhost '/': {value_zero,0}");
    }
}
