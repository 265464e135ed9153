package io.warren.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An exchange: its declared properties and its bindings. Bindings change on any connection thread
 * (declares and binds are rare) by compare-and-set of an immutable snapshot, and routing reads the
 * snapshot's compiled {@link Router} without locks. Each type is a small subclass that compiles
 * bindings into its router.
 */
public abstract non-sealed class Exchange implements Destination {
    private final String name;
    private final String type;
    private final boolean durable;
    private final boolean autoDelete;
    private final boolean internal;
    private final Map<String, Object> arguments;
    private final AtomicReference<Snapshot> snapshot;

    /** The bindings in the order they were made, and the router compiled from them. */
    private record Snapshot(List<Binding> bindings, Router router) {
    }

    protected Exchange(String name, String type, boolean durable, boolean autoDelete, boolean internal,
                       Map<String, Object> arguments) {
        this.name = name;
        this.type = type;
        this.durable = durable;
        this.autoDelete = autoDelete;
        this.internal = internal;
        this.arguments = arguments == null ? Map.of() : arguments;
        this.snapshot = new AtomicReference<>(new Snapshot(List.of(), compile(List.of())));
    }

    /** Builds this type's routing table from all current bindings (called on every change). */
    protected abstract Router compile(List<Binding> bindings);

    @Override
    public String name() { return name; }
    public String type() { return type; }
    public boolean durable() { return durable; }
    public boolean autoDelete() { return autoDelete; }
    public boolean internal() { return internal; }
    public Map<String, Object> arguments() { return arguments; }

    /**
     * False for the types whose routing ignores the routing key (fanout, headers): a message with
     * several keys (CC, BCC) is routed through them once, not once per key.
     */
    public boolean routesByKey() {
        return true;
    }

    public Router router() {
        return snapshot.get().router();
    }

    public List<Binding> bindings() {
        return snapshot.get().bindings();
    }

    /** Adds the binding; false when an equal binding already exists. */
    public boolean bind(Binding binding) {
        while (true) {
            Snapshot old = snapshot.get();
            if (old.bindings().contains(binding)) {
                return false;
            }
            List<Binding> next = new ArrayList<>(old.bindings());
            next.add(binding);
            if (snapshot.compareAndSet(old, new Snapshot(List.copyOf(next), compile(next)))) {
                return true;
            }
        }
    }

    /** Removes the binding; false when it did not exist. */
    public boolean unbind(Binding binding) {
        return removeIf(b -> b.equals(binding));
    }

    /** Removes every binding to the destination (it is being deleted); true when any was removed. */
    public boolean unbindAll(Destination destination) {
        return removeIf(b -> b.destination() == destination);
    }

    private boolean removeIf(java.util.function.Predicate<Binding> which) {
        while (true) {
            Snapshot old = snapshot.get();
            List<Binding> next = new ArrayList<>(old.bindings());
            if (!next.removeIf(which)) {
                return false;
            }
            if (snapshot.compareAndSet(old, new Snapshot(List.copyOf(next), compile(next)))) {
                return true;
            }
        }
    }

    /** True when declare arguments match this exchange (for the 406 on a different redeclare). */
    public boolean sameDeclaration(String type, boolean durable, boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        return this.type.equals(type) && this.durable == durable && this.autoDelete == autoDelete
                && this.internal == internal && this.arguments.equals(arguments == null ? Map.of() : arguments);
    }

    @Override
    public String toString() {
        return "exchange '" + name + "'";
    }
}
