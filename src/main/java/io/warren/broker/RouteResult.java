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
    private List<String> extraKeys = List.of();
    private ContentHeader header;

    /** Routes through {@code exchange} and everything bound below it; the result is {@link #queues()}. */
    public RouteResult route(Exchange exchange, String routingKey, ContentHeader header) {
        return route(exchange, routingKey, List.of(), header);
    }

    /**
     * As above with more routing keys (a message's CC and BCC keys): each exchange on the way
     * routes with every key, as RabbitMQ's routing does, and a queue several keys reach is in the
     * result once.
     */
    public RouteResult route(Exchange exchange, String routingKey, List<String> extraKeys, ContentHeader header) {
        queues.clear();
        visited.clear();
        seen = null;
        this.routingKey = routingKey;
        this.extraKeys = extraKeys;
        this.header = header;
        visit(exchange);
        this.extraKeys = List.of();
        this.header = null;
        return this;
    }

    private void visit(Exchange exchange) {
        for (Exchange e : visited) {
            if (e == exchange) {
                return;
            }
        }
        visited.add(exchange);
        Router router = exchange.router();
        router.route(routingKey, header, this);
        if (!extraKeys.isEmpty() && exchange.routesByKey()) {
            for (int i = 0; i < extraKeys.size(); i++) {
                router.route(extraKeys.get(i), header, this);
            }
        }
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

    /** Adds a queue the default exchange names (none when null), each queue once. */
    public void addNamed(Queue queue) {
        if (queue != null) {
            addQueue(queue);
        }
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
