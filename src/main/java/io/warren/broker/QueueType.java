package io.warren.broker;

import io.netty.util.concurrent.EventExecutor;
import io.warren.store.QueueLog;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A kind of queue, chosen by a declare's {@code x-queue-type} (classic when absent), as RabbitMQ's
 * queue types: it makes new queues and brings durable ones back at start. Classic is the only one
 * today; stream and quorum queues come as further implementations.
 */
public interface QueueType {
    String name();

    /** A new queue. */
    Queue create(Spec spec, Home home);

    /** A durable queue from the definitions, with the messages its log still holds. */
    Recovered recover(Spec spec, Home home);

    /** What a declare says about the queue. */
    record Spec(String vhost, String name, boolean durable, boolean exclusive, boolean autoDelete,
                QueueArguments arguments, Object owner) {
    }

    /**
     * Where a queue lives: its thread, its message log (durable queues; null otherwise), where it
     * spills transient messages, its memory budget, the virtual host it dead-letters through, and
     * who is told once it has deleted itself.
     */
    record Home(EventExecutor executor, QueueLog log, Supplier<QueueLog> spillLogs, long memoryBudget,
                VirtualHost vhost, Consumer<Queue> onDeleted) {
    }

    record Recovered(Queue queue, long messages) {
    }

    /** The type of this name, or null when Warren has no such type. */
    static QueueType named(String name) {
        return TYPES.get(name);
    }

    Map<String, QueueType> TYPES = Map.of(ClassicQueueType.NAME, new ClassicQueueType());
}
