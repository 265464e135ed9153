package io.warren.bench.scenario;

import java.util.Map;

/**
 * One workload, run once per broker per round. A run declares what it needs under names of its
 * own ({@link RunContext#name}) and deletes it before it returns, whatever happens.
 */
public interface Scenario {
  String name();

  /** One line for the report: what runs and what is measured. */
  String description();

  /** Figures of this run, in the order they should be shown; a missing metric shows as "-". */
  Map<Metric, Double> run(RunContext ctx) throws Exception;

  /**
   * True when the broker comes out of a run in a state that would distort the next one (a VM that
   * grew by gigabytes keeps much of it): the harness then restarts a broker it started.
   */
  default boolean restartBrokerAfter() {
    return false;
  }
}
