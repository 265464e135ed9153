package io.warren.bench.broker;

import java.util.OptionalLong;

/**
 * A broker someone else started ({@code --warren-port}/{@code --rabbitmq-port}), for instance
 * Warren under a debugger or profiler. The harness measures it and never stops it.
 */
public final class AttachedBroker implements Broker {
  private final String name;
  private final int port;

  public AttachedBroker(String name, int port) {
    this.name = name;
    this.port = port;
  }

  public static AttachedBroker await(String name, int port) throws BrokerStartException {
    try {
      AmqpProbe.await(name, port, java.time.Duration.ofSeconds(10), () -> true);
    } catch (IllegalStateException e) {
      throw new BrokerStartException(e.getMessage() + " (--" + name + "-port given: is it running?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrokerStartException("interrupted");
    }
    System.out.println("[bench] using the " + name + " already listening on 127.0.0.1:" + port);
    return new AttachedBroker(name, port);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public OptionalLong pid() {
    return io.warren.bench.probe.ListeningPid.of(port);
  }

  @Override
  public boolean isAlive() {
    return AmqpProbe.accepts(port);
  }

  @Override
  public void close() {}
}
