package io.warren.amqp;

import io.warren.broker.Queue;
import io.warren.broker.QueueConsumer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects the deliveries one ack (or nack, reject, recover) settles, grouped by queue and
 * consumer, so that each queue gets one message per ack however many tags it covers. Reused by its
 * channel; {@link #forEach} empties it.
 */
final class AckGroups implements UnackedDeliveries.Visitor {
    interface GroupVisitor {
        void accept(Queue queue, QueueConsumer consumer, long[] ids, int count);
    }

    private static final class Group {
        final Queue queue;
        final QueueConsumer consumer;
        long[] ids = new long[8];
        int count;

        Group(Queue queue, QueueConsumer consumer) {
            this.queue = queue;
            this.consumer = consumer;
        }
    }

    private final List<Group> groups = new ArrayList<>();

    @Override
    public void accept(long tag, Queue queue, long id, QueueConsumer consumer) {
        Group group = null;
        for (int i = groups.size() - 1; i >= 0; i--) {
            Group g = groups.get(i);
            if (g.queue == queue && g.consumer == consumer) {
                group = g;
                break;
            }
        }
        if (group == null) {
            group = new Group(queue, consumer);
            groups.add(group);
        }
        if (group.count == group.ids.length) {
            group.ids = Arrays.copyOf(group.ids, group.count * 2);
        }
        group.ids[group.count++] = id;
    }

    /** Hands each group over (the id arrays become the visitor's) and empties this collector. */
    void forEach(GroupVisitor visitor) {
        for (Group g : groups) {
            visitor.accept(g.queue, g.consumer, g.ids, g.count);
        }
        groups.clear();
    }
}
