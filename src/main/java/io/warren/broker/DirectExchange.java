package io.warren.broker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Routes to every destination bound with exactly the message's routing key. */
public final class DirectExchange extends Exchange {
    public static final String TYPE = "direct";

    public DirectExchange(String name, boolean durable, boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        super(name, TYPE, durable, autoDelete, internal, arguments);
    }

    @Override
    protected Router compile(List<Binding> bindings) {
        Map<String, List<Destination>> byKey = new HashMap<>();
        for (Binding b : bindings) {
            byKey.computeIfAbsent(b.routingKey(), k -> new ArrayList<>()).add(b.destination());
        }
        Map<String, Destination[]> table = new HashMap<>();
        byKey.forEach((k, v) -> table.put(k, v.toArray(new Destination[0])));
        return (routingKey, header, out) -> {
            Destination[] matches = table.get(routingKey);
            if (matches != null) {
                for (Destination d : matches) {
                    out.add(d);
                }
            }
        };
    }
}
