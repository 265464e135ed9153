package io.warren.bench.broker;

import java.util.OptionalLong;

/** A broker under test, reachable on 127.0.0.1 at {@link #port()}. */
public interface Broker extends AutoCloseable {
  /** Short name used in tables: "warren" or "rabbitmq". */
  String name();

  int port();

  /** The process that owns the AMQP listening socket (the JVM or beam.smp), if we can see it. */
  OptionalLong pid();

  /** False once a broker we started has exited. */
  boolean isAlive();

  /** Stops the broker if the harness started it; idempotent. */
  @Override
  void close();

  default String uri() {
    return "amqp://guest:guest@127.0.0.1:" + port();
  }
}
