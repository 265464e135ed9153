package io.warren.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes the way for a client that stopped reading its socket, as RabbitMQ does (its TCP listener's
 * send timeout, 30 s by default): when bytes flushed to the socket make no progress for the timeout,
 * this handler fires {@link #EXPIRED} down the pipeline and the AMQP handler closes the connection.
 * A client that reads slowly keeps its connection: any progress restarts the clock.
 *
 * <p>It looks at the outbound buffer only after a flush that left bytes the kernel would not take,
 * then once per check interval until they are gone, so a connection that keeps up costs one field
 * read per flush. Owned by the connection's event loop.
 */
public final class SendTimeout extends ChannelOutboundHandlerAdapter {
    /** The user event fired when the socket made no progress for the timeout. */
    public static final Object EXPIRED = new Object() {
        @Override
        public String toString() {
            return "SendTimeout.EXPIRED";
        }
    };

    private final long timeoutNanos;
    private final long checkNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> check;
    private Object current;
    private long progress;
    private long lastProgressAt;

    public SendTimeout(long timeoutMillis) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.checkNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos / 4));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        if (check == null && pending() != null) {
            remember(pending());
            check = ctx.executor().scheduleWithFixedDelay(this::check, checkNanos, checkNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The outbound buffer while it holds bytes not written to the socket, else null. */
    private ChannelOutboundBuffer pending() {
        ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
        return buffer != null && buffer.totalPendingWriteBytes() > 0 ? buffer : null;
    }

    private void remember(ChannelOutboundBuffer buffer) {
        current = buffer.current();
        progress = buffer.currentProgress();
        lastProgressAt = System.nanoTime();
    }

    private void check() {
        ChannelOutboundBuffer buffer = pending();
        if (buffer == null || !ctx.channel().isActive()) {
            stop();
            return;
        }
        if (buffer.current() != current || buffer.currentProgress() != progress) {
            remember(buffer);
            return;
        }
        if (System.nanoTime() - lastProgressAt >= timeoutNanos) {
            stop();
            ctx.fireUserEventTriggered(EXPIRED);
        }
    }

    private void stop() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }
}
