package io.warren.broker;

import io.netty.util.concurrent.EventExecutor;
import java.util.List;

/**
 * The side of an AMQP channel that queues deliver to. Implemented by the protocol layer; queues
 * call the "any thread" methods directly and post everything else to {@link #executor()}.
 */
public interface ConsumerChannel {
    /** The connection's event loop, which owns the channel. */
    EventExecutor executor();

    /** Any thread: false while the socket's outbound buffer is full or the client sent channel.flow(false). */
    boolean canReceive();

    /**
     * Any thread: takes one unit of the channel-wide prefetch (basic.qos global=true); false when
     * none is left. Always true without a channel-wide limit.
     */
    boolean tryTakeChannelCredit();

    /** Any thread: gives back one unit taken by {@link #tryTakeChannelCredit} but not used. */
    void returnChannelCredit();

    /** On {@link #executor()}: writes deliveries made by one queue in one dispatch round. */
    void deliver(List<Delivery> deliveries);

    /** On {@link #executor()}: the queue went away under this consumer (queue deleted). */
    void consumerCancelledByServer(QueueConsumer consumer);
}
