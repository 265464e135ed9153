package io.warren.bench;

import com.rabbitmq.client.Connection;
import io.warren.bench.broker.AttachedBroker;
import io.warren.bench.broker.Broker;
import io.warren.bench.broker.BrokerStartException;
import io.warren.bench.broker.RabbitMqNode;
import io.warren.bench.broker.WarrenServer;
import io.warren.bench.probe.JvmHeap;
import io.warren.bench.probe.PeakRss;
import io.warren.bench.probe.Rss;
import io.warren.bench.report.Report;
import io.warren.bench.report.RunResult;
import io.warren.bench.scenario.Metric;
import io.warren.bench.scenario.RunContext;
import io.warren.bench.scenario.Scenario;
import io.warren.bench.scenario.SubprocessGuard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The side-by-side benchmark: starts the brokers, runs every scenario on each in turn (RabbitMQ,
 * Warren, RabbitMQ, Warren, ... for {@code --rounds}), prints the medians and writes the report.
 * Everything runs on the main thread; the shutdown hook (Ctrl-C, failure) stops load generators
 * and brokers.
 */
public final class Main {
  private static final int EXIT_USAGE = 2;
  private static final int EXIT_FAILED = 1;

  private final Options options;
  private final List<Broker> brokers = new CopyOnWriteArrayList<>();
  private final SubprocessGuard subprocesses = new SubprocessGuard();
  private final List<String> brokerNotes = new ArrayList<>();
  private volatile boolean stopping;
  /** Counted down once the report is out, so that the shutdown hook lets a partial one be written. */
  private final CountDownLatch reported = new CountDownLatch(1);

  private Main(Options options) {
    this.options = options;
  }

