package io.warren.it.tutorials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.ShutdownSignalException;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tutorial 6, RPC: an RPCServer computing Fibonacci numbers from a request queue, and an
 * RPCClient that sends each request with a reply queue and a correlation id. Also RabbitMQ's direct
 * reply-to, where the client consumes the pseudo-queue amq.rabbitmq.reply-to instead.
 */
class RpcTest extends BrokerTest {
    private static final String DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

    private static int fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    /**
     * RPCServer: prefetch 1, replies to the request's replyTo with its correlationId, then acks.
     * Records the replyTo each request carried.
     */
    private List<String> startServer(String requestQueue) throws Exception {
        Channel channel = connect().createChannel();
        channel.queueDeclare(requestQueue, false, false, false, null);
        channel.queuePurge(requestQueue);
        channel.basicQos(1);
        List<String> seenReplyTo = new CopyOnWriteArrayList<>();
        DeliverCallback deliverCallback = (consumerTag, delivery) -> {
            AMQP.BasicProperties replyProps = new AMQP.BasicProperties.Builder()
                    .correlationId(delivery.getProperties().getCorrelationId())
                    .build();
            String response;
            try {
                int n = Integer.parseInt(new String(delivery.getBody(), StandardCharsets.UTF_8));
                response = Integer.toString(fib(n));
            } catch (RuntimeException e) {
                response = "";
            } finally {
                seenReplyTo.add(delivery.getProperties().getReplyTo());
            }
            channel.basicPublish("", delivery.getProperties().getReplyTo(), replyProps,
                    response.getBytes(StandardCharsets.UTF_8));
            channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        };
        channel.basicConsume(requestQueue, false, deliverCallback, consumerTag -> { });
        return seenReplyTo;
    }

    private static String rpcQueue() {
        return "rpc_queue-" + UUID.randomUUID();
    }

    /** RPCClient with one server-named reply queue and the pending calls by correlation id. */
    private final class RpcClient {
        final Channel channel;
        final String replyQueueName;
        final String requestQueue;
        final Map<String, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
        final List<String> uncorrelated = new CopyOnWriteArrayList<>();

        RpcClient(String requestQueue, String replyTo) throws Exception {
            this.requestQueue = requestQueue;
            this.channel = connect().createChannel();
            this.replyQueueName = replyTo != null ? replyTo : channel.queueDeclare().getQueue();
            channel.basicConsume(replyQueueName, true, (consumerTag, delivery) -> {
                CompletableFuture<String> call = pending.remove(delivery.getProperties().getCorrelationId());
                if (call == null) {
                    uncorrelated.add(delivery.getProperties().getCorrelationId());
                } else {
                    call.complete(new String(delivery.getBody(), StandardCharsets.UTF_8));
                }
            }, consumerTag -> { });
        }

        CompletableFuture<String> call(String message) throws Exception {
            String corrId = UUID.randomUUID().toString();
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .correlationId(corrId)
                    .replyTo(replyQueueName)
                    .build();
            CompletableFuture<String> response = new CompletableFuture<>();
            pending.put(corrId, response);
            channel.basicPublish("", requestQueue, props, message.getBytes(StandardCharsets.UTF_8));
            return response;
        }
    }

    @Test
    void clientGetsTheServersAnswerOnItsReplyQueue() throws Exception {
        String requestQueue = rpcQueue();
        List<String> seenReplyTo = startServer(requestQueue);
        RpcClient client = new RpcClient(requestQueue, null);
        assertThat(client.replyQueueName).startsWith("amq.gen-");

        assertThat(client.call("10").get(5, TimeUnit.SECONDS)).isEqualTo("55");
        assertThat(seenReplyTo).containsExactly(client.replyQueueName);
    }

    @Test
    void concurrentCallsAreMatchedByCorrelationId() throws Exception {
        String requestQueue = rpcQueue();
        // Two servers sharing the request queue, so replies may come back in any order.
        startServer(requestQueue);
        startServer(requestQueue);
        RpcClient first = new RpcClient(requestQueue, null);
        RpcClient second = new RpcClient(requestQueue, null);

        List<CompletableFuture<String>> calls = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            calls.add((i % 2 == 0 ? first : second).call(Integer.toString(i)));
            expected.add(Integer.toString(fib(i)));
        }

