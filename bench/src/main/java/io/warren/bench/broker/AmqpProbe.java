package io.warren.bench.broker;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits until a broker completes an AMQP handshake: an open TCP port alone is not readiness. */
public final class AmqpProbe {
  private AmqpProbe() {}

  public static ConnectionFactory factory(int port) {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(port);
    f.setUsername("guest");
    f.setPassword("guest");
    f.setAutomaticRecoveryEnabled(false);
    f.setConnectionTimeout(10_000);
    return f;
  }

  public static boolean accepts(int port) {
    ConnectionFactory f = factory(port);
    f.setConnectionTimeout(2_000);
    f.setHandshakeTimeout(5_000);
    try (Connection c = f.newConnection("warren-bench-probe")) {
      return c.isOpen();
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * Polls until the broker accepts a connection.
   *
   * @param stillStarting false when the broker process died: stop waiting at once
   */
  public static void await(String name, int port, Duration timeout, BooleanSupplier stillStarting)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextNotice = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!accepts(port)) {
      if (!stillStarting.getAsBoolean()) {
        throw new IllegalStateException(name + " exited before it accepted AMQP connections");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + " did not accept AMQP connections on 127.0.0.1:" + port + " within " + timeout);
      }
      if (System.nanoTime() > nextNotice) {
        System.out.println("[bench] still waiting for " + name + " on port " + port + "...");
        nextNotice = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      }
      Thread.sleep(500);
    }
  }
}
