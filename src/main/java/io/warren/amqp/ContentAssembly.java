package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.warren.broker.Exchange;
import io.warren.broker.VirtualHost;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.Method;
import io.warren.protocol.ReplyCode;

/**
 * Puts one published message together from its frames: basic.publish, the content header, then
 * body frames, whose payloads are kept as they came (a composite of the read buffers, no copy). The
 * whole message goes to {@link AmqpChannel#completePublish}. A frame of the wrong kind midway is
 * RabbitMQ's 505 with RabbitMQ's words. Created by a channel's first publish; owned by the
 * connection's event loop.
 */
final class ContentAssembly {
    private static final int PUBLISH_ID = Method.BASIC_PUBLISH.classId() << 16 | Method.BASIC_PUBLISH.methodId();

    private final AmqpChannel channel;
    /** The last exchange and routing key names published to, reused while the bytes repeat. */
    private final ShortStringCache exchangeNames = new ShortStringCache();
    private final ShortStringCache routingKeys = new ShortStringCache();
    private boolean publishing;
    private Exchange exchange;
    private String routingKey;
    private boolean mandatory;
    private ContentHeader header;
    private ByteBuf body;
    private long bodyRemaining;

    ContentAssembly(AmqpChannel channel) {
        this.channel = channel;
    }

    static boolean isPublish(ByteBuf payload) {
        return payload.readableBytes() >= 4 && payload.getInt(payload.readerIndex()) == PUBLISH_ID;
    }

    /** True between a basic.publish and its last body frame. */
    boolean inProgress() {
        return publishing;
    }

    /**
     * basic.publish, decoded by hand: it is the one method that arrives once per message. Exchange
     * and routing key strings are reused while the client keeps publishing to the same ones.
     */
    void start(ByteBuf payload, VirtualHost vhost) {
        try {
            payload.skipBytes(6);
            String exchangeName = exchangeNames.read(payload);
            String key = routingKeys.read(payload);
            int bits = payload.readUnsignedByte();
            if ((bits & 2) != 0) {
                throw new AmqpException(ReplyCode.NOT_IMPLEMENTED, "immediate=true", Method.BASIC_PUBLISH);
            }
            Exchange target = vhost.existingExchange(exchangeName);
            if (target.internal()) {
                throw new AmqpException(ReplyCode.ACCESS_REFUSED, "cannot publish to internal exchange '"
                        + exchangeName + "' in vhost '" + vhost.name() + "'", Method.BASIC_PUBLISH);
            }
            publishing = true;
            routingKey = key;
            mandatory = (bits & 1) != 0;
            exchange = target;
        } catch (IndexOutOfBoundsException e) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "cannot decode basic.publish: arguments cut short",
                    Method.BASIC_PUBLISH);
        } catch (AmqpException e) {
            throw e.attributedTo(Method.BASIC_PUBLISH);
        }
    }

    /** RabbitMQ's words for a frame of the wrong kind in the middle of a publish. */
    AmqpException contentExpected() {
        return new AmqpException(ReplyCode.UNEXPECTED_FRAME, header == null
                ? "expected content header for class 60, got non content header frame instead"
                : "expected content body, got non content body frame instead", Method.BASIC_PUBLISH);
    }

    private static AmqpException methodExpected() {
        return new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
    }

    void header(ByteBuf payload, long maxMessageSize) {
        if (!publishing) {
            throw methodExpected();
        }
        if (header != null) {
            throw contentExpected();
        }
        ContentHeader h = ContentHeader.decode(payload);
        if (h.bodySize() > maxMessageSize) {
            h.release();
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "message size " + h.bodySize()
                    + " is larger than configured max size " + maxMessageSize, Method.BASIC_PUBLISH);
        }
        header = h;
        bodyRemaining = h.bodySize();
        if (bodyRemaining == 0) {
            complete(channel.alloc().buffer(0, 0));
        }
    }

    /** A body frame; takes over its payload. */
    void body(ByteBuf payload) {
        if (header == null) {
            payload.release();
            throw publishing ? contentExpected() : methodExpected();
        }
        int size = payload.readableBytes();
        if (size > bodyRemaining) {
            payload.release();
            throw new AmqpException(ReplyCode.FRAME_ERROR, "body frames carry more than the "
                    + header.bodySize() + " bytes declared in the content header", Method.BASIC_PUBLISH);
        }
        bodyRemaining -= size;
        if (body == null && bodyRemaining == 0) {
            complete(payload);
            return;
        }
        if (body == null) {
            body = channel.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        ((CompositeByteBuf) body).addComponent(true, payload);
        if (bodyRemaining == 0) {
            ByteBuf whole = body;
            body = null;
            complete(whole);
        }
    }

    private void complete(ByteBuf content) {
        Exchange target = exchange;
        ContentHeader h = header;
        String key = routingKey;
        boolean m = mandatory;
        publishing = false;
        routingKey = null;
        exchange = null;
        header = null;
        channel.completePublish(target, key, m, h, content);
    }

    /** Drops a half-assembled message (the channel closes). */
    void release() {
        if (header != null) {
            header.release();
            header = null;
        }
        if (body != null) {
            body.release();
            body = null;
        }
        publishing = false;
        exchange = null;
    }
}
