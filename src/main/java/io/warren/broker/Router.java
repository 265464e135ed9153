package io.warren.broker;

import io.warren.protocol.ContentHeader;

/**
 * An exchange type's routing table: immutable, compiled from the exchange's bindings on every change,
 * and read by publishing connections on any thread without locks.
 */
@FunctionalInterface
public interface Router {
    /** Adds every destination the message matches to {@code out}. */
    void route(String routingKey, ContentHeader header, RouteResult out);
}
