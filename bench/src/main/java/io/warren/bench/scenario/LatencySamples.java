package io.warren.bench.scenario;

import io.warren.bench.report.Stats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One fixed-rate latency run of our own drivers: {@value #RATE} messages of {@value #MESSAGE_BYTES}
 * bytes a second, each carrying its index and send time ({@link System#nanoTime()}); one latency per
 * message, read the way the harness reads PerfTest's latency runs (each second's p50 and p99 after
 * the warm-up, then the median over seconds). Runs as long as PerfTest's latency runs do.
 */
final class LatencySamples {
  static final int RATE = 1000;
  static final int MESSAGE_BYTES = 16;

  /** Sends one message's bytes. */
  interface Sender {
    void send(byte[] message) throws IOException;
  }

  private final long[] nanos;
  private final int warmupSeconds;
  private final CountDownLatch received;

  LatencySamples(RunContext ctx) {
    int seconds = ctx.durationSeconds() + RunContext.LATENCY_EXTRA_WARMUP_SECONDS;
    this.nanos = new long[seconds * RATE];
    this.warmupSeconds = ctx.warmupSeconds() + RunContext.LATENCY_EXTRA_WARMUP_SECONDS;
    this.received = new CountDownLatch(nanos.length);
  }

  /** Sends every message at its time (message i is due i / rate seconds after the first). */
  void sendAll(Sender sender) throws IOException {
    FixedRate pace = new FixedRate(RATE);
    for (int i = 0; i < nanos.length; i++) {
      pace.awaitTurn(i);
      byte[] message = new byte[MESSAGE_BYTES];
      ByteBuffer.wrap(message).putInt(i).putLong(System.nanoTime());
      sender.send(message);
    }
  }

  /** Records a message that arrived now; called by one consumer thread. */
  void arrived(ByteBuffer message) {
    long now = System.nanoTime();
    int index = message.getInt();
    nanos[index] = now - message.getLong();
    received.countDown();
  }

  boolean complete() {
    return received.getCount() == 0;
  }

  /** Waits for the last messages, then gives p50 and p99 (medians over the steady seconds). */
  Map<Metric, Double> figures() throws InterruptedException {
    if (!received.await(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(received.getCount() + " messages did not arrive");
    }
    Map<Metric, Double> figures = new LinkedHashMap<>();
    figures.put(PerfTestScenario.P50_MS, medianOfSeconds(0.50));
    figures.put(PerfTestScenario.P99_MS, medianOfSeconds(0.99));
    return figures;
  }

  private double medianOfSeconds(double quantile) {
    List<Double> perSecondMs = new ArrayList<>();
    for (int s = warmupSeconds; s < nanos.length / RATE; s++) {
      long[] second = Arrays.copyOfRange(nanos, s * RATE, (s + 1) * RATE);
      Arrays.sort(second);
      perSecondMs.add(second[(int) Math.ceil(second.length * quantile) - 1] / 1e6);
    }
    return Stats.median(perSecondMs);
  }
}
