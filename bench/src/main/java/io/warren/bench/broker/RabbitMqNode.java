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
 * A RabbitMQ node of the harness's own, from Debian's package, never the system service: its own
 * node name, data and log directories, config file, ports and Erlang port mapper (epmd), all on
 * 127.0.0.1, so that it neither meets nor disturbs a node someone else runs.
 *
 * <p>We start {@code /usr/lib/rabbitmq/bin/rabbitmq-server} directly: {@code /usr/sbin}'s wrapper
 * switches to the rabbitmq user, who cannot write our directories. No plugins are enabled (no
 * management UI): the node does what Warren does and nothing else. epmd daemonizes out of the
 * node's process group, so {@link #close()} ends it on its own.
 */
public final class RabbitMqNode implements Broker {
  private static final Path SERVER = Path.of("/usr/lib/rabbitmq/bin/rabbitmq-server");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final int STOP_GRACE_SECONDS = 60;

  private final BrokerProcess process;
  private final int port;
  private final int epmdPort;
  private final Path workDir;

  private RabbitMqNode(BrokerProcess process, int port, int epmdPort, Path workDir) {
    this.process = process;
    this.port = port;
    this.epmdPort = epmdPort;
    this.workDir = workDir;
  }

  public static RabbitMqNode start(Path workDir) throws BrokerStartException {
    if (!Files.isExecutable(SERVER)) {
      throw new BrokerStartException(
          SERVER + " is missing: bench/run installs it with 'apt-get install -y rabbitmq-server'");
    }
    // The distribution port must not collide with anything either; keep ports low enough that
    // RabbitMQ's own derived defaults (port + 20000) would stay valid.
    int port = FreePort.below(45000);
    int distPort = FreePort.any();
    int epmdPort = FreePort.any();
    Path dir = workDir.resolve("rabbitmq");
    Path log = workDir.resolve("rabbitmq.out");
    RabbitMqNode node = null;
    try {
      for (String sub : List.of("mnesia", "log", "home")) {
        Files.createDirectories(dir.resolve(sub));
      }
      Path config = dir.resolve("rabbitmq.conf");
      Files.writeString(
          config,
          String.join(
              "\n",
              "# Written by bench/run for this run only.",
              "listeners.tcp.1 = 127.0.0.1:" + port,
              "loopback_users.guest = true",
              "log.file.level = info",
              ""));
      Path plugins = dir.resolve("enabled_plugins");
      Files.writeString(plugins, "[].\n");
      Map<String, String> env =
          Map.ofEntries(
              Map.entry("HOME", dir.resolve("home").toString()), // the Erlang cookie goes here
              Map.entry("RABBITMQ_NODENAME", "warren-bench-" + port + "@localhost"),
              Map.entry("RABBITMQ_USE_LONGNAME", "false"),
              Map.entry("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"),
              Map.entry("RABBITMQ_NODE_PORT", Integer.toString(port)),
              Map.entry("RABBITMQ_DIST_PORT", Integer.toString(distPort)),
              Map.entry("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString()),
              Map.entry("RABBITMQ_LOG_BASE", dir.resolve("log").toString()),
              Map.entry("RABBITMQ_CONFIG_FILE", config.toString()),
              Map.entry("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString()),
              Map.entry("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString()),
              Map.entry("RABBITMQ_ENABLED_PLUGINS_FILE", plugins.toString()),
              Map.entry("RABBITMQ_PID_FILE", dir.resolve("rabbitmq.pid").toString()),
              Map.entry(
                  "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}"),
              Map.entry("ERL_EPMD_PORT", Integer.toString(epmdPort)),
              Map.entry("ERL_EPMD_ADDRESS", "127.0.0.1"));
      BrokerProcess.requireFreePort(port, "rabbitmq");
      BrokerProcess p =
          BrokerProcess.start("rabbitmq", List.of(SERVER.toString()), dir, env, log, workDir);
      node = new RabbitMqNode(p, port, epmdPort, workDir);
      AmqpProbe.await("rabbitmq", port, START_TIMEOUT, p::isAlive);
      OptionalLong epmd = ListeningPid.of(epmdPort);
      if (epmd.isPresent()) {
        BrokerProcess.rememberPid(workDir, epmd.getAsLong());
      }
      return node;
    } catch (IOException | IllegalStateException e) {
      if (node != null) {
        node.close();
      }
      throw new BrokerStartException(
          "RabbitMQ did not start: " + e.getMessage() + "\n--- last lines of " + log + ":\n"
              + BrokerProcess.tail(log, 30),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (node != null) {
        node.close();
      }
      throw new BrokerStartException("interrupted while RabbitMQ started", e);
    }
  }

  @Override
  public String name() {
    return "rabbitmq";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public OptionalLong pid() {
    return ListeningPid.of(port);
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public synchronized void close() {
    process.stop(STOP_GRACE_SECONDS);
    // Ours alone: it listens on the port we chose for this node.
    OptionalLong epmd = ListeningPid.of(epmdPort);
    if (epmd.isPresent()) {
      ProcessHandle.of(epmd.getAsLong()).ifPresent(ProcessHandle::destroy);
      BrokerProcess.forget(workDir, epmd.getAsLong());
    }
  }
}
