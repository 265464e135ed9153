package io.warren.bench.scenario;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fills one queue with a message TTL of {@value #TTL_MS} ms (x-message-ttl) and no consumer with
 * {@link RunContext#backlogMessages()} 16-byte transient messages, measures the broker's memory
 * when full, then waits until every message has expired: how fast does a broker drop a backlog of
 * messages nobody will read, and does it keep the time?
 *
 * <p>Fill ends when the broker has confirmed every publish (confirm mode, a single wait at the end),
 * not when the queue counts N as in {@link Backlog}: a fill that takes longer than the TTL (it may,
 * with 1,000,000 messages) never sees N. RSS (and heap) when full are left out, with a note, when
 * the queue no longer held all N messages by then.
 *
 * <p>Expiry is read from the queue's message count (queue.declare passive every 20 ms) from the
 * moment the first message was due (TTL after the first publish) until it reads 0; expiry msg/s is N
 * over that time. A broker that drops each message exactly when due shows the fill rate there
 * (messages fall due as fast as they came in); less means expiry falls behind, and expiry lag s says
 * how long after the last message was due (TTL after the client wrote it) the queue read empty. A
 * queue that has not shrunk for 60 s after the first was due fails the run; one empty before the
 * last message was due gets a warning (messages expired early).
 */
final class TtlExpiry implements Scenario {
  static final int TTL_MS = 10_000;
  private static final long TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(TTL_MS);
  private static final Metric FILL_S = Metric.higher("fill msg/s");
  private static final Metric RSS_FULL = Metric.lower("RSS when full MiB");
  private static final Metric HEAP_FULL = Metric.lower("heap after GC when full MiB");
  private static final Metric EXPIRY_S = Metric.higher("expiry msg/s");
  private static final Metric LAG_S = Metric.lower("expiry lag s");
  /** No progress for this long is a failure, not a slow broker. */
  private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(60);
  /** Expired this much before the last message was due: a clock's jitter at most, else early. */
  private static final long EARLY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  @Override
  public String name() {
    return "ttl-expiry";
  }

  @Override
  public String description() {
    return "fill one queue with x-message-ttl " + TTL_MS + " ms with N 16-byte messages (confirmed),"
        + " no consumer; then wait until all have expired";
  }

  @Override
  public boolean restartBrokerAfter() {
    return true;
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    String queue = ctx.name("q");
    int n = ctx.backlogMessages();
    Map<Metric, Double> figures = new LinkedHashMap<>();
    try (Connection producer = ctx.factory().newConnection("warren-bench-ttl-producer")) {
      Channel ch = producer.createChannel();
      ch.queueDeclare(queue, false, false, false, Map.of("x-message-ttl", TTL_MS));
      ch.confirmSelect();
      byte[] body = new byte[16];
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        ch.basicPublish("", queue, null, body);
      }
      long written = System.nanoTime();
      try {
        ch.waitForConfirmsOrDie(TimeUnit.NANOSECONDS.toMillis(STALL_NANOS));
      } catch (TimeoutException e) {
        throw new IOException("not every publish was confirmed 60 s after the last was written");
      }
      double fillSeconds = (System.nanoTime() - t0) / 1e9;
      figures.put(FILL_S, n / fillSeconds);

      Channel counter = producer.createChannel();
      long held = counter.queueDeclarePassive(queue).getMessageCount();
      if (held >= n) {
        OptionalLong heap = ctx.heapAfterGcKib(); // first: a GC may also shrink RSS a little
        OptionalLong rss = ctx.rssKib();
        rss.ifPresent(kib -> figures.put(RSS_FULL, kib / 1024.0));
        heap.ifPresent(kib -> figures.put(HEAP_FULL, kib / 1024.0));
      } else {
        System.out.printf("[bench] %s: the queue held %,d of %,d messages once all were confirmed"
            + " (fill took %.1f s, TTL %.0f s); no RSS when full%n", ctx.runId(), held, n, fillSeconds,
            TTL_MS / 1e3);
      }

      long firstDue = t0 + TTL_NANOS;
      long lastDue = written + TTL_NANOS;
      long empty = awaitEmpty(counter, queue, n, firstDue);
      if (empty < lastDue - EARLY_NANOS) {
        System.out.printf("[bench] WARNING ttl-expiry on %s: the queue was empty %.3f s before its"
            + " last message was due to expire (TTL %d ms): messages expired early%n",
            ctx.broker().name(), (lastDue - empty) / 1e9, TTL_MS);
      }
      if (empty > firstDue) {
        figures.put(EXPIRY_S, n / ((empty - firstDue) / 1e9));
      }
      figures.put(LAG_S, (empty - lastDue) / 1e9);
      return figures;
    } finally {
      Cleanup.delete(ctx, List.of(queue), List.of());
    }
  }

  /** When the queue's count first read 0; fails after 60 s without a message expiring once due. */
  private static long awaitEmpty(Channel ch, String queue, int n, long firstDue)
      throws IOException, InterruptedException {
    long lastCount = -1;
    long lastProgress = 0;
    while (true) {
      long count = ch.queueDeclarePassive(queue).getMessageCount();
      long now = System.nanoTime();
      if (count == 0) {
        return now;
      }
      if (count != lastCount) {
        lastCount = count;
        lastProgress = Math.max(now, firstDue);
      } else if (now - lastProgress > STALL_NANOS) {
        throw new IOException(String.format("the queue still holds %,d of %,d messages %.0f s after"
            + " the first was due to expire (x-message-ttl %d ms) and has not shrunk for 60 s",
            count, n, (now - firstDue) / 1e9, TTL_MS));
      }
      Thread.sleep(20);
    }
  }
}
