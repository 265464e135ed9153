package io.warren.amqp;

import io.warren.broker.Queue;
import io.warren.broker.QueueConsumer;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ReplyCode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The consumer acknowledgements of one channel: its unacknowledged deliveries by delivery tag, and
 * basic.ack, reject, nack and recover applied to them. Acks are handed to their queues once per
 * read (like publishes), so that a consumer acking message by message costs each queue one task,
 * and one dispatch round, per read; rejects and nacks go at once. Owned by the connection's event loop.
 */
final class Settlement {
    static final int ACK = 0;
    static final int REQUEUE = 1;
    static final int DROP = 2;

    private final AmqpChannel channel;
    private final UnackedDeliveries unacked = new UnackedDeliveries();
    private final AckGroups rejected = new AckGroups();
    /** Acks received in this read, not yet handed to their queues. */
    private final AckGroups pendingAcks = new AckGroups();

    Settlement(AmqpChannel channel) {
        this.channel = channel;
    }

    /** A delivery the client must settle: {@code consumer} is null for basic.get. */
    void delivered(long tag, Queue queue, long id, QueueConsumer consumer) {
        unacked.add(tag, queue, id, consumer);
    }

    boolean isEmpty() {
        return unacked.size() == 0;
    }

    /** 406 unless the tag (or, with multiple, the range up to it) names a delivery of this channel. */
    void check(long tag, boolean multiple, long lastTag) {
        if (!(multiple && tag == 0) && !unacked.contains(tag) && !(multiple && tag <= lastTag)) {
            throw unknown(tag);
        }
    }

    private static AmqpException unknown(long tag) {
        return new AmqpException(ReplyCode.PRECONDITION_FAILED, "unknown delivery tag " + tag);
    }

    /** basic.ack, reject or nack ({@code how}: ACK, REQUEUE, DROP); {@code lastTag} is the last tag delivered. */
    void settle(long tag, boolean multiple, int how, long lastTag) {
        AckGroups into = how == ACK ? pendingAcks : rejected;
        boolean found;
        if (multiple && tag == 0) {
            unacked.removeAll(into);
            found = true;
        } else if (multiple) {
            found = unacked.removeUpTo(tag, into) || tag <= lastTag && tag > 0;
        } else {
            found = unacked.remove(tag, into);
        }
        if (!found) {
            throw unknown(tag);
        }
        if (how == ACK) {
            channel.acksPending();
            return;
        }
        int[] settled = {0};
        rejected.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                settled[0] += count;
            }
            queue.reject(consumer, ids, count, how == REQUEUE);
        });
        channel.creditBack(settled[0]);
    }

    /** Hands the acks of this read to their queues. */
    void flushAcks() {
        int[] settled = {0};
        pendingAcks.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                settled[0] += count;
            }
            queue.ack(consumer, ids, count);
        });
        channel.creditBack(settled[0]);
    }

    /** basic.recover(requeue): every unacked delivery goes back to its queue, redelivered. */
    void recover() {
        unacked.removeAll(rejected);
        int[] settled = {0};
        rejected.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                settled[0] += count;
            }
            queue.reject(consumer, ids, count, true);
        });
        channel.creditBack(settled[0]);
    }

    /**
     * The channel closes: its consumers go and every unacked delivery returns to its queue (as
     * redelivered, in its place), one message per queue.
     */
    void giveBack(List<QueueConsumer> consumers) {
        Map<Queue, List<QueueConsumer>> byQueue = new IdentityHashMap<>();
        for (QueueConsumer c : consumers) {
            byQueue.computeIfAbsent(c.queue(), k -> new ArrayList<>()).add(c);
        }
        Map<Queue, long[]> idsByQueue = new IdentityHashMap<>();
        Map<Queue, Integer> counts = new IdentityHashMap<>();
        unacked.removeAll((queue, qid, consumer) -> {
            long[] ids = idsByQueue.get(queue);
            int n = counts.getOrDefault(queue, 0);
            if (ids == null || n == ids.length) {
                ids = ids == null ? new long[16] : Arrays.copyOf(ids, ids.length * 2);
                idsByQueue.put(queue, ids);
            }
            ids[n] = qid;
            counts.put(queue, n + 1);
            byQueue.computeIfAbsent(queue, k -> new ArrayList<>());
        });
        for (Map.Entry<Queue, List<QueueConsumer>> e : byQueue.entrySet()) {
            Queue q = e.getKey();
            q.channelClosed(e.getValue(), idsByQueue.getOrDefault(q, new long[0]), counts.getOrDefault(q, 0));
        }
    }
}
