package io.warren.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.warren.protocol.AmqpException;
import io.warren.protocol.Frame;
import io.warren.protocol.ProtocolHeader;
import io.warren.protocol.ReplyCode;
import java.util.List;

/**
 * Splits the inbound byte stream into the protocol header and then {@link Frame}s. States:
 * HEADER until 8 octets arrive; FRAMES after a valid header; FAILED after any violation, in which
 * state input is discarded. A wrong header is answered with ours and the socket closed (as RabbitMQ
 * does); a frame-level violation is passed on as an {@link AmqpException} so the connection can close
 * with the right reply code. Payloads up to {@link #COPY_BELOW} bytes are copied into right-sized
 * plain heap buffers (cheap to allocate and free from any thread, and a small queued message does
 * not pin a whole read buffer); larger ones are zero-copy retained slices. So are all frames on
 * channel 0 (the handshake, heartbeats, connection.close): the connection handles and releases
 * them at once on this loop, so a copy would only be garbage, a few per connection.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    static final int COPY_BELOW = 4096;

    private enum State { HEADER, FRAMES, FAILED }

    private State state = State.HEADER;
    private volatile int maxFrameSize;
    /** False until connection.tune-ok: the limit is then the handshake's (4096, as RabbitMQ's initial_frame_max). */
    private volatile boolean negotiated;

    /** {@code maxFrameSize} is the limit of the handshake, until {@link #maxFrameSize(int)} changes it. */
    public FrameDecoder(int maxFrameSize) {
        this.maxFrameSize = maxFrameSize;
    }

    /** Called once connection.tune-ok settles frame_max (0 from the client means our offer). */
    public void maxFrameSize(int size) {
        this.maxFrameSize = size;
        this.negotiated = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> decodeHeader(ctx, in, out);
            case FRAMES -> decodeFrames(in, out);
            case FAILED -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < ProtocolHeader.LENGTH) {
            return;
        }
        if (!ProtocolHeader.matches(in, in.readerIndex())) {
            state = State.FAILED;
            in.skipBytes(in.readableBytes());
            out.add(new BadProtocolHeader());
            return;
        }
        in.skipBytes(ProtocolHeader.LENGTH);
        state = State.FRAMES;
        out.add(ProtocolHeader.RECEIVED);
    }

    private void decodeFrames(ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 7) {
            int start = in.readerIndex();
            int type = in.getUnsignedByte(start);
            int channel = in.getUnsignedShort(start + 1);
            long size = in.getUnsignedInt(start + 3);
            if (type != Frame.METHOD && type != Frame.HEADER && type != Frame.BODY && type != Frame.HEARTBEAT) {
                fail(in, out, new AmqpException(ReplyCode.FRAME_ERROR, "unknown frame type " + type));
                return;
            }
            // Like RabbitMQ, the limit applies to the payload: the 8 octets of framing are forgiven.
            if (maxFrameSize != 0 && size > maxFrameSize) { // 0: no limit (frame_max = 0 in the config)
                fail(in, out, new AmqpException(ReplyCode.FRAME_ERROR, "frame of " + (size + Frame.OVERHEAD)
                        + " bytes on channel " + channel + (negotiated ? " exceeds the negotiated frame_max of "
                        + maxFrameSize : " exceeds the frame_max of " + maxFrameSize + " that applies until connection.tune-ok")));
                return;
            }
            if (in.readableBytes() < size + Frame.OVERHEAD) {
                return;
            }
            int end = in.getUnsignedByte(start + 7 + (int) size);
            if (end != Frame.END) {
                fail(in, out, new AmqpException(ReplyCode.FRAME_ERROR, String.format(
                        "frame on channel %d ends with 0x%02x instead of 0xce", channel, end)));
                return;
            }
            in.skipBytes(7);
            ByteBuf payload = size < COPY_BELOW && channel != 0
                    ? Unpooled.buffer((int) size, (int) size).writeBytes(in, (int) size)
                    : in.readRetainedSlice((int) size);
            in.skipBytes(1);
            out.add(new Frame(type, channel, payload));
        }
    }

    private void fail(ByteBuf in, List<Object> out, AmqpException error) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        out.add(error);
    }

    /** Emitted instead of {@link ProtocolHeader#RECEIVED} when the first 8 octets are not ours. */
    public record BadProtocolHeader() {
    }
}
