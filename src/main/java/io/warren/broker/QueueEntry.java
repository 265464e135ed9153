package io.warren.broker;

/**
 * One message in a classic queue, owned by the queue's thread: its number in publish order, where
 * its persistent record is, when it expires, and how often it was handed out and came back.
 */
final class QueueEntry {
    final long id;
    Message message;
    /** The priority lane it waits in (0 in a queue without priorities). */
    final int lane;
    /** Monotonic milliseconds ({@link Clock#millis}) after which it is dropped, or {@link #NEVER}. */
    final long expiresAt;
    boolean redelivered;
    /** Times it came back to the queue unsettled (for x-delivery-limit and x-delivery-count). */
    int returns;
    /** Position of this message's persistent record in the log, or -1 when it has none. */
    long position = -1;
    /** False once it left the ready messages (delivered, expired or dropped) while still in a lane's deque. */
    boolean ready;
    /** True while it is in the index's expiry heap. */
    boolean inHeap;

    static final long NEVER = Long.MAX_VALUE;

    QueueEntry(long id, Message message, int lane, long expiresAt) {
        this.id = id;
        this.message = message;
        this.lane = lane;
        this.expiresAt = expiresAt;
    }

    boolean expiredAt(long now) {
        return expiresAt < now;
    }
}
