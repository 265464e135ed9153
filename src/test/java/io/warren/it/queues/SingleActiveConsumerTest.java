package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.warren.it.BrokerTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** x-single-active-consumer: one consumer gets everything; the next in line takes over when it goes. */
class SingleActiveConsumerTest extends BrokerTest {
    @Test
    void onlyTheFirstConsumerGetsMessagesUntilItGoes() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("sac-takeover", false, false, false, Map.of("x-single-active-consumer", true)).getQueue();
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        Connection other = connect();
        Channel c1 = other.createChannel();
        Channel c2 = connect().createChannel();
        c1.basicConsume(q, true, (t, d) -> first.add(new String(d.getBody())), t -> { });
        c2.basicConsume(q, true, (t, d) -> second.add(new String(d.getBody())), t -> { });
        for (int i = 0; i < 10; i++) {
            ch.basicPublish("", q, null, ("a" + i).getBytes());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> first.size() == 10);
        other.close(); // its connection dies: the next consumer takes over, in order
        for (int i = 0; i < 10; i++) {
            ch.basicPublish("", q, null, ("b" + i).getBytes());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> second.size() == 10);
        assertThat(second).containsExactly("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9");
    }

    @Test
    void unackedMessagesOfTheActiveOneGoToItsSuccessorInOrder() throws Exception {
        Channel ch = connect().createChannel();
        String q = ch.queueDeclare("sac-unacked", false, false, false, Map.of("x-single-active-consumer", true)).getQueue();
        for (int i = 0; i < 5; i++) {
            ch.basicPublish("", q, null, ("m" + i).getBytes());
        }
        Channel c1 = connect().createChannel();
        List<String> firstGot = new CopyOnWriteArrayList<>();
        c1.basicQos(2);
        c1.basicConsume(q, false, (t, d) -> firstGot.add(new String(d.getBody())), t -> { });
        await().atMost(Duration.ofSeconds(5)).until(() -> firstGot.size() == 2);
        List<String> secondGot = new CopyOnWriteArrayList<>();
        Channel c2 = connect().createChannel();
        c2.basicConsume(q, true, (t, d) -> secondGot.add(new String(d.getBody())), t -> { });
        assertThat(secondGot).isEmpty();
        c1.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> secondGot.size() == 5);
        assertThat(secondGot).containsExactly("m0", "m1", "m2", "m3", "m4");
    }

    @Test
    void aNonBooleanIsRefused() throws Exception {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> connect().createChannel().queueDeclare("sac-bad", false,
                false, true, Map.of("x-single-active-consumer", "yes"))).cause()
                .hasMessageContaining("invalid arg 'x-single-active-consumer' for queue 'sac-bad' in vhost '/': "
                        + "{unacceptable_type,longstr}");
    }
}
