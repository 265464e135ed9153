package io.warren.amqp;

import io.warren.broker.Exchange;
import io.warren.broker.Message;
import io.warren.broker.Queue;
import io.warren.broker.QueueConsumer;
import java.util.ArrayList;
import java.util.List;

/**
 * The open transaction of a channel in tx mode: its publishes (routed at commit) and the deliveries
 * its acks, rejects and nacks took (settled at commit, awaiting ack again after rollback), in the
 * order they came. Made by tx.select; owned by the connection's event loop.
 */
final class ChannelTransaction {
    record Publish(Exchange exchange, Message message, boolean mandatory) {
    }

    /** One delivery settled at commit: its tag, where it came from, and how ({@link io.warren.amqp.Settlement}'s codes). */
    record Settlement(long tag, Queue queue, long id, QueueConsumer consumer, int how) {
    }

    private List<Publish> publishes = new ArrayList<>();
    private List<Settlement> settlements = new ArrayList<>();

    void publish(Exchange exchange, Message message, boolean mandatory) {
        publishes.add(new Publish(exchange, message, mandatory));
    }

    void settle(long tag, Queue queue, long id, QueueConsumer consumer, int how) {
        settlements.add(new Settlement(tag, queue, id, consumer, how));
    }

    /** The settlements to apply at commit; the transaction starts afresh. */
    List<Settlement> takeSettlements() {
        List<Settlement> taken = settlements;
        settlements = new ArrayList<>();
        return taken;
    }

    /** The publishes to route at commit (the caller releases them); the transaction starts afresh. */
    List<Publish> takePublishes() {
        List<Publish> taken = publishes;
        publishes = new ArrayList<>();
        return taken;
    }

    /** Forgets everything (tx.rollback, or the channel closes); take the settlements first to put them back. */
    void rollback() {
        publishes.forEach(p -> p.message().release());
        publishes.clear();
        settlements.clear();
    }
}
