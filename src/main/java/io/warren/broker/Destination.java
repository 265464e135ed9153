package io.warren.broker;

/** What a binding points at: a queue, or another exchange (exchange-to-exchange bindings). */
public sealed interface Destination permits Queue, Exchange {
    String name();
}
