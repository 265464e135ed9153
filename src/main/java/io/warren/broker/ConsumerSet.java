package io.warren.broker;

import java.util.ArrayList;
import java.util.List;

/**
 * A queue's consumers in subscription order, and which one gets the next message: the highest
 * priority among those that can take one, round robin among equals; with single active consumer
 * only the active one, which is the first subscribed of the highest priority (a higher-priority
 * newcomer takes over once the active one has nothing unacked, as RabbitMQ 3.12+ does). Owned by the
 * queue's thread.
 */
final class ConsumerSet {
    private final List<QueueConsumer> consumers = new ArrayList<>();
    private final boolean singleActive;
    private QueueConsumer active;
    private int roundRobin;

    ConsumerSet(boolean singleActive) {
        this.singleActive = singleActive;
    }

    boolean isEmpty() {
        return consumers.isEmpty();
    }

    int size() {
        return consumers.size();
    }

    /** 403 ACCESS_REFUSED reason when an exclusive consumer is in the way, else null. */
    boolean exclusiveConflict(QueueConsumer consumer) {
        return !consumers.isEmpty() && (consumer.exclusive() || consumers.get(0).exclusive());
    }

    void add(QueueConsumer consumer) {
        consumers.add(consumer);
    }

    void remove(QueueConsumer consumer) {
        consumer.cancelled = true;
        consumers.remove(consumer);
        if (active == consumer) {
            active = null;
        }
    }

    /** Removes every consumer and returns them (the queue went away). */
    List<QueueConsumer> clear() {
        List<QueueConsumer> all = new ArrayList<>(consumers);
        for (QueueConsumer c : all) {
            c.cancelled = true;
        }
        consumers.clear();
        active = null;
        return all;
    }

    /**
     * The consumer to deliver to next, or null when none can take a message now. Takes one unit of
     * the chosen consumer's channel-wide prefetch when it has one ({@link #giveBack} returns it).
     */
    QueueConsumer pick() {
        if (singleActive) {
            return pickActive();
        }
        int n = consumers.size();
        QueueConsumer best = null;
        int bestIndex = -1;
        for (int i = 0; i < n; i++) {
            int index = (roundRobin + i) % n;
            QueueConsumer c = consumers.get(index);
            if ((best == null || c.priority() > best.priority()) && c.hasCredit() && c.channel().canReceive()) {
                if (!c.noAck() && !c.channel().tryTakeChannelCredit()) {
                    continue;
                }
                if (best != null) {
                    giveBack(best);
                }
                best = c;
                bestIndex = index;
            }
        }
        if (best != null) {
            roundRobin = bestIndex + 1;
        }
        return best;
    }

    private QueueConsumer pickActive() {
        QueueConsumer first = null;
        for (QueueConsumer c : consumers) {
            if (first == null || c.priority() > first.priority()) {
                first = c;
            }
        }
        if (active == null || first != active && active.unacked == 0 && first.priority() > active.priority()) {
            active = first;
        }
        QueueConsumer c = active;
        if (c == null || !c.hasCredit() || !c.channel().canReceive()) {
            return null;
        }
        return c.noAck() || c.channel().tryTakeChannelCredit() ? c : null;
    }

    /** Returns the channel-wide prefetch unit {@link #pick} took for a consumer that got nothing. */
    void giveBack(QueueConsumer c) {
        if (!c.noAck()) {
            c.channel().returnChannelCredit();
        }
    }
}
