package io.warren.bench.scenario;

import io.warren.bench.report.Stats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * One PerfTest run in a JVM of its own (PerfTest calls System.exit and keeps static state, and a
 * fresh JVM per run treats both brokers alike). It writes one CSV line per second ({@code -o});
 * we read those and drop the first {@link RunContext#warmupSeconds()} seconds, in which
 * connections open and JITs warm up.
 */
final class PerfTestRun {
  /** One line of PerfTest's CSV output; latencies in microseconds, NaN when nothing arrived. */
  record Second(double time, double published, double confirmed, double received, double p50Us, double p99Us) {}

  private final List<Second> steady;
  private final List<Second> all;
  /** Broker CPU seconds and wall seconds while PerfTest ran (NaN when unknown). */
  private final double cpuSeconds;
  private final double wallSeconds;

  private PerfTestRun(List<Second> steady, List<Second> all, double cpuSeconds, double wallSeconds) {
    this.steady = steady;
    this.all = all;
    this.cpuSeconds = cpuSeconds;
    this.wallSeconds = wallSeconds;
  }

  /**
   * Runs PerfTest for the context's duration plus {@code extraWarmupSeconds}, which are left out of
   * the figures together with the context's own warm-up.
   */
  static PerfTestRun run(RunContext ctx, List<String> scenarioArgs, int extraWarmupSeconds)
      throws IOException, InterruptedException {
    int seconds = ctx.durationSeconds() + extraWarmupSeconds;
    int warmup = ctx.warmupSeconds() + extraWarmupSeconds;
    Path csv = ctx.logDir().resolve(ctx.runId() + ".perftest.csv");
    Path log = ctx.logDir().resolve(ctx.runId() + ".perftest.log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g",
        "-cp", System.getProperty("java.class.path"),
        "com.rabbitmq.perf.PerfTest",
        "--uri", ctx.broker().uri(),
        "--id", ctx.runId(),
        "--time", Integer.toString(seconds),
        "--output-file", csv.toString(),
        "--metrics-format", "compact",
        "--auto-delete", "false"));
    command.addAll(scenarioArgs);
    Files.writeString(log, String.join(" ", command) + "\n\n");
    Process p = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    ctx.subprocesses().add(p);
    double cpuBefore = ctx.cpuSeconds().orElse(Double.NaN);
    long started = System.nanoTime();
    double cpuAfter;
    try {
      if (!p.waitFor(seconds + 90L, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("PerfTest did not finish in time; see " + log);
      }
      cpuAfter = ctx.cpuSeconds().orElse(Double.NaN);
    } finally {
      ctx.subprocesses().remove(p);
    }
    double wall = (System.nanoTime() - started) / 1e9;
    List<Second> all = Files.exists(csv) ? parse(csv) : List.of();
    List<Second> steady = all.stream().filter(s -> s.time() > warmup + 0.5).toList();
    if (p.exitValue() != 0 || steady.isEmpty()) {
      throw new IOException("PerfTest failed (exit " + p.exitValue() + ", " + all.size()
          + " one-second samples); see " + log + ":\n" + tail(log));
    }
    return new PerfTestRun(steady, all, cpuAfter - cpuBefore, wall);
  }

  private static List<Second> parse(Path csv) throws IOException {
    // id,time (s),published,returned,confirmed,nacked,received,min/median/75th/95th/99th consumer
    // latency (µs),min/median/75th/95th/99th confirm latency (µs)
    List<Second> seconds = new ArrayList<>();
    List<String> lines = Files.readAllLines(csv);
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] f = line.split(",", -1);
      if (f.length < 12) {
        continue;
      }
      seconds.add(new Second(num(f[1]), num(f[2]), num(f[4]), num(f[6]), num(f[8]), num(f[11])));
    }
    return seconds;
  }

  private static double num(String s) {
    return s.isBlank() ? Double.NaN : Double.parseDouble(s.trim());
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  /** Whether the run collapsed to a trickle ({@link Collapse#collapsed}). */
  boolean collapsed() {
    return Collapse.collapsed(all.stream().map(Second::received).toList(),
        steady.stream().map(Second::received).toList());
  }

  /** Steady seconds whose consumer-latency p99 was 200 ms or more. */
  int slowSeconds() {
    return (int) steady.stream().filter(s -> s.p99Us() >= Collapse.SLOW_P99_US).count();
  }

  /** Mean per-second rate over the steady part, e.g. received msg/s. */
  double meanRate(ToDoubleFunction<Second> column) {
    return Stats.mean(values(column));
  }

  /**
   * Typical latency: the median over the steady seconds of each second's percentile. PerfTest's
   * whole-run percentiles would include the warm-up.
   */
  double medianOfSeconds(ToDoubleFunction<Second> column) {
    return Stats.median(values(column));
  }

  /** The broker's CPU use while PerfTest ran, in percent of one core (start-up and warm-up included). */
  double brokerCpuPercent() {
    return 100.0 * cpuSeconds / wallSeconds;
  }

  /**
   * Broker CPU time per message consumed (deliveries, for fan-out) over the whole PerfTest run: how
   * much work the broker spends per message, whatever bounds the rate.
   */
  double brokerCpuMicrosPerMessage() {
    double received = all.stream().mapToDouble(Second::received).filter(v -> !Double.isNaN(v)).sum();
    return received > 0 ? cpuSeconds * 1e6 / received : Double.NaN;
  }

  private List<Double> values(ToDoubleFunction<Second> column) {
    return steady.stream().mapToDouble(column).filter(v -> !Double.isNaN(v)).boxed().toList();
  }
}
