package io.warren.it.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.jms.admin.RMQConnectionFactory;
import com.rabbitmq.jms.admin.RMQDestination;
import io.warren.it.BrokerTest;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.JMSContext;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The RabbitMQ JMS client (Jakarta JMS 3) against Warren: point-to-point queues, publish/subscribe
 * topics, transacted sessions, temporary reply queues, and interop with plain AMQP clients.
 */
class JmsClientTest extends BrokerTest {
    private RMQConnectionFactory factory;
    private final List<Connection> jmsConnections = new ArrayList<>();

    @BeforeEach
    void setUp() {
        factory = new RMQConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(port());
        factory.setUsername("guest");
        factory.setPassword("guest");
    }

    @AfterEach
    void closeJmsConnections() throws Exception {
        for (Connection c : jmsConnections) {
            c.close();
        }
    }

    private Connection open() throws Exception {
        Connection c = factory.createConnection();
        jmsConnections.add(c);
        c.start();
        return c;
    }

    private static String unique(String what) {
        return "jms." + what + "." + UUID.randomUUID();
    }

    @Test
    void queueSendAndReceiveKeepsBodiesAndProperties() throws Exception {
        Session session = open().createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = session.createQueue(unique("orders"));
        MessageProducer producer = session.createProducer(queue);
        MessageConsumer consumer = session.createConsumer(queue);
        assertThat(consumer.receiveNoWait()).isNull();

        TextMessage text = session.createTextMessage("hello jms");
        text.setStringProperty("region", "eu");
        text.setIntProperty("attempt", 2);
        text.setJMSCorrelationID("corr-7");
        producer.send(text);
        BytesMessage bytes = session.createBytesMessage();
        bytes.writeBytes(new byte[] {9, 8, 7});
        producer.send(bytes);
        MapMessage map = session.createMapMessage();
        map.setString("sku", "A-1");
        map.setLong("qty", 3);
        producer.send(map);

        Message first = consumer.receive(5000);
        assertThat(first).isInstanceOf(TextMessage.class);
        assertThat(((TextMessage) first).getText()).isEqualTo("hello jms");
        assertThat(first.getStringProperty("region")).isEqualTo("eu");
        assertThat(first.getIntProperty("attempt")).isEqualTo(2);
        assertThat(first.getJMSCorrelationID()).isEqualTo("corr-7");
        assertThat(first.getJMSMessageID()).isEqualTo(text.getJMSMessageID());
        assertThat(first.getJMSDestination()).isEqualTo(queue);

        BytesMessage second = (BytesMessage) consumer.receive(5000);
        byte[] body = new byte[(int) second.getBodyLength()];
        second.readBytes(body);
        assertThat(body).containsExactly(9, 8, 7);

        MapMessage third = (MapMessage) consumer.receive(5000);
        assertThat(third.getString("sku")).isEqualTo("A-1");
        assertThat(third.getLong("qty")).isEqualTo(3);
        assertThat(consumer.receive(200)).isNull();
    }

