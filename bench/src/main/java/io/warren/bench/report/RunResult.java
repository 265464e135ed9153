package io.warren.bench.report;

import io.warren.bench.scenario.Metric;
import java.util.Map;

/** One scenario on one broker in one round: its figures, or why there are none. */
public record RunResult(String scenario, String broker, int round, Map<Metric, Double> figures, String error) {
  public boolean failed() {
    return error != null;
  }
}
