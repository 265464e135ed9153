package io.warren.bench.scenario;

/**
 * One figure a scenario reports, e.g. "msg/s" (higher is better) or "p99 ms" (lower is better). A
 * counted figure (collapsed runs, slow seconds) is added up over the rounds instead of taking
 * their median.
 */
public record Metric(String name, boolean higherIsBetter, boolean counted) {
  public static Metric higher(String name) {
    return new Metric(name, true, false);
  }

  public static Metric lower(String name) {
    return new Metric(name, false, false);
  }

  /** A count per run that the report adds up over every round (fewer is better). */
  public static Metric counted(String name) {
    return new Metric(name, false, true);
  }

  /** Reported for every scenario by the harness: the broker's highest RSS while it ran. */
  public static final Metric PEAK_RSS_MIB = lower("peak RSS MiB");
}
