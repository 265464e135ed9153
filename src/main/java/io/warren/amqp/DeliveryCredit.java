package io.warren.amqp;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Credit from one connection to the queues that deliver to it: the bytes of deliveries that queues
 * have handed over and the connection's loop has not written to the socket yet. Together with the
 * socket's outbound buffer (Netty's write-buffer watermarks) it bounds what a client that reads
 * slowly, or not at all, can make the broker hold in user space: past {@link #BOUND} its consumers
 * are skipped by dispatch, and the queues keep the messages. Queue threads add, the connection's
 * loop subtracts; any thread reads.
 */
final class DeliveryCredit {
    /** Bytes in transit from queues to the connection's loop beyond which queues stop handing more. */
    static final long BOUND = 1024 * 1024;
    /** What a delivery counts beyond its body: frames, consumer tag, exchange and routing key, properties. */
    static final int OVERHEAD = 128;

    private final AtomicLong inTransit = new AtomicLong();

    boolean hasRoom() {
        return inTransit.get() < BOUND;
    }

    void handed(long bytes) {
        inTransit.addAndGet(bytes);
    }

    /** The connection's loop wrote {@code bytes}: true when that brought the connection back under its bound. */
    boolean written(long bytes) {
        long after = inTransit.addAndGet(-bytes);
        return after < BOUND && after + bytes >= BOUND;
    }
}
