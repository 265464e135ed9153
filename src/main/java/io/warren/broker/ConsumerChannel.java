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

    /**
     * Any thread: false while the client cannot take more: its connection's outbound buffer, with the
     * deliveries handed over and not written yet, is past its bound (the socket is not read fast
     * enough), or the client sent channel.flow(false). The channel wakes its queues ({@link
     * Queue#wakeUp}) once it can again; until then queues serve their other consumers.
     */
    boolean canReceive();

    /**
     * Any thread: takes one unit of the channel-wide prefetch (basic.qos global=true); false when
     * none is left. Always true without a channel-wide limit.
     */
    boolean tryTakeChannelCredit();

    /** Any thread: gives back one unit taken by {@link #tryTakeChannelCredit} but not used. */
    void returnChannelCredit();

    /**
     * Any thread (the queue's): hands over the deliveries one queue made to this channel in one
     * dispatch round; they are written on {@link #executor()} and count against the connection's
     * bound until then.
     */
    void hand(List<Delivery> deliveries);

    /** On {@link #executor()}: the queue went away under this consumer (queue deleted). */
    void consumerCancelledByServer(QueueConsumer consumer);
}
