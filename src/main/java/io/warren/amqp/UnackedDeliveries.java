package io.warren.amqp;

import io.warren.broker.Queue;
import io.warren.broker.QueueConsumer;
import java.util.Arrays;

/**
 * A channel's deliveries awaiting ack, by delivery tag. Tags rise by one per delivery, so entries
 * live in a ring indexed by {@code tag - firstTag}: adding, acking one, and acking "everything up to"
 * cost no allocation and no hashing. Tags of no-ack deliveries leave empty slots. The arrays are
 * allocated at the first delivery awaiting ack: a channel that only publishes (or has no consumer
 * yet) holds none.
 */
final class UnackedDeliveries {
    /** Receives one delivery to settle: its tag, which queue, the queue's message id, and the consumer (null for get). */
    interface Visitor {
        void accept(long tag, Queue queue, long id, QueueConsumer consumer);
    }

    private static final int INITIAL_CAPACITY = 16;
    private static final Queue[] NO_QUEUES = {};
    private static final long[] NO_IDS = {};
    private static final QueueConsumer[] NO_CONSUMERS = {};

    private Queue[] queues = NO_QUEUES;
    private long[] ids = NO_IDS;
    private QueueConsumer[] consumers = NO_CONSUMERS;
    private long firstTag = 1;
    private int head;
    /** Slots in use from head, including settled ones not yet trimmed. */
    private int span;
    private int live;

    int size() {
        return live;
    }

    void add(long tag, Queue queue, long id, QueueConsumer consumer) {
        if (span == 0) {
            firstTag = tag;
            head = 0;
        }
        int offset = (int) (tag - firstTag);
        while (offset >= queues.length) {
            grow();
        }
        int slot = (head + offset) & (queues.length - 1);
        queues[slot] = queue;
        ids[slot] = id;
        consumers[slot] = consumer;
        span = offset + 1;
        live++;
    }

    private void grow() {
        int n = queues.length;
        int capacity = n == 0 ? INITIAL_CAPACITY : n * 2;
        Queue[] q = new Queue[capacity];
        long[] i = new long[capacity];
        QueueConsumer[] c = new QueueConsumer[capacity];
        for (int k = 0; k < span; k++) {
            int from = (head + k) & (n - 1);
            q[k] = queues[from];
            i[k] = ids[from];
            c[k] = consumers[from];
        }
        queues = q;
        ids = i;
        consumers = c;
        head = 0;
    }

    /** Settles one tag; false when it is not awaiting ack. */
    boolean remove(long tag, Visitor visitor) {
        long offset = tag - firstTag;
        if (offset < 0 || offset >= span) {
            return false;
        }
        int slot = (head + (int) offset) & (queues.length - 1);
        if (queues[slot] == null) {
            return false;
        }
        visitor.accept(tag, queues[slot], ids[slot], consumers[slot]);
        clear(slot);
        trim();
        return true;
    }

    /** Settles every tag up to and including {@code tag}; false when none was awaiting ack. */
    boolean removeUpTo(long tag, Visitor visitor) {
        long limit = Math.min(tag - firstTag + 1, span);
        boolean any = false;
        for (int k = 0; k < limit; k++) {
            int slot = (head + k) & (queues.length - 1);
            if (queues[slot] != null) {
                visitor.accept(firstTag + k, queues[slot], ids[slot], consumers[slot]);
                clear(slot);
                any = true;
            }
        }
        trim();
        return any;
    }

    /**
     * Puts back a delivery taken out earlier (an ack of a transaction rolled back): its tag may lie
     * before, inside or after the tags awaiting ack now.
     */
    void restore(long tag, Queue queue, long id, QueueConsumer consumer) {
        if (span == 0 || tag - firstTag >= span) {
            add(tag, queue, id, consumer);
            return;
        }
        if (tag < firstTag) {
            int shift = (int) (firstTag - tag);
            while (span + shift > queues.length) {
                grow();
            }
            // Slots outside the span are always empty: moving the head back uncovers empty slots.
            head = (head - shift) & (queues.length - 1);
            firstTag = tag;
            span += shift;
        }
        int slot = (head + (int) (tag - firstTag)) & (queues.length - 1);
        if (queues[slot] == null) {
            queues[slot] = queue;
            ids[slot] = id;
            consumers[slot] = consumer;
            live++;
        }
    }

    /** True when the tag is awaiting ack. */
    boolean contains(long tag) {
        long offset = tag - firstTag;
        return offset >= 0 && offset < span && queues[(head + (int) offset) & (queues.length - 1)] != null;
    }

    void removeAll(Visitor visitor) {
        removeUpTo(firstTag + span, visitor);
    }

    private void clear(int slot) {
        queues[slot] = null;
        consumers[slot] = null;
        live--;
    }

    private void trim() {
        while (span > 0 && queues[head] == null) {
            head = (head + 1) & (queues.length - 1);
            firstTag++;
            span--;
        }
        if (span == 0 && queues.length > 1024) {
            queues = NO_QUEUES;
            ids = NO_IDS;
            consumers = NO_CONSUMERS;
            head = 0;
        }
    }

    @Override
    public String toString() {
        return "UnackedDeliveries" + Arrays.toString(new long[] {firstTag, span, live});
    }
}
