package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Map;

/**
 * A message's content header as the broker keeps it: the body size and the raw property bytes
 * (flags word + property list) exactly as the publisher sent them, so every property and every
 * field-table type goes out again byte for byte. Properties are decoded lazily, once, and only
 * when something needs them. Owned by one message; the raw buffer is released with it.
 */
public final class ContentHeader {
    public static final int BASIC_CLASS = 60;

    private final long bodySize;
    private final ByteBuf rawProperties;
    private final int flags;
    private Properties decoded;

    public ContentHeader(long bodySize, ByteBuf rawProperties) {
        this.bodySize = bodySize;
        this.rawProperties = rawProperties;
        this.flags = rawProperties.getUnsignedShort(rawProperties.readerIndex());
    }

    /** Parses a content header frame payload: class, weight, body size, properties. */
    public static ContentHeader decode(ByteBuf payload) {
        if (payload.readableBytes() < 14) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "content header frame too short: " + payload.readableBytes() + " bytes");
        }
        int classId = payload.readUnsignedShort();
        payload.skipBytes(2);
        long bodySize = payload.readLong();
        if (classId != BASIC_CLASS) {
            throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected content header for class 60, got one for class "
                    + classId + " instead", Method.BASIC_PUBLISH);
        }
        if (bodySize < 0) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "content header declares a negative body size");
        }
        ByteBuf raw = payload.retainedSlice();
        ContentHeader header = new ContentHeader(bodySize, raw);
        try {
            header.properties();
        } catch (RuntimeException e) {
            raw.release();
            throw e;
        }
        return header;
    }

    /** A header with new properties (the body is unchanged). */
    public static ContentHeader of(long bodySize, Properties properties, ByteBufAllocator alloc) {
        return new ContentHeader(bodySize, properties.encode(alloc));
    }

    public long bodySize() {
        return bodySize;
    }

    /** The flags word and property list, ready to write after class, weight and size. */
    public ByteBuf rawProperties() {
        return rawProperties;
    }

    /** The decoded properties; callers must not change them (use a copy via {@link #decodeCopy}). */
    public Properties properties() {
        if (decoded == null) {
            decoded = Properties.decode(rawProperties.duplicate());
        }
        return decoded;
    }

    /** A fresh decoded copy that the caller may change and encode into a new header. */
    public Properties decodeCopy() {
        return Properties.decode(rawProperties.duplicate());
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    public boolean hasHeaders() { return has(Properties.HEADERS); }
    public boolean hasUserId() { return has(Properties.USER_ID); }
    public boolean hasReplyTo() { return has(Properties.REPLY_TO); }
    public boolean hasExpiration() { return has(Properties.EXPIRATION); }
    public boolean hasPriority() { return has(Properties.PRIORITY); }

    /**
     * Delivery mode 2. Read straight from the raw bytes (skipping the fields before it), without
     * decoding the other properties: every publish to a durable queue asks.
     */
    public boolean persistent() {
        if (!has(Properties.DELIVERY_MODE)) {
            return false;
        }
        if (decoded != null) {
            Integer mode = decoded.deliveryMode;
            return mode != null && mode == 2;
        }
        ByteBuf raw = rawProperties;
        int at = raw.readerIndex() + 2;
        if (has(Properties.CONTENT_TYPE)) {
            at += 1 + raw.getUnsignedByte(at);
        }
        if (has(Properties.CONTENT_ENCODING)) {
            at += 1 + raw.getUnsignedByte(at);
        }
        if (has(Properties.HEADERS)) {
            at += 4 + raw.getInt(at);
        }
        return raw.getUnsignedByte(at) == 2;
    }

    public Map<String, Object> headers() {
        return has(Properties.HEADERS) ? properties().headers : null;
    }

    public void release() {
        rawProperties.release();
    }
}
