package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * Gathers outbound frames of one batch (e.g. a queue's deliveries to one channel) into few large
 * buffers, so that a hundred small deliveries are one write, not three hundred. Large bodies are
 * passed through as slices between the buffers. Owned by the connection's event loop for one batch.
 */
final class OutboundBatch {
    private static final int BUFFER_SIZE = 16 * 1024;
    private static final int FLUSH_ABOVE = 48 * 1024;

    private final Channel channel;
    private ByteBuf buffer;

    OutboundBatch(Channel channel) {
        this.channel = channel;
    }

    /** A batch continuing {@code first}, a buffer that already holds the start of it (e.g. a method frame). */
    OutboundBatch(Channel channel, ByteBuf first) {
        this.channel = channel;
        this.buffer = first;
    }

    /** A buffer with room for at least {@code bytes} more, continuing the current one when it can. */
    ByteBuf buffer(int bytes) {
        if (buffer != null && buffer.writableBytes() < bytes && buffer.readableBytes() > FLUSH_ABOVE) {
            pass();
        }
        if (buffer == null) {
            buffer = channel.alloc().buffer(Math.max(BUFFER_SIZE, bytes));
        }
        buffer.ensureWritable(bytes);
        return buffer;
    }

    /** Writes a slice (a large body) after everything gathered so far. */
    void slice(ByteBuf slice) {
        pass();
        channel.write(slice, channel.voidPromise());
    }

    /** Hands everything gathered to the channel (not flushed). */
    void finish() {
        pass();
    }

    private void pass() {
        if (buffer != null) {
            if (buffer.isReadable()) {
                channel.write(buffer, channel.voidPromise());
            } else {
                buffer.release();
            }
            buffer = null;
        }
    }
}
