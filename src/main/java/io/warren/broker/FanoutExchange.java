package io.warren.broker;

import java.util.List;
import java.util.Map;

/** Routes to every bound destination, whatever the routing key. */
public final class FanoutExchange extends Exchange {
    public static final String TYPE = "fanout";

    public FanoutExchange(String name, boolean durable, boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        super(name, TYPE, durable, autoDelete, internal, arguments);
    }

    @Override
    public boolean routesByKey() {
        return false;
    }

    @Override
    protected Router compile(List<Binding> bindings) {
        Destination[] all = bindings.stream().map(Binding::destination).distinct().toArray(Destination[]::new);
        return (routingKey, header, out) -> {
            for (Destination d : all) {
                out.add(d);
            }
        };
    }
}