        List<String> answers = new ArrayList<>();
        for (CompletableFuture<String> call : calls) {
            answers.add(call.get(10, TimeUnit.SECONDS));
        }
        assertThat(answers).containsExactlyElementsOf(expected);
        assertThat(first.uncorrelated).isEmpty();
        assertThat(second.uncorrelated).isEmpty();
        assertThat(first.replyQueueName).isNotEqualTo(second.replyQueueName);
    }

    @Test
    void replyWithAnUnknownCorrelationIdIsIgnoredByTheClient() throws Exception {
        String requestQueue = rpcQueue();
        startServer(requestQueue);
        RpcClient client = new RpcClient(requestQueue, null);

        Channel stranger = connect().createChannel();
        stranger.basicPublish("", client.replyQueueName,
                new AMQP.BasicProperties.Builder().correlationId("not-mine").build(),
                "99".getBytes(StandardCharsets.UTF_8));

        assertThat(client.call("7").get(5, TimeUnit.SECONDS)).isEqualTo("13");
        await().atMost(Duration.ofSeconds(5)).until(() -> client.uncorrelated.contains("not-mine"));
    }

    @Test
    void directReplyToDeliversTheReplyWithoutAReplyQueue() throws Exception {
        String requestQueue = rpcQueue();
        List<String> seenReplyTo = startServer(requestQueue);
        RpcClient client = new RpcClient(requestQueue, DIRECT_REPLY_TO);

        assertThat(client.call("12").get(5, TimeUnit.SECONDS)).isEqualTo("144");
        assertThat(seenReplyTo).hasSize(1);
        assertThat(seenReplyTo.get(0)).startsWith(DIRECT_REPLY_TO + ".");
        assertThat(seenReplyTo.get(0).length()).isGreaterThan(DIRECT_REPLY_TO.length() + 1);
    }

    @Test
    void directReplyToCarriesSeveralConcurrentCalls() throws Exception {
        String requestQueue = rpcQueue();
        List<String> seenReplyTo = startServer(requestQueue);
        startServer(requestQueue);
        RpcClient client = new RpcClient(requestQueue, DIRECT_REPLY_TO);

        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            calls.add(client.call(Integer.toString(i)));
        }
        for (int i = 0; i < 20; i++) {
            assertThat(calls.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(Integer.toString(fib(i)));
        }
        assertThat(client.uncorrelated).isEmpty();
        // Every request from one channel carries the same rewritten address.
        assertThat(seenReplyTo).isNotEmpty();
        assertThat(seenReplyTo.stream().distinct()).hasSize(1);
    }

    @Test
    void directReplyDeliveryLooksLikeADeliveryFromTheDefaultExchange() throws Exception {
        Channel client = connect().createChannel();
        BlockingQueue<Delivery> replies = new LinkedBlockingQueue<>();
        String consumerTag = client.basicConsume(DIRECT_REPLY_TO, true, (tag, d) -> replies.add(d), tag -> { });

        String requestQueue = rpcQueue();
        Channel server = connect().createChannel();
        server.queueDeclare(requestQueue, false, false, false, null);
        BlockingQueue<Delivery> requests = new LinkedBlockingQueue<>();
        server.basicConsume(requestQueue, true, (tag, d) -> requests.add(d), tag -> { });
        client.basicPublish("", requestQueue,
                new AMQP.BasicProperties.Builder().replyTo(DIRECT_REPLY_TO).correlationId("c1").build(),
                "ping".getBytes(StandardCharsets.UTF_8));
        Delivery request = requests.poll(5, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        String replyTo = request.getProperties().getReplyTo();
        assertThat(replyTo).startsWith(DIRECT_REPLY_TO + ".");

        server.basicPublish("", replyTo, new AMQP.BasicProperties.Builder().correlationId("c1").build(),
                "pong".getBytes(StandardCharsets.UTF_8));

        Delivery reply = replies.poll(5, TimeUnit.SECONDS);
        assertThat(reply).isNotNull();
        assertThat(new String(reply.getBody(), StandardCharsets.UTF_8)).isEqualTo("pong");
        assertThat(reply.getProperties().getCorrelationId()).isEqualTo("c1");
        assertThat(reply.getEnvelope().getExchange()).isEmpty();
        assertThat(reply.getEnvelope().getRoutingKey()).isEqualTo(replyTo);
        assertThat(reply.getEnvelope().isRedeliver()).isFalse();
        assertThat(consumerTag).isNotEmpty();
    }

    @Test
    void publishingWithDirectReplyToBeforeConsumingItClosesTheChannel() throws Exception {
        String requestQueue = rpcQueue();
        Channel channel = connect().createChannel();
        channel.queueDeclare(requestQueue, false, false, false, null);

        channel.basicPublish("", requestQueue, new AMQP.BasicProperties.Builder().replyTo(DIRECT_REPLY_TO).build(),
                "1".getBytes(StandardCharsets.UTF_8));
        Throwable thrown = catchThrowable(() -> channel.queueDeclarePassive(requestQueue));

        AMQP.Channel.Close close = channelClose(thrown);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - fast reply consumer does not exist");
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(40);
        // Nothing was enqueued.
        Channel other = connect().createChannel();
        assertThat(other.queueDeclarePassive(requestQueue).getMessageCount()).isZero();
    }

    @Test
    void consumingDirectReplyToWithManualAckIsRefused() throws Exception {
        Channel channel = connect().createChannel();

        Throwable thrown = catchThrowable(() -> channel.basicConsume(DIRECT_REPLY_TO, false, (t, d) -> { }, t -> { }));

        AMQP.Channel.Close close = channelClose(thrown);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - reply consumer cannot acknowledge");
    }

    @Test
    void consumingDirectReplyToTwiceOnOneChannelIsRefused() throws Exception {
        Channel channel = connect().createChannel();
        channel.basicConsume(DIRECT_REPLY_TO, true, (t, d) -> { }, t -> { });

        Throwable thrown = catchThrowable(() -> channel.basicConsume(DIRECT_REPLY_TO, true, (t, d) -> { }, t -> { }));

        AMQP.Channel.Close close = channelClose(thrown);
        assertThat(close.getReplyCode()).isEqualTo(AMQP.PRECONDITION_FAILED);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - reply consumer already set");
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
