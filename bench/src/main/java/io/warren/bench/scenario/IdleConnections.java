package io.warren.bench.scenario;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.nio.NioParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Opens {@link RunContext#idleConnections()} connections with one channel each and leaves them
 * idle (default heartbeats): what does a connection cost the broker? The client uses NIO with two
 * threads so that it does not need a thread per connection.
 */
final class IdleConnections implements Scenario {
  private static final Metric RSS_PER_CONN = Metric.lower("RSS per conn KiB");
  private static final Metric HEAP_PER_CONN = Metric.lower("heap per conn KiB");
  private static final Metric OPENED_S = Metric.higher("opened conn/s");
  private static final long SETTLE_MS = 2_000;

  @Override
  public boolean restartBrokerAfter() {
    return true;
  }

  @Override
  public String name() {
    return "idle-connections";
  }

  @Override
  public String description() {
    return "open N connections with a channel each, sequentially; broker memory per connection";
  }

  /**
   * Waits until the broker's RSS stops moving (within 1 MiB over 2 s, 30 s at most): memory still
   * being returned after the previous scenario would be taken off the connections' cost.
   */
  private static void awaitSteadyRss(RunContext ctx) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long previous = -1;
    int steady = 0;
    while (steady < 4 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      long now = ctx.rssKib().orElse(-1);
      steady = Math.abs(now - previous) < 1024 ? steady + 1 : 0;
      previous = now;
    }
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    int n = ctx.idleConnections();
    awaitSteadyRss(ctx);
    OptionalLong heap0 = ctx.heapAfterGcKib();
    OptionalLong rss0 = ctx.rssKib();

    ConnectionFactory f = ctx.factory();
    f.useNio();
    f.setNioParams(new NioParams().setNbIoThreads(2));
    List<Connection> open = new ArrayList<>(n);
    Map<Metric, Double> figures = new LinkedHashMap<>();
    try {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Connection c = f.newConnection("warren-bench-idle-" + i);
        open.add(c);
        c.createChannel();
      }
      double openSeconds = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(SETTLE_MS);
      OptionalLong heap1 = ctx.heapAfterGcKib();
      OptionalLong rss1 = ctx.rssKib();
      if (rss0.isPresent() && rss1.isPresent()) {
        figures.put(RSS_PER_CONN, (rss1.getAsLong() - rss0.getAsLong()) / (double) n);
      }
      if (heap0.isPresent() && heap1.isPresent()) {
        figures.put(HEAP_PER_CONN, (heap1.getAsLong() - heap0.getAsLong()) / (double) n);
      }
      figures.put(OPENED_S, n / openSeconds);
      return figures;
    } finally {
      for (Connection c : open) {
        try {
          c.close(5_000);
        } catch (Exception e) {
          c.abort(1_000);
        }
      }
    }
  }
}
