package io.warren.bench.broker;

import io.warren.bench.probe.ListeningPid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Warren from the repository's fat jar ({@code target/warren.jar}, built by bench/run), with a
 * 1 GiB heap, on 127.0.0.1 and a data directory of this run's own.
 */
public final class WarrenServer implements Broker {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final int STOP_GRACE_SECONDS = 30;

  private final BrokerProcess process;
  private final int port;

  private WarrenServer(BrokerProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  public static WarrenServer start(Path jar, Path workDir) throws BrokerStartException {
    if (!Files.isRegularFile(jar)) {
      throw new BrokerStartException(
          "Warren did not start: " + jar + " is missing; build it with './mvnw -B -q package -DskipTests' in the repository root");
    }
    int port = FreePort.any();
    Path log = workDir.resolve("warren.out");
    Path dataDir = workDir.resolve("warren-data").resolve(Integer.toString(port));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        List.of(java, "-Xmx1g", "-jar", jar.toString(), "server",
            "--amqp-port", Integer.toString(port), "--bind", "127.0.0.1",
            "--data-dir", dataDir.toString());
    WarrenServer server = null;
    try {
      Files.createDirectories(dataDir);
      BrokerProcess.requireFreePort(port, "warren");
      BrokerProcess p = BrokerProcess.start("warren", command, workDir, Map.of(), log, workDir);
      server = new WarrenServer(p, port);
      AmqpProbe.await("warren", port, START_TIMEOUT, p::isAlive);
      return server;
    } catch (IOException | IllegalStateException e) {
      if (server != null) {
        server.close();
      }
      throw new BrokerStartException(
          "Warren did not start: " + e.getMessage() + "\n  command: " + String.join(" ", command)
              + "\n--- last lines of " + log + ":\n" + BrokerProcess.tail(log, 30),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (server != null) {
        server.close();
      }
      throw new BrokerStartException("interrupted while Warren started", e);
    }
  }

  @Override
  public String name() {
    return "warren";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public OptionalLong pid() {
    OptionalLong listening = ListeningPid.of(port);
    return listening.isPresent() ? listening : OptionalLong.of(process.pid());
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public synchronized void close() {
    process.stop(STOP_GRACE_SECONDS);
  }
}
