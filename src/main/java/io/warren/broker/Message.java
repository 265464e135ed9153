package io.warren.broker;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import io.warren.protocol.ContentHeader;
import java.util.List;

/**
 * One published message: where it was published to, its content header (raw properties) and its
 * body. Immutable after publish and shared by every queue it was routed to: each queue holds one
 * reference (reference counts are atomic, so queues on different threads may release it). The body
 * is the publisher's frame payload(s), never copied for large bodies.
 */
public final class Message extends AbstractReferenceCounted {
    private final String exchange;
    private final String routingKey;
    /** Routing keys from the CC and BCC headers ({@link SenderRoutes}); empty for almost every message. */
    private final List<String> extraRoutingKeys;
    private final ContentHeader header;
    private final ByteBuf body;
    /** Set when the body was written once to the shared body store (before the message reaches queues). */
    private io.warren.store.BodyStore.BodyRef storedBody;

    public Message(String exchange, String routingKey, ContentHeader header, ByteBuf body) {
        this(exchange, routingKey, List.of(), header, body);
    }

    public Message(String exchange, String routingKey, List<String> extraRoutingKeys, ContentHeader header, ByteBuf body) {
        this.exchange = exchange;
        this.routingKey = routingKey;
        this.extraRoutingKeys = extraRoutingKeys;
        this.header = header;
        this.body = body;
    }

    public String exchange() { return exchange; }
    /** The routing key of basic.publish: the one deliveries carry. */
    public String routingKey() { return routingKey; }
    /** The other keys the message is routed with (CC and BCC), after {@link #routingKey()}. */
    public List<String> extraRoutingKeys() { return extraRoutingKeys; }
    public ContentHeader header() { return header; }
    /** The body; read it with index-based or duplicate access, never move its reader index. */
    public ByteBuf body() { return body; }
    public int bodySize() { return body.readableBytes(); }
    public io.warren.store.BodyStore.BodyRef storedBody() { return storedBody; }
    public void storedBody(io.warren.store.BodyStore.BodyRef ref) { storedBody = ref; }

    /** The same content under a new header (e.g. a rewritten reply-to); shares the body. */
    public Message withHeader(ContentHeader newHeader) {
        return new Message(exchange, routingKey, extraRoutingKeys, newHeader, body.retain());
    }

    @Override
    public Message retain() {
        super.retain();
        return this;
    }

    @Override
    protected void deallocate() {
        header.release();
        body.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        return this;
    }
}
