package io.warren.broker;

import java.util.Map;

/**
 * A consumer as the queue sees it. The identity fields are immutable; {@code unacked} is owned by the
 * queue's thread. The channel keeps the same object to cancel it and to ack its deliveries.
 */
public final class QueueConsumer {
    private final Queue queue;
    private final String tag;
    private final ConsumerChannel channel;
    private final boolean noAck;
    private final boolean exclusive;
    private final int prefetch;
    private final int priority;
    private final Map<String, Object> arguments;
    /** Deliveries not yet acked (queue thread only). */
    int unacked;
    /** Set by the queue once it no longer delivers to this consumer (queue thread only). */
    boolean cancelled;

    public QueueConsumer(Queue queue, String tag, ConsumerChannel channel, boolean noAck, boolean exclusive,
                         int prefetch, int priority, Map<String, Object> arguments) {
        this.queue = queue;
        this.tag = tag;
        this.channel = channel;
        this.noAck = noAck;
        this.exclusive = exclusive;
        this.prefetch = prefetch;
        this.priority = priority;
        this.arguments = arguments;
    }

    public Queue queue() { return queue; }
    public String tag() { return tag; }
    public ConsumerChannel channel() { return channel; }
    public boolean noAck() { return noAck; }
    public boolean exclusive() { return exclusive; }
    /** Per-consumer prefetch (basic.qos global=false when the consumer was created); 0 = unlimited. */
    public int prefetch() { return prefetch; }
    /** x-priority: higher-priority consumers get messages first while they have credit. */
    public int priority() { return priority; }
    public Map<String, Object> arguments() { return arguments; }

    /** Queue thread: may this consumer take one more message now, by its own prefetch? */
    boolean hasCredit() {
        return noAck || prefetch == 0 || unacked < prefetch;
    }
}
