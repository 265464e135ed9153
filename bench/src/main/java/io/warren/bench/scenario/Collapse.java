package io.warren.bench.scenario;

import java.util.List;

/**
 * A saturated run that collapsed to a trickle, and seconds with a stall: the figures of issue 19,
 * reported per run and added up over the rounds, never hidden by running a run again.
 *
 * <p>A run collapsed when three or more steady seconds delivered less than a twentieth of its best
 * second (seen with both brokers on loopback: a steady ~1,840-2,300 msg/s of 16 B in steps of 1/5 s;
 * bench/README.md, "Reading the figures", has the cause).
 */
final class Collapse {
  /** 1 for a run that collapsed, 0 otherwise; the report gives the total per broker and scenario. */
  static final Metric COLLAPSED_RUNS = Metric.counted("collapsed runs");
  /** Steady seconds whose consumer-latency p99 was 200 ms or more (a retransmission timeout's mark). */
  static final Metric SLOW_SECONDS = Metric.counted("seconds with p99 >= 200 ms");
  static final double SLOW_P99_US = 200_000;

  private Collapse() {}

  /**
   * @param all every second's deliveries (to find the best second)
   * @param steady those of the steady seconds only
   */
  static boolean collapsed(List<Double> all, List<Double> steady) {
    double best = all.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).max().orElse(0);
    long low = steady.stream().filter(v -> v < best / 20).count();
    return best > 0 && low >= 3;
  }
}
