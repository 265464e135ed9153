package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.warren.broker.Message;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.Method;
import io.warren.protocol.Properties;
import io.warren.protocol.ReplyCode;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * RabbitMQ's direct reply-to for one channel: its consumer of the pseudo-queue
 * {@code amq.rabbitmq.reply-to} (no-ack only), the channel's own reply address
 * {@code amq.rabbitmq.reply-to.TOKEN} that requests published here carry in reply-to (live, that
 * is registered in {@link DirectReplies}, while the consumer is), and the replies delivered straight
 * to this channel, never through a queue. Made by the channel's first use of it; owned by the
 * connection's event loop.
 */
final class DirectReplyConsumer {
    static final String PSEUDO_QUEUE = "amq.rabbitmq.reply-to";
    static final String ADDRESS_PREFIX = PSEUDO_QUEUE + ".";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final AmqpChannel channel;
    private final AmqpConnection connection;
    private String token;
    private String consumerTag;

    DirectReplyConsumer(AmqpChannel channel, AmqpConnection connection) {
        this.channel = channel;
        this.connection = connection;
    }

    static String randomToken() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    boolean isConsumer(String tag) {
        return tag.equals(consumerTag);
    }

    /** basic.consume of amq.rabbitmq.reply-to. */
    void consume(String tag, boolean noAck, boolean nowait) {
        if (!noAck) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "reply consumer cannot acknowledge");
        }
        if (consumerTag != null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "reply consumer already set");
        }
        consumerTag = tag;
        // A new address for each consumer, as in RabbitMQ: one of an earlier consumer is no longer live.
        token = randomToken();
        connection.directReplies().register(token, channel);
        if (!nowait) {
            channel.send(Method.BASIC_CONSUME_OK, tag);
        }
    }

    boolean consuming() {
        return consumerTag != null;
    }

    void cancel() {
        consumerTag = null;
        connection.directReplies().unregister(token);
    }

    /** A request that asks for a direct reply: its reply-to becomes this channel's own address. */
    Message withReplyAddress(Message message) {
        if (consumerTag == null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "fast reply consumer does not exist",
                    Method.BASIC_PUBLISH);
        }
        Properties props = message.header().decodeCopy();
        props.replyTo = ADDRESS_PREFIX + token;
        return message.withHeader(ContentHeader.of(message.header().bodySize(), props, connection.alloc()));
    }

    /** A reply published to this channel's address: delivered at once, or dropped without a consumer. */
    void deliver(Message message, long deliveryTag) {
        try {
            if (consumerTag == null) {
                return;
            }
            ByteBuf out = connection.alloc().buffer(128);
            FrameWriter.writeDeliver(out, channel.id(), consumerTag, deliveryTag, false, message.exchange(),
                    message.routingKey());
            FrameWriter.writeContent(connection.channel(), out, channel.id(), message.header(), message.body(),
                    connection.frameMax());
            connection.flush();
        } finally {
            message.release();
        }
    }

    /** The channel closes: its address is no more. */
    void release() {
        if (consumerTag != null) {
            connection.directReplies().unregister(token);
        }
    }
}