    @Test
    void asyncListenerOnAQueueWithTheSimplifiedApi() throws Exception {
        try (JMSContext context = factory.createContext()) {
            Queue queue = context.createQueue(unique("async"));
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            context.createConsumer(queue).setMessageListener(m -> {
                try {
                    received.add(m.getBody(String.class));
                } catch (Exception e) {
                    received.add("error: " + e);
                }
            });
            for (int i = 0; i < 5; i++) {
                context.createProducer().send(queue, "m" + i);
            }
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                bodies.add(received.poll(5, TimeUnit.SECONDS));
            }
            assertThat(bodies).containsExactly("m0", "m1", "m2", "m3", "m4");
        }
    }

    @Test
    void topicPublishReachesEverySubscriberPresentAtPublishTime() throws Exception {
        Connection connection = open();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic topic = session.createTopic(unique("prices"));
        MessageConsumer first = session.createConsumer(topic);
        MessageConsumer second = connection.createSession(false, Session.AUTO_ACKNOWLEDGE).createConsumer(topic);
        MessageProducer publisher = session.createProducer(topic);

        publisher.send(session.createTextMessage("p1"));
        publisher.send(session.createTextMessage("p2"));
        for (MessageConsumer subscriber : List.of(first, second)) {
            assertThat(((TextMessage) subscriber.receive(5000)).getText()).isEqualTo("p1");
            assertThat(((TextMessage) subscriber.receive(5000)).getText()).isEqualTo("p2");
        }

        MessageConsumer late = session.createConsumer(topic);
        assertThat(late.receive(200)).isNull(); // non-durable subscriptions start empty
        publisher.send(session.createTextMessage("p3"));
        assertThat(((TextMessage) late.receive(5000)).getText()).isEqualTo("p3");
        assertThat(((TextMessage) first.receive(5000)).getText()).isEqualTo("p3");
    }

    @Test
    void durableSubscriptionKeepsMessagesPublishedWhileItsSubscriberWasAway() throws Exception {
        Connection connection = open();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic topic = session.createTopic(unique("alerts"));
        String subscription = unique("subscription");
        session.createDurableSubscriber(topic, subscription).close();

        MessageProducer publisher = session.createProducer(topic);
        publisher.send(session.createTextMessage("while away"));

        MessageConsumer back = session.createDurableSubscriber(topic, subscription);
        assertThat(((TextMessage) back.receive(5000)).getText()).isEqualTo("while away");
        back.close();
        session.unsubscribe(subscription);
    }

    @Test
    void transactedSessionsCommitSendsAndRedeliverRolledBackReceives() throws Exception {
        Connection connection = open();
        Session tx = connection.createSession(true, Session.SESSION_TRANSACTED);
        Session plain = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue queue = tx.createQueue(unique("tx"));
        MessageProducer producer = tx.createProducer(queue);
        MessageConsumer observer = plain.createConsumer(queue);

        producer.send(tx.createTextMessage("t1"));
        assertThat(observer.receive(300)).isNull(); // not visible before commit
        tx.commit();
        Message committed = observer.receive(5000);
        assertThat(((TextMessage) committed).getText()).isEqualTo("t1");
        observer.close();

        producer.send(tx.createTextMessage("t2"));
        tx.commit();
        MessageConsumer txConsumer = tx.createConsumer(queue);
        Message once = txConsumer.receive(5000);
        assertThat(((TextMessage) once).getText()).isEqualTo("t2");
        assertThat(once.getJMSRedelivered()).isFalse();
        tx.rollback();
        Message again = txConsumer.receive(5000);
        assertThat(((TextMessage) again).getText()).isEqualTo("t2");
        assertThat(again.getJMSRedelivered()).isTrue();
        tx.commit();
        assertThat(txConsumer.receive(200)).isNull();
    }

    @Test
    void requestReplyOverATemporaryQueue() throws Exception {
        Connection connection = open();
        Session serverSession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue requests = serverSession.createQueue(unique("requests"));
        MessageProducer replies = serverSession.createProducer(null);
        serverSession.createConsumer(requests).setMessageListener(request -> {
            try {
                TextMessage reply = serverSession.createTextMessage(((TextMessage) request).getText().toUpperCase());
                reply.setJMSCorrelationID(request.getJMSMessageID());
                replies.send(request.getJMSReplyTo(), reply);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        Session client = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        TemporaryQueue replyQueue = client.createTemporaryQueue();
        MessageConsumer replyConsumer = client.createConsumer(replyQueue);
        TextMessage request = client.createTextMessage("ping");
        request.setJMSReplyTo(replyQueue);
        client.createProducer(requests).send(request);

        TextMessage reply = (TextMessage) replyConsumer.receive(5000);
        assertThat(reply).isNotNull();
        assertThat(reply.getText()).isEqualTo("PING");
        assertThat(reply.getJMSCorrelationID()).isEqualTo(request.getJMSMessageID());
    }

    @Test
    void amqpMappedDestinationsInteroperateWithPlainAmqpClients() throws Exception {
        Channel amqp = connect().createChannel();
        String q = amqp.queueDeclare(unique("interop"), false, false, false, null).getQueue();
        // exchange "" + routing key q to send; queue q to receive
        RMQDestination destination = new RMQDestination(q, "", q, q);

        Session session = open().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = session.createProducer(destination);
        BytesMessage out = session.createBytesMessage();
        out.writeBytes("from jms".getBytes(StandardCharsets.UTF_8));
        out.setStringProperty("origin", "jms");
        producer.send(out);

        BlockingQueue<Delivery> fromJms = new LinkedBlockingQueue<>();
        String tag = amqp.basicConsume(q, true, (consumerTag, d) -> fromJms.add(d), consumerTag -> { });
        Delivery got = fromJms.poll(5, TimeUnit.SECONDS);
        amqp.basicCancel(tag);
        assertThat(got).isNotNull();
        assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("from jms");
        assertThat(got.getProperties().getHeaders().get("origin")).hasToString("jms");

        amqp.basicPublish("", q, null, "from amqp".getBytes(StandardCharsets.UTF_8));
        Message in = session.createConsumer(destination).receive(5000);
        assertThat(in).isInstanceOf(BytesMessage.class);
        byte[] body = new byte[(int) ((BytesMessage) in).getBodyLength()];
        ((BytesMessage) in).readBytes(body);
        assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo("from amqp");
    }
}
