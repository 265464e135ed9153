package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldTableCodec;
import io.warren.protocol.Frame;
import io.warren.protocol.Method;
import io.warren.protocol.MethodCodec;

/**
 * Writes outbound frames. Methods, content headers and small bodies are encoded into one buffer
 * per message; larger bodies go out as slices of the publisher's own buffers (no copy).
 */
final class FrameWriter {
    /** Bodies up to this size are copied next to their header; larger ones are sent as slices. */
    private static final int COPY_BODY_BELOW = 2048;

    private FrameWriter() {
    }

    static ByteBuf method(ByteBufAllocator alloc, int channel, Method method, Object... args) {
        ByteBuf out = alloc.buffer(64);
        writeMethod(out, channel, method, args);
        return out;
    }

    /** A whole method frame as bytes: for frames that are the same every time (encode once, copy often). */
    static byte[] methodBytes(int channel, Method method, Object... args) {
        ByteBuf out = Unpooled.buffer(256);
        writeMethod(out, channel, method, args);
        return ByteBufUtil.getBytes(out);
    }

    static void writeMethod(ByteBuf out, int channel, Method method, Object... args) {
        int start = beginFrame(out, Frame.METHOD, channel);
        MethodCodec.encode(out, method, args);
        endFrame(out, start);
    }

    /** basic.deliver, hand-encoded: it is written once per message delivered. */
    static void writeDeliver(ByteBuf out, int channel, String consumerTag, long deliveryTag, boolean redelivered,
                             String exchange, String routingKey) {
        int start = beginFrame(out, Frame.METHOD, channel);
        out.writeShort(Method.BASIC_DELIVER.classId()).writeShort(Method.BASIC_DELIVER.methodId());
        FieldTableCodec.writeShortString(out, consumerTag);
        out.writeLong(deliveryTag);
        out.writeByte(redelivered ? 1 : 0);
        FieldTableCodec.writeShortString(out, exchange);
        FieldTableCodec.writeShortString(out, routingKey);
        endFrame(out, start);
    }

    /**
     * Writes the content header and body frames after a method already in {@code head}, splitting the
     * body by frame_max, and passes everything to the channel without flushing.
     */
    static void writeContent(Channel ch, ByteBuf head, int channel, ContentHeader header, ByteBuf body, int frameMax) {
        OutboundBatch out = new OutboundBatch(ch, head);
        writeContent(out, channel, header, body, frameMax);
        out.finish();
    }

    /** Writes the content header and body frames into a batch; small bodies are copied, large ones sliced. */
    static void writeContent(OutboundBatch out, int channel, ContentHeader header, ByteBuf body, int frameMax) {
        ByteBuf props = header.rawProperties();
        int size = body.readableBytes();
        int maxChunk = frameMax - Frame.OVERHEAD;
        boolean copy = size < COPY_BODY_BELOW && size <= maxChunk;
        ByteBuf head = out.buffer(Frame.OVERHEAD + 12 + props.readableBytes() + (copy ? Frame.OVERHEAD + size : 0));
        int start = beginFrame(head, Frame.HEADER, channel);
        head.writeShort(ContentHeader.BASIC_CLASS).writeShort(0).writeLong(size);
        head.writeBytes(props, props.readerIndex(), props.readableBytes());
        endFrame(head, start);
        if (size == 0) {
            return;
        }
        if (copy) {
            int bodyStart = beginFrame(head, Frame.BODY, channel);
            head.writeBytes(body, body.readerIndex(), size);
            endFrame(head, bodyStart);
            return;
        }
        for (int offset = 0; offset < size; offset += maxChunk) {
            int chunk = Math.min(maxChunk, size - offset);
            out.buffer(7).writeByte(Frame.BODY).writeShort(channel).writeInt(chunk);
            out.slice(body.retainedSlice(body.readerIndex() + offset, chunk));
            out.buffer(1).writeByte(Frame.END);
        }
    }

    static ByteBuf heartbeat(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeByte(Frame.HEARTBEAT).writeShort(0).writeInt(0).writeByte(Frame.END);
    }

    private static int beginFrame(ByteBuf out, int type, int channel) {
        out.writeByte(type).writeShort(channel);
        int sizeAt = out.writerIndex();
        out.writeInt(0);
        return sizeAt;
    }

    private static void endFrame(ByteBuf out, int sizeAt) {
        out.setInt(sizeAt, out.writerIndex() - sizeAt - 4);
        out.writeByte(Frame.END);
    }
}
