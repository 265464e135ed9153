package io.warren.bench.scenario;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A priority queue (x-max-priority {@value #PRIORITIES}): one producer publishes 16-byte messages
 * with priorities cycling 0..9, one consumer (manual ack, prefetch {@value #PREFETCH}, a multiple
 * ack every {@value #ACK_EVERY}) receives them for the duration. Measures received msg/s: what a
 * broker's priority lanes cost (compare manual-ack-prefetch, the same consumer on a plain queue).
 *
 * <p>At most {@value #IN_FLIGHT} messages are between publish and delivery (the producer waits for
 * the consumer), so neither broker just buffers, and beyond the consumer's prefetch the queue holds
 * a few hundred messages to choose from by priority. Publisher confirms would bound only what the
 * broker has not enqueued yet, not the queue. Each body carries its index: after the run the driver
 * checks that every message arrived once, with the priority it was sent with, and that priority 9
 * waited less than priority 0 when the queue had a backlog, and warns otherwise, so a broker that
 * ignored priorities cannot pass for fast.
 */
final class Priority10 implements Scenario {
  static final int PRIORITIES = 10;
  static final int PREFETCH = 100;
  static final int ACK_EVERY = 10;
  static final int IN_FLIGHT = 1_000;
  private static final Metric RECEIVED_S = Metric.higher("received msg/s");

  @Override
  public String name() {
    return "priority-10";
  }

  @Override
  public String description() {
    return "queue with x-max-priority " + PRIORITIES + ", 1 producer of 16-byte messages with"
        + " priorities 0..9 in turn, 1 consumer (manual ack, prefetch " + PREFETCH + ", multi-ack every "
        + ACK_EVERY + "), at most " + IN_FLIGHT + " messages in flight";
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    String queue = ctx.name("q");
    Semaphore window = new Semaphore(IN_FLIGHT);
    AtomicLong published = new AtomicLong();
    List<Connection> connections = new ArrayList<>();
    try {
      Connection consumer = ctx.factory().newConnection("warren-bench-priority-consumer");
      connections.add(consumer);
      Channel cc = consumer.createChannel();
      cc.queueDeclare(queue, false, false, false, Map.of("x-max-priority", PRIORITIES));
      cc.basicQos(PREFETCH);
      Receiver receiver = new Receiver(cc, window, published);
      cc.basicConsume(queue, false, receiver);

      Connection producer = ctx.factory().newConnection("warren-bench-priority-producer");
      connections.add(producer);
      Channel pc = producer.createChannel();
      AMQP.BasicProperties[] props = new AMQP.BasicProperties[PRIORITIES];
      for (int p = 0; p < PRIORITIES; p++) {
        props[p] = new AMQP.BasicProperties.Builder().priority(p).build();
      }
      AtomicBoolean stop = new AtomicBoolean();
      Thread publisher = new Thread(() -> {
        byte[] body = new byte[16];
        try {
          while (!stop.get()) {
            if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
              continue;
            }
            long i = published.get();
            ByteBuffer.wrap(body).putLong(i);
            pc.basicPublish("", queue, props[(int) (i % PRIORITIES)], body);
            published.lazySet(i + 1); // this thread is the only writer
          }
        } catch (Exception e) {
          System.out.println("[bench] priority-10 publisher stopped: " + e);
        }
      }, "priority-publisher");
      publisher.start();

      SteadyRate rate = SteadyRate.sample(ctx, receiver.received::sum);
      stop.set(true);
      publisher.join(10_000);
      SteadyRate.settle(receiver.received::sum, published.get());
      check(ctx, receiver, published.get());

      Map<Metric, Double> figures = new LinkedHashMap<>();
      rate.addTo(figures, RECEIVED_S, ctx);
      return figures;
    } finally {
      for (Connection c : connections) {
        try {
          c.close(5_000);
        } catch (Exception ignored) {
          // already closed
        }
      }
      Cleanup.delete(ctx, List.of(queue), List.of());
    }
  }

  private static void check(RunContext ctx, Receiver r, long published) {
    String broker = ctx.broker().name();
    long received = r.received.sum();
    if (received < published) {
      System.out.printf("[bench] WARNING priority-10 on %s: %,d of %,d published messages never"
          + " arrived%n", broker, published - received, published);
    }
    if (r.duplicates.sum() > 0) {
      System.out.printf("[bench] WARNING priority-10 on %s: %,d messages arrived twice%n", broker,
          r.duplicates.sum());
    }
    if (r.wrongPriority.sum() > 0) {
      System.out.printf("[bench] WARNING priority-10 on %s: %,d messages arrived with another priority"
          + " than they were sent with%n", broker, r.wrongPriority.sum());
    }
    double[] wait = new double[PRIORITIES];
    double all = 0;
    for (int p = 0; p < PRIORITIES; p++) {
      wait[p] = r.waited.get(p) / (double) Math.max(1, r.count.get(p));
      all += wait[p] / PRIORITIES;
    }
    // A backlog to choose from (more than the prefetch waiting on average), and no preference shown.
    if (all > 2 * PREFETCH && wait[PRIORITIES - 1] >= wait[0]) {
      System.out.printf("[bench] WARNING priority-10 on %s: priority 9 waited no less than priority 0"
          + " (%.0f vs %.0f messages published meanwhile, on average): priorities ignored?%n",
          broker, wait[PRIORITIES - 1], wait[0]);
    }
  }

  /** The consumer; its deliveries come one at a time (one channel). */
  private static final class Receiver extends DefaultConsumer {
    final LongAdder received = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder wrongPriority = new LongAdder();
    /** Per priority: messages received, and how many were published after each (summed). */
    final AtomicLongArray count = new AtomicLongArray(PRIORITIES);
    final AtomicLongArray waited = new AtomicLongArray(PRIORITIES);
    private final Semaphore window;
    private final AtomicLong published;
    private final BitSet seen = new BitSet();
    private long deliveries;

    Receiver(Channel ch, Semaphore window, AtomicLong published) {
      super(ch);
      this.window = window;
      this.published = published;
    }

    @Override
    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
        throws IOException {
      if (++deliveries % ACK_EVERY == 0) {
        getChannel().basicAck(env.getDeliveryTag(), true);
      }
      long index = ByteBuffer.wrap(body).getLong();
      if (seen.get((int) index)) {
        duplicates.increment();
        return;
      }
      seen.set((int) index);
      int sent = (int) (index % PRIORITIES);
      Integer priority = props.getPriority();
      if (priority == null || priority != sent) {
        wrongPriority.increment();
      }
      count.incrementAndGet(sent);
      waited.addAndGet(sent, Math.max(0, published.get() - index - 1));
      received.increment();
      window.release();
    }
  }
}
