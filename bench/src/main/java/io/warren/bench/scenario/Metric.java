package io.warren.bench.scenario;

/** One figure a scenario reports, e.g. "msg/s" (higher is better) or "p99 ms" (lower is better). */
public record Metric(String name, boolean higherIsBetter) {
  public static Metric higher(String name) {
    return new Metric(name, true);
  }

  public static Metric lower(String name) {
    return new Metric(name, false);
  }

  /** Reported for every scenario by the harness: the broker's highest RSS while it ran. */
  public static final Metric PEAK_RSS_MIB = lower("peak RSS MiB");
}
