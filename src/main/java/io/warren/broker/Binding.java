package io.warren.broker;

import java.util.Map;

/**
 * A binding from an exchange to a queue or exchange. Two bindings are the same binding when source,
 * destination, routing key and arguments are equal, as in RabbitMQ.
 */
public record Binding(Exchange source, Destination destination, String routingKey, Map<String, Object> arguments) {
    public Binding {
        arguments = arguments == null ? Map.of() : Map.copyOf(nullSafe(arguments));
    }

    private static Map<String, Object> nullSafe(Map<String, Object> args) {
        // Map.copyOf rejects null values; a 'V' (void) value in a binding argument is kept as a marker.
        boolean hasNull = false;
        for (Object v : args.values()) {
            hasNull |= v == null;
        }
        if (!hasNull) {
            return args;
        }
        java.util.Map<String, Object> copy = new java.util.LinkedHashMap<>();
        args.forEach((k, v) -> copy.put(k, v == null ? VOID : v));
        return copy;
    }

    /** Stands for a void field value inside binding arguments. */
    public static final Object VOID = new Object() {
        @Override
        public String toString() {
            return "void";
        }
    };

    @Override
    public boolean equals(Object o) {
        return o instanceof Binding b && b.source == source && b.destination == destination
                && b.routingKey.equals(routingKey) && b.arguments.equals(arguments);
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(source) * 31 * 31 + System.identityHashCode(destination) * 31 + routingKey.hashCode();
    }
}
