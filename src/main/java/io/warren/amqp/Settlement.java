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
 * and one dispatch round, per read; rejects and nacks go at once. In a transaction the deliveries
 * settled leave the unacked ones at once and are held by the {@link ChannelTransaction} until commit
 * or rollback, as in RabbitMQ. Owned by the connection's event loop.
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

    private static AmqpException unknown(long tag) {
        return new AmqpException(ReplyCode.PRECONDITION_FAILED, "unknown delivery tag " + tag);
    }

    /**
     * Takes the deliveries an ack, reject or nack names out of the unacked ones, as RabbitMQ does:
     * the tag itself must await ack (with multiple, it and every earlier tag are taken), except
     * that multiple with tag 0 takes them all, even none. Otherwise 406 and nothing is taken.
     */
    private void take(long tag, boolean multiple, UnackedDeliveries.Visitor into) {
        if (multiple && tag == 0) {
            unacked.removeAll(into);
            return;
        }
        if (!unacked.contains(tag)) {
            throw unknown(tag);
        }
        if (multiple) {
            unacked.removeUpTo(tag, into);
        } else {
            unacked.remove(tag, into);
        }
    }

    /** basic.ack, reject or nack ({@code how}: ACK, REQUEUE, DROP) outside a transaction. */
    void settle(long tag, boolean multiple, int how) {
        take(tag, multiple, how == ACK ? pendingAcks : rejected);
        if (how == ACK) {
            channel.acksPending();
        } else {
            flushRejects(how == REQUEUE);
        }
    }

    /**
     * The same inside a transaction: the deliveries leave the unacked ones now (a second ack of a
     * tag is a 406 at once, and basic.recover does not redeliver them), and are settled at commit
     * ({@link #commit}) or put back at rollback ({@link #restore}).
     */
    void hold(long tag, boolean multiple, int how, ChannelTransaction tx) {
        take(tag, multiple, (t, queue, id, consumer) -> tx.settle(t, queue, id, consumer, how));
    }

    /** tx.commit: settles the held deliveries, in the order they were acked, rejected or nacked. */
    void commit(List<ChannelTransaction.Settlement> held) {
        int i = 0;
        while (i < held.size()) {
            int how = held.get(i).how();
            AckGroups into = how == ACK ? pendingAcks : rejected;
            for (; i < held.size() && held.get(i).how() == how; i++) {
                ChannelTransaction.Settlement s = held.get(i);
                into.accept(s.tag(), s.queue(), s.id(), s.consumer());
            }
            if (how == ACK) {
                channel.acksPending();
            } else {
                flushRejects(how == REQUEUE);
            }
        }
    }

    /** tx.rollback (or the channel closes): the held deliveries await ack again, under their tags. */
    void restore(List<ChannelTransaction.Settlement> held) {
        for (ChannelTransaction.Settlement s : held) {
            unacked.restore(s.tag(), s.queue(), s.id(), s.consumer());
        }
    }

    private void flushRejects(boolean requeue) {
        int[] settled = {0};
        rejected.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                settled[0] += count;
            }
            queue.reject(consumer, ids, count, requeue);
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
        flushRejects(true);
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
        unacked.removeAll((tag, queue, qid, consumer) -> {
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
