package io.warren.bench.scenario;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A topic exchange with {@value #BINDINGS} wildcard bindings over {@value #QUEUES} queues, one
 * auto-ack consumer each, and one producer publishing as fast as it can with routing keys drawn
 * from {@code region.service.level} (50 x 50 x 3 keys). PerfTest publishes one routing key only,
 * which would exercise a single path through the exchange.
 *
 * <p>Bindings and keys come from fixed seeds, so both brokers route exactly the same traffic: about
 * 1.5 deliveries per message, some keys matching nothing. After the run the driver checks that the
 * broker delivered what a reference matcher says it should, which catches a routing bug that would
 * otherwise pass for speed.
 */
final class TopicRouting implements Scenario {
  static final int QUEUES = 10;
  static final int BINDINGS = 300;
  private static final int REGIONS = 50;
  private static final int SERVICES = 50;
  private static final String[] LEVELS = {"info", "warn", "error"};
  private static final Metric PUBLISHED_S = Metric.higher("published msg/s");
  private static final Metric DELIVERIES_S = Metric.higher("deliveries/s");

  private final List<String> patterns = new ArrayList<>();
  private final List<String> keys = new ArrayList<>();
  /** For each key, how many queues a correct broker delivers a message with that key to. */
  private final int[] fanOut;

  TopicRouting() {
    Random r = new Random(42);
    for (int i = 0; i < BINDINGS; i++) {
      if (r.nextDouble() < 0.05) {
        patterns.add("r" + r.nextInt(REGIONS) + ".#");
        continue;
      }
      String region = r.nextDouble() < 0.95 ? "r" + r.nextInt(REGIONS) : "*";
      String service = r.nextDouble() < 0.9 ? "s" + r.nextInt(SERVICES) : "*";
      String level = r.nextDouble() < 0.5 ? LEVELS[r.nextInt(LEVELS.length)] : "*";
      patterns.add(region + "." + service + "." + level);
    }
    for (int region = 0; region < REGIONS; region++) {
      for (int service = 0; service < SERVICES; service++) {
        for (String level : LEVELS) {
          keys.add("r" + region + ".s" + service + "." + level);
        }
      }
    }
    java.util.Collections.shuffle(keys, new Random(7));
    fanOut = new int[keys.size()];
    for (int k = 0; k < keys.size(); k++) {
      boolean[] hit = new boolean[QUEUES];
      for (int b = 0; b < BINDINGS; b++) {
        if (matches(patterns.get(b), keys.get(k))) {
          hit[b % QUEUES] = true;
        }
      }
      for (boolean h : hit) {
        fanOut[k] += h ? 1 : 0;
      }
    }
  }

  @Override
  public String name() {
    return "topic-routing";
  }

  @Override
  public String description() {
    return "topic exchange, " + BINDINGS + " wildcard bindings over " + QUEUES
        + " queues with an auto-ack consumer each, 1 producer of 16-byte messages, 7,500 routing keys";
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    String exchange = ctx.name("x");
    List<String> queues = new ArrayList<>();
    for (int i = 0; i < QUEUES; i++) {
      queues.add(ctx.name("q-" + i));
    }
    LongAdder delivered = new LongAdder();
    List<Connection> connections = new ArrayList<>();
    try {
      Connection setup = ctx.factory().newConnection("warren-bench-topic-setup");
      connections.add(setup);
      Channel ch = setup.createChannel();
      ch.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, false, false, null);
      for (String q : queues) {
        ch.queueDeclare(q, false, false, false, null);
      }
      for (int b = 0; b < BINDINGS; b++) {
        ch.queueBind(queues.get(b % QUEUES), exchange, patterns.get(b));
      }
      for (String q : queues) {
        Connection c = ctx.factory().newConnection("warren-bench-topic-consumer");
        connections.add(c);
        Channel cc = c.createChannel();
        cc.basicConsume(q, true, new DefaultConsumer(cc) {
          @Override
          public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
            delivered.increment();
          }
        });
      }
      Connection producer = ctx.factory().newConnection("warren-bench-topic-producer");
      connections.add(producer);
      Channel pc = producer.createChannel();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong published = new AtomicLong();
      long[] expected = new long[1];
      Thread publisher = new Thread(() -> {
        byte[] body = new byte[16];
        int k = 0;
        try {
          while (!stop.get()) {
            pc.basicPublish(exchange, keys.get(k), null, body);
            expected[0] += fanOut[k];
            published.lazySet(published.get() + 1); // this thread is the only writer
            k = k + 1 == keys.size() ? 0 : k + 1;
          }
        } catch (Exception e) {
          System.out.println("[bench] topic-routing publisher stopped: " + e);
        }
      }, "topic-publisher");
      publisher.start();

      // Deliveries per second, to tell a run that collapsed to a trickle (Collapse).
      List<Double> all = new ArrayList<>();
      long last = 0;
      for (int s = 0; s < ctx.warmupSeconds(); s++) {
        Thread.sleep(1000);
        long now = delivered.sum();
        all.add((double) (now - last));
        last = now;
      }
      long t0 = System.nanoTime();
      long d0 = delivered.sum();
      long p0 = published.get();
      List<Double> steady = new ArrayList<>();
      last = d0;
      for (int s = ctx.warmupSeconds(); s < ctx.durationSeconds(); s++) {
        Thread.sleep(1000);
        long now = delivered.sum();
        steady.add((double) (now - last));
        last = now;
      }
      all.addAll(steady);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long d1 = delivered.sum();
      long p1 = published.get();
      stop.set(true);
      publisher.join(10_000);

      checkDelivered(ctx, delivered, expected[0]);
      Map<Metric, Double> figures = new LinkedHashMap<>();
      figures.put(DELIVERIES_S, (d1 - d0) / seconds);
      figures.put(PUBLISHED_S, (p1 - p0) / seconds);
      boolean collapsed = Collapse.collapsed(all, steady);
      if (collapsed) {
        System.out.printf("[bench] %s collapsed to a trickle (deliveries per second: %s); counted, not run again%n",
            ctx.runId(), steady);
      }
      figures.put(Collapse.COLLAPSED_RUNS, collapsed ? 1.0 : 0.0);
      return figures;
    } finally {
      for (Connection c : connections) {
        try {
          c.close(5_000);
        } catch (Exception ignored) {
          // already closed
        }
      }
      Cleanup.delete(ctx, queues, List.of(exchange));
    }
  }

  /** Waits for deliveries to settle and warns when they differ from the reference matcher's count. */
  private static void checkDelivered(RunContext ctx, LongAdder delivered, long expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long last = -1;
    while (System.nanoTime() < deadline) {
      long now = delivered.sum();
      if (now == expected || now == last) {
        break;
      }
      last = now;
      Thread.sleep(1_000);
    }
    long got = delivered.sum();
    if (got != expected) {
      System.out.printf("[bench] WARNING topic-routing on %s: %,d deliveries, a correct topic exchange"
          + " makes %,d (%s)%n", ctx.broker().name(), got, expected,
          got < expected ? "lost or still queued" : "too many: wrong routing");
    }
  }

  /** Reference AMQP topic matching: '*' is one word, '#' zero or more. */
  static boolean matches(String pattern, String key) {
    return matches(pattern.split("\\."), 0, key.split("\\."), 0);
  }

  private static boolean matches(String[] p, int i, String[] k, int j) {
    if (i == p.length) {
      return j == k.length;
    }
    if (p[i].equals("#")) {
      for (int skip = j; skip <= k.length; skip++) {
        if (matches(p, i + 1, k, skip)) {
          return true;
        }
      }
      return false;
    }
    return j < k.length && (p[i].equals("*") || p[i].equals(k[j])) && matches(p, i + 1, k, j + 1);
  }
}
