package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.warren.broker.Exchange;
import io.warren.broker.Expiration;
import io.warren.broker.Message;
import io.warren.broker.SenderRoutes;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.Method;
import io.warren.protocol.ReplyCode;
import java.util.List;

/**
 * What RabbitMQ checks of a published message before routing it: user-id matches the connection's
 * user, expiration is a valid TTL, CC and BCC are arrays (their keys are routed too, BCC is removed).
 * A failed check is a channel error (406) on basic.publish, and the content is released.
 */
final class PublishedMessage {
    private PublishedMessage() {
    }

    /** The message to route, taking over {@code header} and {@code content}. */
    static Message accept(Exchange exchange, String routingKey, ContentHeader header, ByteBuf content, String user,
                          ByteBufAllocator alloc) {
        List<String> extraKeys = List.of();
        try {
            if (header.hasUserId() && !header.properties().userId.equals(user)) {
                throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "user_id property set to '"
                        + header.properties().userId + "' but authenticated user was '" + user + "'");
            }
            if (header.hasExpiration()) {
                Expiration.check(header.properties().expiration);
            }
            if (SenderRoutes.present(header)) {
                extraKeys = SenderRoutes.of(header);
            }
        } catch (AmqpException e) {
            header.release();
            content.release();
            throw e.attributedTo(Method.BASIC_PUBLISH);
        }
        if (SenderRoutes.present(header) && header.headers().containsKey(SenderRoutes.BCC)) {
            ContentHeader withoutBcc = SenderRoutes.withoutBcc(header, alloc);
            header.release();
            header = withoutBcc;
        }
        return new Message(exchange.name(), routingKey, extraKeys, header, content);
    }
}
