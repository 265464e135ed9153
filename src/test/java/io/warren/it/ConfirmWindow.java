package io.warren.it;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import java.io.IOException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A publisher in confirm mode that keeps at most {@code size} messages unconfirmed: {@link #publish}
 * blocks while the window is full. Counts acks and nacks. One thread publishes; the client's
 * connection thread runs the confirm listener.
 */
public final class ConfirmWindow {
    private final Channel channel;
    private final int size;
    private final Semaphore window;
    private final ConcurrentSkipListSet<Long> outstanding = new ConcurrentSkipListSet<>();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong nacked = new AtomicLong();

    public ConfirmWindow(Channel channel, int size) throws IOException {
        this.channel = channel;
        this.size = size;
        this.window = new Semaphore(size);
        channel.confirmSelect();
        channel.addConfirmListener(new ConfirmListener() {
            @Override
            public void handleAck(long tag, boolean multiple) {
                settle(tag, multiple, acked);
            }

            @Override
            public void handleNack(long tag, boolean multiple) {
                settle(tag, multiple, nacked);
            }
        });
    }

    private void settle(long tag, boolean multiple, AtomicLong counter) {
        if (!multiple) {
            if (outstanding.remove(tag)) {
                counter.incrementAndGet();
                window.release();
            }
            return;
        }
        for (Long seq : outstanding.headSet(tag, true)) {
            if (outstanding.remove(seq)) {
                counter.incrementAndGet();
                window.release();
            }
        }
    }

    /** Publishes once the window has room; false if none came within 30 s (or the channel closed). */
    public boolean publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body)
            throws IOException, InterruptedException {
        while (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            if (!channel.isOpen()) {
                return false;
            }
        }
        outstanding.add(channel.getNextPublishSeqNo());
        channel.basicPublish(exchange, routingKey, props, body);
        return true;
    }

    /** Waits until every published message is confirmed (or nacked). */
    public void drain(long timeoutMillis) throws InterruptedException {
        // The whole window is free exactly when nothing is outstanding.
        if (!window.tryAcquire(size, timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(outstanding.size() + " messages still unconfirmed after " + timeoutMillis + " ms");
        }
        window.release(size);
    }

    public long acked() {
        return acked.get();
    }

    public long nacked() {
        return nacked.get();
    }
}
