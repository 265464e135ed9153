package io.warren.broker;

import io.netty.util.concurrent.EventExecutor;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A queue as the rest of the broker sees it. Each queue is an actor: its state is owned by one
 * queue thread ({@link #executor()}), and every method here may be called from any thread. Methods
 * with a reply hand it to a callback that runs on the caller's executor, in the order the calls
 * were made from that executor.
 */
public non-sealed interface Queue extends Destination {
    String vhost();
    boolean durable();
    boolean exclusive();
    boolean autoDelete();
    /** The arguments as declared (unknown ones too). */
    Map<String, Object> arguments();

    /** The arguments as parsed at declare. */
    QueueArguments queueArguments();

    /** The connection that declared an exclusive queue (null otherwise). */
    Object owner();

    EventExecutor executor();

    /** Appends published messages, taking over one reference to each. */
    default void enqueue(List<Message> messages) {
        enqueue(messages, null, null);
    }

    /**
     * Appends published messages as {@link #enqueue(List)} does and, when {@code stored} is given,
     * runs it on {@code replyTo} as {@link #whenDurable} does, with false also when the queue refused
     * any of them (x-overflow reject-publish: the publisher gets basic.nack).
     */
    void enqueue(List<Message> messages, EventExecutor replyTo, io.warren.store.Persister.SyncCallback stored);

    /**
     * True when the queue may refuse a publish (a length limit with x-overflow reject-publish):
     * publishers in confirm mode then confirm each message to it on its own.
     */
    boolean rejectsWhenFull();

    /** The arguments in effect changed (a policy was set or cleared); applied at once. */
    void applyArguments(QueueArguments effective);

    /** A declare of this existing queue (x-expires counts it as a use). */
    void redeclared();

    /** Broker shutdown: the queue closes its log on its own thread. */
    io.netty.util.concurrent.Future<?> shutdown();

    /**
     * Runs {@code done} on {@code replyTo} once every message enqueued before this call that the
     * queue stores is on disk (at once for a queue that stores nothing). Publisher confirms and
     * tx.commit-ok wait on it.
     */
    void whenDurable(EventExecutor replyTo, io.warren.store.Persister.SyncCallback done);

    /** Any thread: true while publishers are far ahead of the queue and should stop reading for a while. */
    boolean overloaded();

    /** Any thread: runs {@code resume} (on the queue's thread) once the queue has caught up. */
    void onRelief(Runnable resume);

    /** Ready message count and consumer count, for queue.declare-ok. */
    void counts(EventExecutor replyTo, Consumer<long[]> reply);

    /** Adds a consumer; the reply is null on success or the error to raise on the channel. */
    void consume(QueueConsumer consumer, EventExecutor replyTo, Consumer<RuntimeException> reply);

    /** Removes a consumer; its unacked messages stay with the channel until acked or the channel closes. */
    void cancel(QueueConsumer consumer, EventExecutor replyTo, Runnable done);

    /** basic.get: one message or null when empty. */
    void get(ConsumerChannel channel, boolean noAck, EventExecutor replyTo, Consumer<Delivery> reply);

    /** Acknowledges delivered messages by the queue's own ids. */
    void ack(QueueConsumer consumer, long[] ids, int count);

    /** Returns delivered messages: back to the queue (redelivered) or, without requeue, drops them. */
    void reject(QueueConsumer consumer, long[] ids, int count, boolean requeue);

    /** Drops every ready message; the reply is the count. */
    void purge(EventExecutor replyTo, Consumer<Long> reply);

    /**
     * Deletes the queue unless a condition fails. The reply is the number of ready messages dropped,
     * or an exception (406) when if-unused or if-empty does not hold.
     */
    void delete(boolean ifUnused, boolean ifEmpty, EventExecutor replyTo, Consumer<Object> reply);

    /** The channel closed: its consumers go, and its unacked messages come back as redelivered. */
    void channelClosed(List<QueueConsumer> channelConsumers, long[] unackedIds, int count);

    /** Asks the queue to try delivering again (a channel became writable or got credit back). */
    void wakeUp();

    /** True once deleted; a deleted queue drops what is published to it. */
    boolean isDeleted();
}
