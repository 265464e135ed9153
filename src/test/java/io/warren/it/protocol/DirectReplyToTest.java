package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.warren.it.BrokerTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Declaring direct reply-to names, as in RabbitMQ (its Java client's DirectReplyTo test): every
 * declare is passive; the pseudo-queue and a live reply address exist with one consumer, a forged or
 * stale address is a 404, and a reply to a forged address reaches nobody.
 */
class DirectReplyToTest extends BrokerTest {
    private static final String PSEUDO_QUEUE = "amq.rabbitmq.reply-to";

    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    /** The consumer tag of the last {@link #replyAddress} consumer. */
    private String replyConsumer;

    /** Consumes the pseudo-queue on {@code ch} and returns the reply address a request from it carries. */
    private String replyAddress(Channel ch) throws Exception {
        replyConsumer = ch.basicConsume(PSEUDO_QUEUE, true, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                replies.add(new String(body, StandardCharsets.UTF_8));
            }
        });
        String requests = ch.queueDeclare().getQueue();
        ch.basicPublish("", requests, new AMQP.BasicProperties.Builder().replyTo(PSEUDO_QUEUE).build(), new byte[0]);
        String address = ch.basicGet(requests, true).getProps().getReplyTo();
        assertThat(address).startsWith(PSEUDO_QUEUE + ".");
        return address;
    }

    private static AMQP.Channel.Close notFound(Connection c, String name) throws Exception {
        Channel ch = c.createChannel();
        AMQP.Channel.Close close = Closes.channelClose(() -> ch.queueDeclarePassive(name));
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no queue '" + name + "' in vhost '/'");
        assertThat(close.getClassId()).isEqualTo(50);
        assertThat(close.getMethodId()).isEqualTo(10);
        return close;
    }

    @Test
    void thePseudoQueueExistsWithOneConsumer() throws Exception {
        Channel ch = connect().createChannel();
        AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(PSEUDO_QUEUE);
        assertThat(ok.getQueue()).isEqualTo(PSEUDO_QUEUE);
        assertThat(ok.getMessageCount()).isZero();
        assertThat(ok.getConsumerCount()).isEqualTo(1);
        // A non-passive declare is passive too.
        assertThat(ch.queueDeclare(PSEUDO_QUEUE, true, false, false, null).getConsumerCount()).isEqualTo(1);
    }

    @Test
    void aLiveReplyAddressExistsForAnyConnection() throws Exception {
        String address = replyAddress(connect().createChannel());

        AMQP.Queue.DeclareOk ok = connect().createChannel().queueDeclarePassive(address);
        assertThat(ok.getQueue()).isEqualTo(address);
        assertThat(ok.getMessageCount()).isZero();
        assertThat(ok.getConsumerCount()).isEqualTo(1);
    }

    @Test
    void aForgedReplyAddressIsNotFoundAndAReplyToItReachesNobody() throws Exception {
        Connection c = connect();
        String address = replyAddress(c.createChannel());
        String forged = address.substring(0, address.length() - 5) + "xxxxx";

        notFound(c, forged);
        notFound(c, PSEUDO_QUEUE + ".");
        notFound(c, PSEUDO_QUEUE + "-not-an-address");

        Channel replier = c.createChannel();
        replier.confirmSelect();
        replier.basicPublish("", forged, null, "forged".getBytes(StandardCharsets.UTF_8));
        replier.basicPublish("", address, null, "genuine".getBytes(StandardCharsets.UTF_8));
        replier.waitForConfirmsOrDie(5000);
        assertThat(replies.poll(5, TimeUnit.SECONDS)).isEqualTo("genuine");
        assertThat(replies.poll(200, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void anAddressIsNoLongerLiveOnceItsConsumerCancelsOrItsChannelCloses() throws Exception {
        Connection c = connect();
        Channel cancelling = c.createChannel();
        String first = replyAddress(cancelling);
        cancelling.basicCancel(replyConsumer);
        notFound(c, first);
        // A new consumer has a new address; the old one stays dead.
        String second = replyAddress(cancelling);
        assertThat(second).isNotEqualTo(first);
        notFound(c, first);
        assertThat(c.createChannel().queueDeclarePassive(second).getConsumerCount()).isEqualTo(1);

        Channel closing = c.createChannel();
        String third = replyAddress(closing);
        closing.close();
        notFound(c, third);
    }
}
