package io.warren.it.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.DirectExchange;
import org.springframework.amqp.core.Exchange;
import org.springframework.amqp.core.FanoutExchange;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.core.QueueInformation;
import org.springframework.amqp.core.ReturnedMessage;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.adapter.MessageListenerAdapter;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;
import org.springframework.amqp.support.converter.Jackson2JsonMessageConverter;

/**
 * Spring AMQP (spring-rabbit) used as an application would, with plain objects and no Spring
 * context: admin declarations, the template's convert/receive, RPC over direct reply-to,
 * correlated publisher confirms with returns, and both listener containers.
 */
class SpringAmqpTest extends BrokerTest {
    private CachingConnectionFactory connectionFactory;
    private RabbitAdmin admin;
    private RabbitTemplate template;
    private final List<org.springframework.context.Lifecycle> containers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        connectionFactory = new CachingConnectionFactory("127.0.0.1", port());
        connectionFactory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
        connectionFactory.setPublisherReturns(true);
        admin = new RabbitAdmin(connectionFactory);
        template = new RabbitTemplate(connectionFactory);
        template.setReplyTimeout(5000);
    }

    @AfterEach
    void tearDown() {
        containers.forEach(org.springframework.context.Lifecycle::stop);
        template.stop();
        connectionFactory.destroy();
    }

    private static String unique(String what) {
        return "spring." + what + "." + UUID.randomUUID();
    }

    /** Declares everything in a Declarables the way RabbitAdmin.initialize() does: exchanges, queues, bindings. */
    private void declare(Declarables declarables) {
        declarables.getDeclarablesByType(Exchange.class).forEach(admin::declareExchange);
        declarables.getDeclarablesByType(Queue.class).forEach(admin::declareQueue);
        declarables.getDeclarablesByType(Binding.class).forEach(admin::declareBinding);
    }

    @Test
    void adminDeclaresQueuesExchangesAndBindingsThatRouteAsDeclared() {
        Queue orders = QueueBuilder.durable(unique("orders")).build();
        Queue audit = QueueBuilder.nonDurable(unique("audit")).build(); // not auto-delete: receive(timeout) consumes and cancels
        TopicExchange events = new TopicExchange(unique("events"), false, true);
        FanoutExchange copies = new FanoutExchange(unique("copies"), false, true);
        Binding ordersBinding = BindingBuilder.bind(orders).to(events).with("order.*");
        Declarables declarables = new Declarables(orders, audit, events, copies, ordersBinding,
                BindingBuilder.bind(copies).to(events).with("#"), // exchange-to-exchange
                BindingBuilder.bind(audit).to(copies));
        declare(declarables);

        QueueInformation info = admin.getQueueInfo(orders.getName());
        assertThat(info).isNotNull();
        assertThat(info.getMessageCount()).isZero();
        assertThat(info.getConsumerCount()).isZero();
        assertThat(admin.getQueueInfo(unique("missing"))).isNull(); // passive declare, 404 swallowed by Spring

        template.convertAndSend(events.getName(), "order.created", "o1");
        template.convertAndSend(events.getName(), "payment.created", "p1");
        assertThat(template.receiveAndConvert(orders.getName(), 5000)).isEqualTo("o1");
        assertThat(template.receiveAndConvert(audit.getName(), 5000)).isEqualTo("o1");
        assertThat(template.receiveAndConvert(audit.getName(), 5000)).isEqualTo("p1");

        admin.removeBinding(ordersBinding);
        template.convertAndSend(events.getName(), "order.created", "o2");
        assertThat(template.receiveAndConvert(audit.getName(), 5000)).isEqualTo("o2");
        assertThat(admin.getQueueInfo(orders.getName()).getMessageCount()).isZero();

        template.convertAndSend("", orders.getName(), "x");
        template.convertAndSend("", orders.getName(), "y");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> admin.getQueueInfo(orders.getName()).getMessageCount() == 2);
        assertThat(admin.purgeQueue(orders.getName())).isEqualTo(2);
        assertThat(admin.deleteQueue(orders.getName())).isTrue();
        assertThat(admin.getQueueInfo(orders.getName())).isNull();
        assertThat(admin.deleteExchange(events.getName())).isTrue();
        assertThat(admin.deleteExchange(copies.getName())).isTrue();
    }

    @Test
    void templateConvertsStringsBytesAndJsonWithProperties() {
        String q = admin.declareQueue(new Queue(unique("convert"), false, false, false));

        assertThat(template.receiveAndConvert(q)).isNull(); // basic.get on an empty queue
        template.convertAndSend(q, "plain text");
        template.convertAndSend(q, new byte[] {1, 2, 3});
        assertThat(template.receiveAndConvert(q, 5000)).isEqualTo("plain text");
        assertThat(template.receiveAndConvert(q, 5000)).isEqualTo(new byte[] {1, 2, 3});

        template.convertAndSend("", q, "with properties", m -> {
            MessageProperties p = m.getMessageProperties();
            p.setHeader("x-tenant", "acme");
            p.setHeader("x-attempt", 3);
            p.setCorrelationId("corr-1");
            p.setPriority(4);
            p.setExpiration("60000");
            return m;
        });
        Message received = template.receive(q, 5000);
        assertThat(received).isNotNull();
        MessageProperties p = received.getMessageProperties();
        assertThat(new String(received.getBody(), StandardCharsets.UTF_8)).isEqualTo("with properties");
        assertThat(p.getContentType()).isEqualTo(MessageProperties.CONTENT_TYPE_TEXT_PLAIN);
        assertThat((Object) p.getHeader("x-tenant")).isEqualTo("acme");
        assertThat((Object) p.getHeader("x-attempt")).isEqualTo(3);
        assertThat(p.getCorrelationId()).isEqualTo("corr-1");
        assertThat(p.getPriority()).isEqualTo(4);
        assertThat(p.getExpiration()).isEqualTo("60000");
        assertThat(p.getReceivedRoutingKey()).isEqualTo(q);

        RabbitTemplate json = new RabbitTemplate(connectionFactory);
        json.setMessageConverter(new Jackson2JsonMessageConverter());
        json.convertAndSend(q, Map.of("sku", "A-1", "qty", 2));
        assertThat(json.receiveAndConvert(q, 5000)).isEqualTo(Map.of("sku", "A-1", "qty", 2));
    }

    /** The RPC server's POJO: MessageListenerAdapter converts the request, calls this, and replies to reply-to. */
    public static class Upper {
        public String handleMessage(String request) {
            return request.toUpperCase();
        }
    }

    @Test
    void convertSendAndReceiveUsesDirectReplyTo() throws Exception {
        String q = admin.declareQueue(new Queue(unique("rpc"), false, false, true));
        BlockingQueue<String> replyTos = new LinkedBlockingQueue<>();
        MessageListenerAdapter adapter = new MessageListenerAdapter(new Upper());
        DirectMessageListenerContainer container = new DirectMessageListenerContainer(connectionFactory);
        container.setQueueNames(q);
        container.setMessageListener((ChannelAwareMessageListener) (message, channel) -> {
            replyTos.add(message.getMessageProperties().getReplyTo());
            adapter.onMessage(message, channel);
        });
        start(container);

        assertThat(template.convertSendAndReceive(q, "hello")).isEqualTo("HELLO");
        assertThat(template.convertSendAndReceive("", q, "again")).isEqualTo("AGAIN");
        assertThat(replyTos.poll(5, TimeUnit.SECONDS)).startsWith("amq.rabbitmq.reply-to.");
        assertThat(replyTos.poll(5, TimeUnit.SECONDS)).startsWith("amq.rabbitmq.reply-to.");
    }

    @Test
    void correlatedConfirmsAndReturns() throws Exception {
        String q = admin.declareQueue(new Queue(unique("confirms"), true, false, true));
        BlockingQueue<ReturnedMessage> returns = new LinkedBlockingQueue<>();
        template.setMandatory(true);
        template.setReturnsCallback(returns::add);

        CorrelationData routed = new CorrelationData("routed");
        template.convertAndSend("", q, "kept", routed);
        CorrelationData.Confirm confirm = routed.getFuture().get(5, TimeUnit.SECONDS);
        assertThat(confirm.isAck()).isTrue();
        assertThat(routed.getReturned()).isNull();

        CorrelationData unroutable = new CorrelationData("unroutable");
        template.convertAndSend("", unique("nowhere"), "lost", unroutable);
        assertThat(unroutable.getFuture().get(5, TimeUnit.SECONDS).isAck()).isTrue();
        ReturnedMessage returned = unroutable.getReturned();
        assertThat(returned).isNotNull();
        assertThat(returned.getReplyCode()).isEqualTo(312);
        assertThat(returned.getReplyText()).isEqualTo("NO_ROUTE");
        assertThat(new String(returned.getMessage().getBody(), StandardCharsets.UTF_8)).isEqualTo("lost");
        assertThat(returns.poll(5, TimeUnit.SECONDS)).isNotNull();

        // Publishing to a missing exchange closes the channel (404); Spring nacks what was pending.
        CorrelationData noExchange = new CorrelationData("no-exchange");
        template.convertAndSend(unique("missing-exchange"), "k", "nothing", noExchange);
        CorrelationData.Confirm nack = noExchange.getFuture().get(5, TimeUnit.SECONDS);
        assertThat(nack.isAck()).isFalse();
        // Spring nacks with the broker's close reason (404 NOT_FOUND) when that reaches it first,
        // or with its own "Channel closed by application" when its template closed the channel
        // first: a race inside Spring (seen on Warren in CI), not a difference in the broker.
        assertThat(nack.getReason()).satisfiesAnyOf(
                reason -> assertThat(reason).contains("404").contains("NOT_FOUND"),
                reason -> assertThat(reason).contains("closed by application"));

        assertThat(admin.getQueueInfo(q).getMessageCount()).isEqualTo(1);
    }

    /** One delivery as the listener saw it, acked or nacked by the test thread. */
    private record Held(Channel channel, long tag, String body, boolean redelivered) { }

    @Test
    void simpleContainerWithManualAckHonoursPrefetch() throws Exception {
        String q = admin.declareQueue(new Queue(unique("manual"), false, false, true));
        BlockingQueue<Held> deliveries = new LinkedBlockingQueue<>();
        SimpleMessageListenerContainer container = new SimpleMessageListenerContainer(connectionFactory);
        container.setQueueNames(q);
        container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
        container.setPrefetchCount(3);
        container.setShutdownTimeout(1000);
        container.setMessageListener((ChannelAwareMessageListener) (message, channel) -> deliveries.add(new Held(
                channel, message.getMessageProperties().getDeliveryTag(),
                new String(message.getBody(), StandardCharsets.UTF_8),
                message.getMessageProperties().isRedelivered())));
        start(container);

        for (int i = 0; i < 10; i++) {
            template.convertAndSend(q, "m" + i);
        }
        List<Held> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Held h = deliveries.poll(5, TimeUnit.SECONDS);
            assertThat(h).isNotNull();
            first.add(h);
        }
        assertThat(first).extracting(Held::body).containsExactly("m0", "m1", "m2");
        // prefetch 3: nothing more until something is acked
        assertThat(deliveries.poll(300, TimeUnit.MILLISECONDS)).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.getQueueInfo(q).getMessageCount() == 7);
        assertThat(admin.getQueueInfo(q).getConsumerCount()).isEqualTo(1);

        first.get(0).channel().basicAck(first.get(0).tag(), false);
        first.get(1).channel().basicAck(first.get(1).tag(), false);
        first.get(2).channel().basicNack(first.get(2).tag(), false, true); // back to the queue

        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        while (seen.size() < 8) {
            Held h = deliveries.poll(5, TimeUnit.SECONDS);
            assertThat(h).as("deliveries after acks, seen so far %s", seen).isNotNull();
            seen.put(h.body(), h.redelivered());
            h.channel().basicAck(h.tag(), false);
        }
        assertThat(seen).containsOnlyKeys("m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
        assertThat(seen.get("m2")).isTrue();
        assertThat(seen.get("m3")).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.getQueueInfo(q).getMessageCount() == 0);
    }

    @Test
    void directContainerConsumesWithSeveralConsumersAndCancelsOnStop() throws Exception {
        String q = admin.declareQueue(new Queue(unique("direct"), false, false, false));
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        DirectMessageListenerContainer container = new DirectMessageListenerContainer(connectionFactory);
        container.setQueueNames(q);
        container.setConsumersPerQueue(2);
        container.setPrefetchCount(5);
        container.setMessageListener(m -> received.add(new String(m.getBody(), StandardCharsets.UTF_8)));
        start(container);
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.getQueueInfo(q).getConsumerCount() == 2);

        for (int i = 0; i < 20; i++) {
            template.convertAndSend(q, "d" + i);
        }
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String body = received.poll(5, TimeUnit.SECONDS);
            assertThat(body).as("after %s", bodies).isNotNull();
            bodies.add(body);
        }
        assertThat(bodies).hasSize(20).doesNotHaveDuplicates();

        container.stop();
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.getQueueInfo(q).getConsumerCount() == 0);
        template.convertAndSend(q, "after stop");
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.getQueueInfo(q).getMessageCount() == 1);
        assertThat(admin.deleteQueue(q)).isTrue();
    }

    private void start(org.springframework.amqp.rabbit.listener.AbstractMessageListenerContainer container) {
        container.afterPropertiesSet();
        container.start();
        containers.add(container);
    }
}
