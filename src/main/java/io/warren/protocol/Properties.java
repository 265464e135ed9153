package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Map;

/**
 * The 14 basic content properties, fully decoded. The broker keeps properties as raw bytes
 * ({@link ContentHeader}) and decodes them only when it must read or change one (headers exchange,
 * direct reply-to, user-id checks); encoding writes exactly what was decoded.
 */
public final class Properties {
    static final int CONTENT_TYPE = 1 << 15;
    static final int CONTENT_ENCODING = 1 << 14;
    static final int HEADERS = 1 << 13;
    static final int DELIVERY_MODE = 1 << 12;
    static final int PRIORITY = 1 << 11;
    static final int CORRELATION_ID = 1 << 10;
    static final int REPLY_TO = 1 << 9;
    static final int EXPIRATION = 1 << 8;
    static final int MESSAGE_ID = 1 << 7;
    static final int TIMESTAMP = 1 << 6;
    static final int TYPE = 1 << 5;
    static final int USER_ID = 1 << 4;
    static final int APP_ID = 1 << 3;
    static final int CLUSTER_ID = 1 << 2;

    public String contentType;
    public String contentEncoding;
    public Map<String, Object> headers;
    public Integer deliveryMode;
    public Integer priority;
    public String correlationId;
    public String replyTo;
    public String expiration;
    public String messageId;
    public Long timestamp;
    public String type;
    public String userId;
    public String appId;
    public String clusterId;

    /** Decodes a property-flags word and property list. */
    public static Properties decode(ByteBuf in) {
        Properties p = new Properties();
        int flags = in.readUnsignedShort();
        if ((flags & 1) != 0) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "content header property flags continue past the basic class's 14 properties");
        }
        try {
            if ((flags & CONTENT_TYPE) != 0) p.contentType = FieldTableCodec.readShortString(in);
            if ((flags & CONTENT_ENCODING) != 0) p.contentEncoding = FieldTableCodec.readShortString(in);
            if ((flags & HEADERS) != 0) p.headers = FieldTableCodec.readTable(in);
            if ((flags & DELIVERY_MODE) != 0) p.deliveryMode = (int) in.readUnsignedByte();
            if ((flags & PRIORITY) != 0) p.priority = (int) in.readUnsignedByte();
            if ((flags & CORRELATION_ID) != 0) p.correlationId = FieldTableCodec.readShortString(in);
            if ((flags & REPLY_TO) != 0) p.replyTo = FieldTableCodec.readShortString(in);
            if ((flags & EXPIRATION) != 0) p.expiration = FieldTableCodec.readShortString(in);
            if ((flags & MESSAGE_ID) != 0) p.messageId = FieldTableCodec.readShortString(in);
            if ((flags & TIMESTAMP) != 0) p.timestamp = in.readLong();
            if ((flags & TYPE) != 0) p.type = FieldTableCodec.readShortString(in);
            if ((flags & USER_ID) != 0) p.userId = FieldTableCodec.readShortString(in);
            if ((flags & APP_ID) != 0) p.appId = FieldTableCodec.readShortString(in);
            if ((flags & CLUSTER_ID) != 0) p.clusterId = FieldTableCodec.readShortString(in);
        } catch (IndexOutOfBoundsException e) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "content header properties are truncated");
        }
        return p;
    }

    /** Writes the property-flags word and property list. */
    public void encode(ByteBuf out) {
        int flagsAt = out.writerIndex();
        out.writeShort(0);
        int flags = 0;
        if (contentType != null) { flags |= CONTENT_TYPE; FieldTableCodec.writeShortString(out, contentType); }
        if (contentEncoding != null) { flags |= CONTENT_ENCODING; FieldTableCodec.writeShortString(out, contentEncoding); }
        if (headers != null) { flags |= HEADERS; FieldTableCodec.writeTable(out, headers); }
        if (deliveryMode != null) { flags |= DELIVERY_MODE; out.writeByte(deliveryMode); }
        if (priority != null) { flags |= PRIORITY; out.writeByte(priority); }
        if (correlationId != null) { flags |= CORRELATION_ID; FieldTableCodec.writeShortString(out, correlationId); }
        if (replyTo != null) { flags |= REPLY_TO; FieldTableCodec.writeShortString(out, replyTo); }
        if (expiration != null) { flags |= EXPIRATION; FieldTableCodec.writeShortString(out, expiration); }
        if (messageId != null) { flags |= MESSAGE_ID; FieldTableCodec.writeShortString(out, messageId); }
        if (timestamp != null) { flags |= TIMESTAMP; out.writeLong(timestamp); }
        if (type != null) { flags |= TYPE; FieldTableCodec.writeShortString(out, type); }
        if (userId != null) { flags |= USER_ID; FieldTableCodec.writeShortString(out, userId); }
        if (appId != null) { flags |= APP_ID; FieldTableCodec.writeShortString(out, appId); }
        if (clusterId != null) { flags |= CLUSTER_ID; FieldTableCodec.writeShortString(out, clusterId); }
        out.setShort(flagsAt, flags);
    }

    public ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(64);
        encode(out);
        return out;
    }
}
