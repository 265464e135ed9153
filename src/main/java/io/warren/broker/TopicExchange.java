package io.warren.broker;

import java.util.List;
import java.util.Map;

/**
 * Routes by matching the routing key against binding keys made of dot-separated words, where '*'
 * stands for exactly one word and '#' for zero or more (see {@link TopicTrie} for how keys split
 * into words, empty words included).
 */
public final class TopicExchange extends Exchange {
    public static final String TYPE = "topic";

    public TopicExchange(String name, boolean durable, boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        super(name, TYPE, durable, autoDelete, internal, arguments);
    }

    @Override
    protected Router compile(List<Binding> bindings) {
        if (bindings.isEmpty()) {
            return (routingKey, header, out) -> { };
        }
        TopicTrie trie = TopicTrie.compile(bindings);
        return (routingKey, header, out) -> trie.route(routingKey, out);
    }
}
