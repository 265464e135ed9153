package io.warren.amqp;

import io.warren.broker.Exchange;
import io.warren.broker.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * The open transaction of a channel in tx mode: its publishes (routed at commit) and its acks,
 * rejects and nacks (applied at commit), in the order they came. Made by tx.select; owned by the
 * connection's event loop.
 */
final class ChannelTransaction {
    record Publish(Exchange exchange, Message message, boolean mandatory) {
    }

    /** A settlement held until commit: delivery tag, multiple, and how (the channel's SETTLE_ codes). */
    record Settlement(long tag, boolean multiple, int how) {
    }

    private List<Publish> publishes = new ArrayList<>();
    private List<Settlement> settlements = new ArrayList<>();

    void publish(Exchange exchange, Message message, boolean mandatory) {
        publishes.add(new Publish(exchange, message, mandatory));
    }

    void settle(long tag, boolean multiple, int how) {
        settlements.add(new Settlement(tag, multiple, how));
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

    /** Forgets everything (tx.rollback, or the channel closes). */
    void rollback() {
        publishes.forEach(p -> p.message().release());
        publishes.clear();
        settlements.clear();
    }
}