  public static void main(String[] args) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        System.out.print(Options.USAGE);
        return;
      }
      if (a.equals("--list")) {
        io.warren.bench.scenario.Catalogue.all()
            .forEach(s -> System.out.printf("%-22s %s%n", s.name(), s.description()));
        return;
      }
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (Options.UsageException e) {
      System.err.println("bench: " + e.getMessage());
      System.err.print(Options.USAGE);
      System.exit(EXIT_USAGE);
      return;
    }
    Main main = new Main(options);
    int code;
    try {
      code = main.run();
    } finally {
      main.reported.countDown();
    }
    System.exit(code);
  }

  private int run() {
    Thread hook = new Thread(this::shutdown, "bench-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Files.createDirectories(options.workDir().resolve("logs"));
      startBrokers();
    } catch (BrokerStartException | IOException e) {
      System.err.println("\n[bench] ERROR: " + e.getMessage());
      if (options.brokers().contains("warren") && e.getMessage().startsWith("Warren")) {
        System.err.println("[bench] To benchmark RabbitMQ alone meanwhile: bench/run --only rabbitmq");
      }
      shutdown();
      return EXIT_FAILED;
    }

    Report report = new Report(options.brokers());
    options.scenarios().forEach(s -> report.describe(s.name(), s.description()));
    LocalDateTime started = LocalDateTime.now();
    long t0 = System.nanoTime();
    for (int round = 1; round <= options.rounds() && !stopping; round++) {
      for (Scenario scenario : options.scenarios()) {
        for (int i = 0; i < brokers.size() && !stopping; i++) {
          freezeAllBut(i);
          try {
            report.add(runOnce(scenario, brokers.get(i), round));
          } finally {
            thawAll();
          }
          if (scenario.restartBrokerAfter() && !stopping) {
            restart(i);
          }
          pause(1_000);
        }
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    shutdown();
    System.out.println();
    System.out.println(report.consoleTable());
    List<String> notes = notes();
    notes.forEach(n -> System.out.println("* " + n));
    if (options.out() != null) {
      try {
        Files.createDirectories(options.out().toAbsolutePath().getParent());
        Files.writeString(options.out(), report.markdown(
            "Warren vs RabbitMQ, " + started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")),
            preamble(took), notes));
        System.out.println("\n[bench] report: " + options.out());
      } catch (IOException e) {
        System.err.println("[bench] could not write " + options.out() + ": " + e);
      }
    }
    if (!report.failures().isEmpty()) {
      System.out.println("[bench] " + report.failures().size() + " run(s) failed; see above and the"
          + " logs in " + options.workDir());
      return EXIT_FAILED;
    }
    return stopping ? EXIT_FAILED : 0;
  }

  private void startBrokers() throws BrokerStartException {
    for (String name : options.brokers()) {
      Broker b = start(name);
      brokers.add(b);
      describeIdle(b);
    }
  }

  private Broker start(String name) throws BrokerStartException {
    if (name.equals("rabbitmq")) {
      return options.rabbitmqPort() != null
          ? AttachedBroker.await("rabbitmq", options.rabbitmqPort())
          : RabbitMqNode.start(options.workDir());
    }
    return options.warrenPort() != null
        ? AttachedBroker.await("warren", options.warrenPort())
        : WarrenServer.start(options.warrenJar(), options.workDir());
  }

  /** A fresh broker in place of {@code brokers[i]}, when the harness started it. */
  private void restart(int i) {
    Broker old = brokers.get(i);
    if (old instanceof AttachedBroker) {
      return;
    }
    System.out.println("[bench] restarting " + old.name() + " so that the next scenario starts clean");
    old.close();
    try {
      brokers.set(i, start(old.name()));
    } catch (BrokerStartException e) {
      // The closed broker stays in the list: its next runs fail as "not running".
      System.err.println("[bench] ERROR: " + e.getMessage());
    }
  }

  /** The broker's own name and version, and its memory at idle right after start. */
  private void describeIdle(Broker b) {
    String version = "?";
    try (Connection c = io.warren.bench.broker.AmqpProbe.factory(b.port()).newConnection("warren-bench-info")) {
      Map<String, Object> p = c.getServerProperties();
      version = p.getOrDefault("product", "?") + " " + p.getOrDefault("version", "?");
    } catch (Exception e) {
      // reported as "?"
    }
    OptionalLong pid = b.pid();
    StringBuilder line = new StringBuilder(b.name() + ": " + version + " on 127.0.0.1:" + b.port());
    if (pid.isPresent()) {
      long p = pid.getAsLong();
      line.append(", pid ").append(p).append(" (").append(Rss.command(p)).append(")");
      Rss.kib(p).ifPresent(kib -> line.append(String.format(", idle RSS %.0f MiB", kib / 1024.0)));
      if (JvmHeap.isJvm(p)) {
        JvmHeap.usedAfterGcKib(p)
            .ifPresent(kib -> line.append(String.format(", idle heap after GC %.1f MiB", kib / 1024.0)));
      }
    }
    System.out.println("[bench] " + line);
    brokerNotes.add(line.toString());
  }

  private RunResult runOnce(Scenario scenario, Broker broker, int round) {
    String runId = scenario.name() + "." + broker.name() + ".r" + round + "."
        + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
    if (!broker.isAlive()) {
      String error = broker.name() + " is not running any more (see its log in " + options.workDir() + ")";
      System.out.printf("[bench] round %d  %-20s %-8s FAILED: %s%n", round, scenario.name(), broker.name(), error);
      return new RunResult(scenario.name(), broker.name(), round, Map.of(), error);
    }
    RunContext ctx = new RunContext(broker, runId, options.durationSeconds(), options.warmupSeconds(),
        options.backlogMessages(), options.idleConnections(), options.workDir().resolve("logs"), subprocesses);
    OptionalLong pid = broker.pid();
    PeakRss peak = pid.isPresent() ? new PeakRss(pid.getAsLong()) : null;
    try {
      Map<Metric, Double> figures = new LinkedHashMap<>(scenario.run(ctx));
      if (peak != null && peak.peakKib() > 0) {
        figures.put(Metric.PEAK_RSS_MIB, peak.peakKib() / 1024.0);
      }
      StringBuilder line = new StringBuilder();
      figures.forEach((m, v) -> line.append(line.length() == 0 ? "" : ", ")
          .append(Report.format(v)).append(' ').append(m.name()));
      System.out.printf("[bench] round %d  %-20s %-8s %s%n", round, scenario.name(), broker.name(), line);
      return new RunResult(scenario.name(), broker.name(), round, figures, null);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      String error = e.getMessage() == null ? e.toString() : e.getMessage();
      System.out.printf("[bench] round %d  %-20s %-8s FAILED: %s%n", round, scenario.name(), broker.name(), error);
      return new RunResult(scenario.name(), broker.name(), round, Map.of(), error);
    } finally {
      if (peak != null) {
        peak.close();
      }
    }
  }

  private List<String> preamble(Duration took) {
    List<String> lines = new ArrayList<>();
    lines.add("- command: `bench/run " + String.join(" ", argsForReport()) + "`");
    if (!options.commit().isEmpty()) {
      lines.add("- Warren commit: " + options.commit());
    }
    lines.add("- machine: " + Machine.describe());
    lines.add("- load generator: PerfTest 2.22.1 and the drivers in bench/, on the same machine");
    brokerNotes.forEach(n -> lines.add("- " + n));
    lines.add(String.format("- %d round(s), %d s per timed run (first %d s not counted; latency"
        + " scenarios run %d s longer and leave those out too: PerfTest's JIT warm-up), took %d min %d s",
        options.rounds(), options.durationSeconds(), options.warmupSeconds(),
        RunContext.LATENCY_EXTRA_WARMUP_SECONDS, took.toMinutes(), took.toSecondsPart()));
    return lines;
  }

  private List<String> argsForReport() {
    List<String> a = new ArrayList<>();
    if (options.brokers().size() == 1) {
      a.addAll(List.of("--only", options.brokers().get(0)));
    }
    a.addAll(List.of("--rounds", Integer.toString(options.rounds()),
        "--duration", Integer.toString(options.durationSeconds())));
    if (options.scenarios().size() != Options.scenarioNames().size()) {
      a.addAll(List.of("--scenarios",
          String.join(",", options.scenarios().stream().map(Scenario::name).toList())));
    }
    return a;
  }

  private List<String> notes() {
    return List.of(
        "Medians over the rounds. This machine has " + Runtime.getRuntime().availableProcessors()
            + " cores shared by broker and load generator: saturated (as-fast-as-possible) scenarios"
            + " swing widely from run to run, so compare medians and look at every round below.",
        "warren/rabbitmq is the ratio of medians: above 1 is better for 'higher' metrics, below 1"
            + " for 'lower' ones.",
        "Rates are per-second means after the warm-up; latencies are the median over the steady"
            + " seconds of each second's p50/p99 (PerfTest's clock, producer and consumer in one JVM).",
        "RSS is VmRSS of the process that owns the AMQP socket (beam.smp, or Warren's JVM); heap"
            + " after GC is Warren's live heap (jcmd GC.run, then GC.heap_info). Warren runs with -Xmx1g.");
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Idempotent: the normal end of the run calls it, and so does the shutdown hook. */
  /**
   * Stops (SIGSTOP) every broker but the one being measured, so that an idle broker's background
   * work (the Erlang VM's schedulers spin for a while after load) does not take CPU from the other
   * on this small machine. Each broker is measured alone, as it would run alone in production.
   */
  private void freezeAllBut(int measured) {
    for (int i = 0; i < brokers.size(); i++) {
      if (i != measured) {
        signal(brokers.get(i), "STOP");
      }
    }
  }

  private void thawAll() {
    for (Broker b : brokers) {
      signal(b, "CONT");
    }
  }

  private static void signal(Broker broker, String signal) {
    OptionalLong pid = broker.pid();
    if (pid.isEmpty()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(pid.getAsLong())).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    } catch (IOException e) {
      System.err.println("[bench] could not send SIG" + signal + " to " + broker.name() + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void shutdown() {
    thawAll();
    boolean fromHook = Thread.currentThread().getName().equals("bench-shutdown");
    if (fromHook && reported.getCount() > 0) {
      stopping = true;
      System.out.println("\n[bench] interrupted: stopping load generators and brokers");
    }
    stopAll();
    if (fromHook) {
      try {
        reported.await(10, TimeUnit.SECONDS); // the main thread writes what it has
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private synchronized void stopAll() {
    subprocesses.destroyAll();
    List<Broker> reversed = new ArrayList<>(brokers);
    java.util.Collections.reverse(reversed);
    for (Broker b : reversed) {
      try {
        b.close();
      } catch (RuntimeException e) {
        System.err.println("[bench] stopping " + b.name() + " failed: " + e);
      }
    }
    brokers.clear();
  }
}
