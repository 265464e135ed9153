package io.warren.bench.probe;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples a process's RSS on a daemon thread while a scenario runs and keeps the highest value:
 * the end-of-run figure alone would miss what a broker needed at its busiest.
 */
public final class PeakRss implements AutoCloseable {
  private static final long INTERVAL_MS = 250;

  private final long pid;
  private final AtomicLong peakKib = new AtomicLong(-1);
  private final Thread sampler;
  private volatile boolean running = true;

  public PeakRss(long pid) {
    this.pid = pid;
    this.sampler = new Thread(this::sample, "peak-rss-" + pid);
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sample() {
    while (running) {
      Rss.kib(pid).ifPresent(kib -> peakKib.accumulateAndGet(kib, Math::max));
      try {
        Thread.sleep(INTERVAL_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Highest RSS seen so far in KiB, or -1 when the process could not be read. */
  public long peakKib() {
    Rss.kib(pid).ifPresent(kib -> peakKib.accumulateAndGet(kib, Math::max));
    return peakKib.get();
  }

  @Override
  public void close() {
    running = false;
    sampler.interrupt();
  }
}
