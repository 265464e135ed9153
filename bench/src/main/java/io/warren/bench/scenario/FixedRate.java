package io.warren.bench.scenario;

import java.util.concurrent.locks.LockSupport;

/** Paces a sender: message i is due i / rate seconds after the start, whatever the ones before did. */
final class FixedRate {
  private final long start = System.nanoTime();
  private final long intervalNanos;

  FixedRate(int perSecond) {
    this.intervalNanos = 1_000_000_000L / perSecond;
  }

  /** Parks until message {@code i} is due. */
  void awaitTurn(int i) {
    long due = start + i * intervalNanos;
    for (long wait; (wait = due - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(wait);
    }
  }
}
