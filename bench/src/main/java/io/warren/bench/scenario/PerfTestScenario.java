package io.warren.bench.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scenario PerfTest can express with its flags. Every run gets its own exchange ({@code -e}) and
 * queue names ({@code -u} or {@code --queue-pattern}), which the harness deletes afterwards.
 */
final class PerfTestScenario implements Scenario {
  /** What to read from PerfTest's figures. */
  enum Measure {
    /** Consumed msg/s: with one queue and one consumer, what got through. */
    RECEIVED_RATE,
    /** Consumed msg/s summed over all consumers, plus published msg/s: for fan-out. */
    DELIVERY_RATE,
    /** p50/p99 consumer latency at a fixed publishing rate, plus the consumed rate as a check. */
    LATENCY
  }

  private static final Metric MSG_S = Metric.higher("msg/s");
  private static final Metric PUBLISHED_S = Metric.higher("published msg/s");
  private static final Metric DELIVERIES_S = Metric.higher("deliveries/s");
  static final Metric P50_MS = Metric.lower("p50 latency ms");
  static final Metric P99_MS = Metric.lower("p99 latency ms");
  private static final Metric RECEIVED_S = Metric.higher("received msg/s");
  private static final Metric CPU_PERCENT = Metric.lower("broker CPU % of a core");
  private static final Metric CPU_US_PER_MSG = Metric.lower("broker CPU us/msg");

  private final String name;
  private final String description;
  private final List<String> args;
  private final int queues;
  private final Measure measure;

  /**
   * @param args PerfTest flags besides broker, duration, exchange and queue names
   * @param queues 1 for a single queue ({@code -u}), more for {@code --queue-pattern} 1..queues
   */
  PerfTestScenario(String name, String description, int queues, Measure measure, String... args) {
    this.name = name;
    this.description = description;
    this.args = List.of(args);
    this.queues = queues;
    this.measure = measure;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String description() {
    return description;
  }

  /**
   * One PerfTest run. A saturated run that collapsed (see {@link Collapse}) is a result: it is
   * counted, its figures stand, and it is not run again.
   */
  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    PerfTestRun run = runOnce(ctx);
    if (measure != Measure.LATENCY && run.collapsed()) {
      System.out.printf("[bench] %s collapsed to a trickle (see %s); counted, not run again%n",
          ctx.runId(), ctx.logDir().resolve(ctx.runId() + ".perftest.csv"));
    }
    return figures(run);
  }

  private PerfTestRun runOnce(RunContext ctx) throws Exception {
    String exchange = ctx.name("x");
    List<String> queueNames = new ArrayList<>();
    List<String> all = new ArrayList<>(List.of("--exchange", exchange));
    if (queues == 1) {
      queueNames.add(ctx.name("q"));
      all.addAll(List.of("--queue", queueNames.get(0)));
    } else {
      for (int i = 1; i <= queues; i++) {
        queueNames.add(ctx.name("q-" + i));
      }
      all.addAll(List.of("--queue-pattern", ctx.name("q-%d"),
          "--queue-pattern-from", "1", "--queue-pattern-to", Integer.toString(queues)));
    }
    all.addAll(args);
    try {
      return PerfTestRun.run(ctx, all, measure == Measure.LATENCY ? RunContext.LATENCY_EXTRA_WARMUP_SECONDS : 0);
    } finally {
      Cleanup.delete(ctx, queueNames, List.of(exchange));
    }
  }

  private Map<Metric, Double> figures(PerfTestRun run) {
    Map<Metric, Double> figures = new LinkedHashMap<>();
    switch (measure) {
      case RECEIVED_RATE -> {
        figures.put(MSG_S, run.meanRate(PerfTestRun.Second::received));
        figures.put(CPU_US_PER_MSG, run.brokerCpuMicrosPerMessage());
      }
      case DELIVERY_RATE -> {
        figures.put(DELIVERIES_S, run.meanRate(PerfTestRun.Second::received));
        figures.put(PUBLISHED_S, run.meanRate(PerfTestRun.Second::published));
        figures.put(CPU_US_PER_MSG, run.brokerCpuMicrosPerMessage());
      }
      case LATENCY -> {
        figures.put(P50_MS, run.medianOfSeconds(PerfTestRun.Second::p50Us) / 1000.0);
        figures.put(P99_MS, run.medianOfSeconds(PerfTestRun.Second::p99Us) / 1000.0);
        figures.put(RECEIVED_S, run.meanRate(PerfTestRun.Second::received));
      }
    }
    figures.put(CPU_PERCENT, run.brokerCpuPercent());
    if (measure != Measure.LATENCY) {
      figures.put(Collapse.COLLAPSED_RUNS, run.collapsed() ? 1.0 : 0.0);
    }
    figures.put(Collapse.SLOW_SECONDS, (double) run.slowSeconds());
    return figures;
  }
}
