package io.warren.bench.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A running counter of an own driver sampled once a second for the run's duration: its rate over
 * the steady seconds (the warm-up left out, as with PerfTest) and whether the run collapsed to a
 * trickle ({@link Collapse}), for the drivers that run saturated for a fixed time.
 */
record SteadyRate(double perSecond, boolean collapsed, List<Double> steady) {
  /** Blocks for {@link RunContext#durationSeconds()} while the load runs. */
  static SteadyRate sample(RunContext ctx, LongSupplier counter) throws InterruptedException {
    List<Double> all = new ArrayList<>();
    List<Double> steady = new ArrayList<>();
    long last = counter.getAsLong();
    long t0 = System.nanoTime();
    long c0 = last;
    for (int s = 0; s < ctx.durationSeconds(); s++) {
      if (s == ctx.warmupSeconds()) {
        t0 = System.nanoTime();
        c0 = last;
      }
      Thread.sleep(1000);
      long now = counter.getAsLong();
      (s < ctx.warmupSeconds() ? all : steady).add((double) (now - last));
      last = now;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    all.addAll(steady);
    return new SteadyRate((last - c0) / seconds, Collapse.collapsed(all, steady), steady);
  }

  /**
   * After the load stopped: waits until {@code done} reaches {@code target}, or has not moved for 5 s
   * (30 s at most), so that the checks after a run see what was still under way.
   */
  static void settle(LongSupplier done, long target) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long last = -1;
    long lastProgress = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long now = done.getAsLong();
      if (now >= target) {
        return;
      }
      if (now != last) {
        last = now;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > 5_000_000_000L) {
        return;
      }
      Thread.sleep(100);
    }
  }

  /** Puts the rate under {@code metric} and the collapse count into {@code figures}. */
  void addTo(Map<Metric, Double> figures, Metric metric, RunContext ctx) {
    figures.put(metric, perSecond);
    if (collapsed) {
      System.out.printf("[bench] %s collapsed to a trickle (per second: %s); counted, not run again%n",
          ctx.runId(), steady);
    }
    figures.put(Collapse.COLLAPSED_RUNS, collapsed ? 1.0 : 0.0);
  }
}
