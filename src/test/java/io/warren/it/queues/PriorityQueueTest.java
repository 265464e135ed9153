package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import io.warren.it.BrokerTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** x-max-priority: higher priorities first, FIFO within one, priorities above the maximum count as the maximum. */
class PriorityQueueTest extends BrokerTest {
    private static AMQP.BasicProperties priority(Integer p) {
        return new AMQP.BasicProperties.Builder().priority(p).build();
    }

    @Test
    void higherPrioritiesComeFirstAndFifoWithinOne() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-priority", 5)).getQueue();
        Integer[] priorities = {1, 3, null, 5, 3, 9, 1}; // none counts as 0
        for (int i = 0; i < priorities.length; i++) {
            ch.basicPublish("", q, priority(priorities[i]), ("m" + i).getBytes());
        }
        List<String> order = new ArrayList<>();
        for (var r = ch.basicGet(q, true); r != null; r = ch.basicGet(q, true)) {
            order.add(new String(r.getBody()));
        }
        // 9 is capped to 5 and keeps its place after the 5 published before it.
        assertThat(order).containsExactly("m3", "m5", "m1", "m4", "m0", "m6", "m2");
    }

    @Test
    void aRequeuedMessageGoesBackToItsPriorityAndPlace() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("", false, true, false, Map.of("x-max-priority", 2)).getQueue();
        ch.basicPublish("", q, priority(2), "high".getBytes());
        ch.basicPublish("", q, priority(1), "low".getBytes());
        var high = ch.basicGet(q, false);
        ch.basicPublish("", q, priority(2), "high2".getBytes());
        ch.basicReject(high.getEnvelope().getDeliveryTag(), true);
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("high");
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("high2");
        assertThat(new String(ch.basicGet(q, true).getBody())).isEqualTo("low");
    }

    @Test
    void priorityOutsideOneTo255IsRefused() throws Exception {
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-priority", false, false, true,
                Map.of("x-max-priority", 256)))
                .cause().hasMessageContaining("invalid arg 'x-max-priority' for queue 'bad-priority' in vhost '/': "
                        + "{max_value_exceeded,256}");
        assertThatThrownBy(() -> connect().createChannel().queueDeclare("bad-priority", false, false, true,
                Map.of("x-max-priority", -1)))
                .cause().hasMessageContaining("{value_negative,-1}");
    }
}
