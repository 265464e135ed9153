package io.warren.bench.scenario;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fills one queue with {@link RunContext#backlogMessages()} 16-byte transient messages while no
 * one consumes, measures the broker's memory when full, then drains it with one consumer
 * (prefetch 1000, a multiple ack every 100). The size is fixed, not the time: it takes what it
 * takes (tens of seconds for 1,000,000).
 *
 * <p>Fill ends when the broker's queue.declare-ok counts every message, not when the client has
 * written them: a broker that buffers in its sockets must not look faster than one that enqueued.
 */
final class Backlog implements Scenario {
  private static final Metric FILL_S = Metric.higher("fill msg/s");
  private static final Metric DRAIN_S = Metric.higher("drain msg/s");
  private static final Metric RSS_FULL = Metric.lower("RSS when full MiB");
  private static final Metric HEAP_FULL = Metric.lower("heap after GC when full MiB");
  /** No progress for this long is a failure, not a slow broker. */
  private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final int PREFETCH = 1000;
  private static final int ACK_EVERY = 100;

  @Override
  public String name() {
    return "backlog";
  }

  @Override
  public String description() {
    return "fill one queue with N 16-byte messages, no consumer; then drain it with one consumer"
        + " (prefetch " + PREFETCH + ", multi-ack every " + ACK_EVERY + ")";
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
    try (Connection producer = ctx.factory().newConnection("warren-bench-backlog-producer");
        Connection consumer = ctx.factory().newConnection("warren-bench-backlog-consumer")) {
      Channel ch = producer.createChannel();
      ch.queueDeclare(queue, false, false, false, null);
      byte[] body = new byte[16];
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        ch.basicPublish("", queue, null, body);
      }
      awaitCount(producer.createChannel(), queue, n);
      double fillSeconds = (System.nanoTime() - t0) / 1e9;
      figures.put(FILL_S, n / fillSeconds);

      OptionalLong heap = ctx.heapAfterGcKib(); // first: a GC may also shrink RSS a little
      OptionalLong rss = ctx.rssKib();
      rss.ifPresent(kib -> figures.put(RSS_FULL, kib / 1024.0));
      heap.ifPresent(kib -> figures.put(HEAP_FULL, kib / 1024.0));

      figures.put(DRAIN_S, n / drain(consumer.createChannel(), queue, n));
      return figures;
    } finally {
      Cleanup.delete(ctx, List.of(queue), List.of());
    }
  }

  private static void awaitCount(Channel ch, String queue, int n) throws IOException, InterruptedException {
    long lastCount = -1;
    long lastProgress = System.nanoTime();
    while (true) {
      long count = ch.queueDeclarePassive(queue).getMessageCount();
      if (count >= n) {
        return;
      }
      if (count != lastCount) {
        lastCount = count;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > STALL_NANOS) {
        throw new IOException("the queue holds " + count + " of " + n
            + " messages and has not grown for 60 s");
      }
      Thread.sleep(20);
    }
  }

  /** Seconds from basic.consume until the last of {@code n} deliveries. */
  private static double drain(Channel ch, String queue, int n) throws IOException, InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong received = new AtomicLong();
    ch.basicQos(PREFETCH);
    long t0 = System.nanoTime();
    ch.basicConsume(queue, false, new DefaultConsumer(ch) {
      @Override
      public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
          throws IOException {
        long count = received.incrementAndGet();
        if (count % ACK_EVERY == 0 || count == n) {
          getChannel().basicAck(env.getDeliveryTag(), true);
        }
        if (count == n) {
          done.countDown();
        }
      }
    });
    long last = -1;
    long lastProgress = System.nanoTime();
    while (!done.await(1, TimeUnit.SECONDS)) {
      long now = received.get();
      if (now != last) {
        last = now;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > STALL_NANOS) {
        throw new IOException("drain stalled at " + now + " of " + n + " messages for 60 s");
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
