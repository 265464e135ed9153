package io.warren.broker;

import io.warren.protocol.ContentHeader;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The queues one publish reaches, each once, following exchange-to-exchange bindings (cycles are
 * visited once). Reused per publishing channel: owned by that channel's connection thread.
 */
public final class RouteResult {
    private static final int LINEAR_LIMIT = 16;

    private final List<Queue> queues = new ArrayList<>();
    private final List<Exchange> visited = new ArrayList<>();
    private Map<Queue, Boolean> seen;
    private String routingKey;
    private ContentHeader header;

    /** Routes through {@code exchange} and everything bound below it; the result is {@link #queues()}. */
    public RouteResult route(Exchange exchange, String routingKey, ContentHeader header) {
        queues.clear();
        visited.clear();
        seen = null;
        this.routingKey = routingKey;
        this.header = header;
        visit(exchange);
        return this;
    }

    private void visit(Exchange exchange) {
        for (Exchange e : visited) {
            if (e == exchange) {
                return;
            }
        }
        visited.add(exchange);
        exchange.router().route(routingKey, header, this);
    }

    /** The result of a publish to the default exchange: that one queue, or none when it is null. */
    public RouteResult only(Queue queue) {
        queues.clear();
        visited.clear();
        seen = null;
        if (queue != null) {
            queues.add(queue);
        }
        return this;
    }

    /** Called by routers for each match. */
    public void add(Destination destination) {
        if (destination instanceof Exchange exchange) {
            visit(exchange);
        } else {
            addQueue((Queue) destination);
        }
    }

    private void addQueue(Queue queue) {
        if (seen != null) {
            if (seen.put(queue, Boolean.TRUE) == null) {
                queues.add(queue);
            }
            return;
        }
        for (Queue q : queues) {
            if (q == queue) {
                return;
            }
        }
        queues.add(queue);
        if (queues.size() > LINEAR_LIMIT) {
            seen = new IdentityHashMap<>();
            for (Queue q : queues) {
                seen.put(q, Boolean.TRUE);
            }
        }
    }

    public List<Queue> queues() {
        return queues;
    }

    public boolean isEmpty() {
        return queues.isEmpty();
    }
}
