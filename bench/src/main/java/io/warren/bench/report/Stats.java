package io.warren.bench.report;

import java.util.Collection;
import java.util.List;

/** Medians: on a 2-core machine saturated runs swing widely, and one outlier must not decide. */
public final class Stats {
  private Stats() {}

  public static double median(Collection<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  public static double mean(Collection<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }
}
