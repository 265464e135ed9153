package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tutorial 2, work queues: a NewTask producer and several Worker consumers sharing one
 * task queue. Each worker runs on its own connection, as separate worker processes would.
 */
class WorkQueuesTest extends BrokerTest {

    private static String taskQueue() {
        return "task_queue-" + UUID.randomUUID();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Delivery delivery) {
        return new String(delivery.getBody(), StandardCharsets.UTF_8);
    }

    @Test
    void roundRobinDispatchAlternatesBetweenTwoAutoAckWorkers() throws Exception {
        String queue = taskQueue();
        List<List<String>> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Channel channel = connect().createChannel();
            channel.queueDeclare(queue, false, false, false, null);
            List<String> done = new CopyOnWriteArrayList<>();
            DeliverCallback deliverCallback = (consumerTag, delivery) -> done.add(text(delivery));
            channel.basicConsume(queue, true, deliverCallback, consumerTag -> { });
            workers.add(done);
        }

        Channel producer = connect().createChannel();
        for (int i = 0; i < 10; i++) {
            producer.basicPublish("", queue, null, utf8("task " + i));
        }

        await().atMost(Duration.ofSeconds(5))
                .until(() -> workers.get(0).size() + workers.get(1).size() == 10);
        List<String> evens = List.of("task 0", "task 2", "task 4", "task 6", "task 8");
        List<String> odds = List.of("task 1", "task 3", "task 5", "task 7", "task 9");
        // Each worker gets every second message, in order: which one starts is the broker's choice.
        if (workers.get(0).contains("task 0")) {
            assertThat(workers.get(0)).containsExactlyElementsOf(evens);
            assertThat(workers.get(1)).containsExactlyElementsOf(odds);
        } else {
            assertThat(workers.get(0)).containsExactlyElementsOf(odds);
            assertThat(workers.get(1)).containsExactlyElementsOf(evens);
        }
    }

    @Test
    void fairDispatchWithPrefetchOneGivesTheFastWorkerTheRest() throws Exception {
        String queue = taskQueue();
        CountDownLatch slowWorkFinishes = new CountDownLatch(1);

        Channel slowChannel = connect().createChannel();
        slowChannel.queueDeclare(queue, true, false, false, null);
        slowChannel.basicQos(1);
        List<String> slowDone = new CopyOnWriteArrayList<>();
        List<String> slowStarted = new CopyOnWriteArrayList<>();
        DeliverCallback slowWorker = (consumerTag, delivery) -> {
            slowStarted.add(text(delivery));
            try {
                // The "work": this worker is busy until the test lets it finish.
                slowWorkFinishes.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            slowDone.add(text(delivery));
            slowChannel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        };
        slowChannel.basicConsume(queue, false, slowWorker, consumerTag -> { });

        Channel fastChannel = connect().createChannel();
        fastChannel.queueDeclare(queue, true, false, false, null);
        fastChannel.basicQos(1);
        List<String> fastDone = new CopyOnWriteArrayList<>();
        DeliverCallback fastWorker = (consumerTag, delivery) -> {
            fastDone.add(text(delivery));
            fastChannel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        };
        fastChannel.basicConsume(queue, false, fastWorker, consumerTag -> { });

        Channel producer = connect().createChannel();
        for (int i = 0; i < 20; i++) {
            producer.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("task " + i));
        }

        // With one unacknowledged message allowed, the busy worker holds exactly one task.
        await().atMost(Duration.ofSeconds(5)).until(() -> fastDone.size() == 19);
        assertThat(slowStarted).hasSize(1);
        assertThat(slowDone).isEmpty();
        assertThat(slowChannel.queueDeclarePassive(queue).getMessageCount()).isZero();

        slowWorkFinishes.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> slowDone.size() == 1);
        List<String> all = new ArrayList<>(fastDone);
        all.addAll(slowDone);
        assertThat(all).hasSize(20).doesNotHaveDuplicates();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fastChannel.queueDeclarePassive(queue).getMessageCount() == 0);
    }

    @Test
    void slowWorkerWithoutPrefetchLimitIsDealtHalfTheTasks() throws Exception {
        // The contrast case from the tutorial: without basicQos dispatch ignores how busy a worker is.
        String queue = taskQueue();
        CountDownLatch slowWorkFinishes = new CountDownLatch(1);

        Channel slowChannel = connect().createChannel();
        slowChannel.queueDeclare(queue, false, false, false, null);
        List<String> slowDone = new CopyOnWriteArrayList<>();
        DeliverCallback slowWorker = (consumerTag, delivery) -> {
            try {
                slowWorkFinishes.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            slowDone.add(text(delivery));
            slowChannel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        };
        slowChannel.basicConsume(queue, false, slowWorker, consumerTag -> { });

        Channel fastChannel = connect().createChannel();
        List<String> fastDone = new CopyOnWriteArrayList<>();
        fastChannel.basicConsume(queue, false, (consumerTag, delivery) -> {
            fastDone.add(text(delivery));
            fastChannel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        }, consumerTag -> { });

        Channel producer = connect().createChannel();
        for (int i = 0; i < 20; i++) {
            producer.basicPublish("", queue, null, utf8("task " + i));
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> fastDone.size() == 10);
        // The other ten are all delivered to the busy worker, none left in the queue for the idle one.
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            AMQP.Queue.DeclareOk ok = fastChannel.queueDeclarePassive(queue);
            return ok.getMessageCount() == 0;
        });
        assertThat(fastDone).hasSize(10);
        slowWorkFinishes.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> slowDone.size() == 10);
    }

    @Test
    void durableQueueAcceptsPersistentMessages() throws Exception {
        String queue = taskQueue();
        Channel producer = connect().createChannel();
        producer.queueDeclare(queue, true, false, false, null);
        producer.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("durable task"));

        Channel worker = connect().createChannel();
        AMQP.Queue.DeclareOk ok = worker.queueDeclare(queue, true, false, false, null);
        assertThat(ok.getQueue()).isEqualTo(queue);
        worker.basicQos(1);
        BlockingQueue<Delivery> received = new ArrayBlockingQueue<>(10);
        worker.basicConsume(queue, false, (consumerTag, delivery) -> {
            received.add(delivery);
            worker.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        }, consumerTag -> { });

        Delivery delivery = received.poll(5, TimeUnit.SECONDS);
        assertThat(delivery).isNotNull();
        assertThat(text(delivery)).isEqualTo("durable task");
        assertThat(delivery.getProperties().getDeliveryMode()).isEqualTo(2);
        assertThat(delivery.getProperties().getContentType()).isEqualTo("text/plain");
        assertThat(delivery.getProperties().getPriority()).isZero();
        assertThat(delivery.getEnvelope().isRedeliver()).isFalse();
    }

    @Test
    void redeclaringADurableQueueAsTransientIsRefused() throws Exception {
        // The tutorial's warning: a queue cannot be redefined with different parameters.
        String queue = taskQueue();
        connect().createChannel().queueDeclare(queue, true, false, false, null);

        Channel channel = connect().createChannel();
        Throwable thrown = catchThrowable(() -> channel.queueDeclare(queue, false, false, false, null));

        AMQP.Channel.Close close = channelClose(thrown);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - inequivalent arg 'durable' for queue '"
                + queue + "' in vhost '/': received 'false' but current is 'true'");
    }

    @Test
    void unackedTasksOfAWorkerThatClosesItsChannelGoToAnotherWorker() throws Exception {
        String queue = taskQueue();
        Channel dyingChannel = connect().createChannel();
        dyingChannel.queueDeclare(queue, false, false, false, null);
        BlockingQueue<Delivery> dyingReceived = new ArrayBlockingQueue<>(10);
        dyingChannel.basicConsume(queue, false, (consumerTag, delivery) -> dyingReceived.add(delivery),
                consumerTag -> { });

        Channel producer = connect().createChannel();
        for (int i = 0; i < 3; i++) {
            producer.basicPublish("", queue, null, utf8("task " + i));
        }
        for (int i = 0; i < 3; i++) {
            Delivery d = dyingReceived.poll(5, TimeUnit.SECONDS);
            assertThat(d).isNotNull();
            assertThat(text(d)).isEqualTo("task " + i);
            assertThat(d.getEnvelope().isRedeliver()).isFalse();
        }

        Channel survivorChannel = connect().createChannel();
        BlockingQueue<Delivery> survivorReceived = new ArrayBlockingQueue<>(10);
        survivorChannel.basicConsume(queue, false, (consumerTag, delivery) -> {
            survivorReceived.add(delivery);
            survivorChannel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        }, consumerTag -> { });
        // All three are unacknowledged by the first worker: none is ready for the second one.
        assertThat(survivorChannel.queueDeclarePassive(queue).getMessageCount()).isZero();

        dyingChannel.close();

        for (int i = 0; i < 3; i++) {
            Delivery d = survivorReceived.poll(5, TimeUnit.SECONDS);
            assertThat(d).as("redelivery %d", i).isNotNull();
            assertThat(text(d)).isEqualTo("task " + i);
            assertThat(d.getEnvelope().isRedeliver()).isTrue();
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> survivorChannel.queueDeclarePassive(queue).getMessageCount() == 0);
        assertThat(survivorReceived).isEmpty();
    }

    @Test
    void unackedTasksOfAWorkerWhoseConnectionDiesAreRedelivered() throws Exception {
        String queue = taskQueue();
        var dyingConnection = connect();
        Channel dyingChannel = dyingConnection.createChannel();
        dyingChannel.queueDeclare(queue, false, false, false, null);
        dyingChannel.basicQos(1);
        BlockingQueue<Delivery> dyingReceived = new ArrayBlockingQueue<>(10);
        dyingChannel.basicConsume(queue, false, (consumerTag, delivery) -> dyingReceived.add(delivery),
                consumerTag -> { });

        Channel producer = connect().createChannel();
        producer.basicPublish("", queue, null, utf8("task 0"));
        producer.basicPublish("", queue, null, utf8("task 1"));
        assertThat(dyingReceived.poll(5, TimeUnit.SECONDS)).isNotNull();

        dyingConnection.close();

        Channel survivorChannel = connect().createChannel();
        BlockingQueue<Delivery> survivorReceived = new ArrayBlockingQueue<>(10);
        survivorChannel.basicConsume(queue, true, (consumerTag, delivery) -> survivorReceived.add(delivery),
                consumerTag -> { });
        Delivery first = survivorReceived.poll(5, TimeUnit.SECONDS);
        Delivery second = survivorReceived.poll(5, TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(second).isNotNull();
        assertThat(text(first)).isEqualTo("task 0");
        assertThat(first.getEnvelope().isRedeliver()).isTrue();
        assertThat(text(second)).isEqualTo("task 1");
        assertThat(second.getEnvelope().isRedeliver()).isFalse();
    }

    private static AMQP.Channel.Close channelClose(Throwable thrown) {
        Throwable t = thrown;
        while (t != null && !(t instanceof ShutdownSignalException)) {
            t = t.getCause();
        }
        assertThat(t).as("channel closed by the broker, got %s", thrown).isNotNull();
        ShutdownSignalException sse = (ShutdownSignalException) t;
        assertThat(sse.isHardError()).isFalse();
        return (AMQP.Channel.Close) sse.getReason();
    }
}
