package io.warren.bench.scenario;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
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
import java.util.concurrent.atomic.LongAdder;

/**
 * Delayed retries through dead-lettering, the way applications build them on RabbitMQ: one
 * producer publishes 16-byte messages to a work exchange; the work queue's consumer (manual ack,
 * prefetch {@value #PREFETCH}) rejects (requeue=false) every other message on its first arrival;
 * the work queue dead-letters it to a retry exchange, whose queue keeps it for a message TTL of
 * {@value #RETRY_TTL_MS} ms and dead-letters it back to the work exchange; on its second arrival it
 * carries an x-death header and is acked. Measures completed (acked) messages a second: what
 * rejection, dead-lettering (twice per retried message) and expiry cost on top of plain delivery.
 *
 * <p>At most {@value #IN_FLIGHT} messages are between publish and final ack at once (the producer
 * waits for completions), so neither broker just buffers. That caps the rate near IN_FLIGHT / 50 ms
 * (half the messages wait out the TTL), 200,000 msg/s, far above what 2 cores reach. Each body
 * carries its index: after the run the driver checks that every message was acked exactly once and
 * that each message arriving a second time carried x-death, and warns otherwise, so lost or
 * mislabelled dead letters cannot pass for speed.
 */
final class DlxRetry implements Scenario {
  static final int PREFETCH = 100;
  static final int IN_FLIGHT = 10_000;
  static final int RETRY_TTL_MS = 100;
  private static final String KEY = "task";
  private static final Metric COMPLETED_S = Metric.higher("completed msg/s");

  @Override
  public String name() {
    return "dlx-retry";
  }

  @Override
  public String description() {
    return "work queue whose consumer (manual ack, prefetch " + PREFETCH + ") rejects every other"
        + " message once; dead-lettered to a retry queue with a " + RETRY_TTL_MS + " ms TTL that"
        + " dead-letters back; 1 producer of 16-byte messages, at most " + IN_FLIGHT + " in flight";
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    String work = ctx.name("work");
    String retry = ctx.name("retry");
    String workQueue = ctx.name("work-q");
    String retryQueue = ctx.name("retry-q");
    Semaphore window = new Semaphore(IN_FLIGHT);
    AtomicLong published = new AtomicLong();
    List<Connection> connections = new ArrayList<>();
    try {
      Connection setup = ctx.factory().newConnection("warren-bench-dlx-setup");
      connections.add(setup);
      Channel ch = setup.createChannel();
      ch.exchangeDeclare(work, BuiltinExchangeType.DIRECT, false, false, null);
      ch.exchangeDeclare(retry, BuiltinExchangeType.DIRECT, false, false, null);
      ch.queueDeclare(workQueue, false, false, false, Map.of("x-dead-letter-exchange", retry));
      ch.queueDeclare(retryQueue, false, false, false,
          Map.of("x-dead-letter-exchange", work, "x-message-ttl", RETRY_TTL_MS));
      ch.queueBind(workQueue, work, KEY);
      ch.queueBind(retryQueue, retry, KEY);

      Connection consumer = ctx.factory().newConnection("warren-bench-dlx-consumer");
      connections.add(consumer);
      Channel cc = consumer.createChannel();
      cc.basicQos(PREFETCH);
      Worker worker = new Worker(cc, window);
      cc.basicConsume(workQueue, false, worker);

      Connection producer = ctx.factory().newConnection("warren-bench-dlx-producer");
      connections.add(producer);
      Channel pc = producer.createChannel();
      AtomicBoolean stop = new AtomicBoolean();
      Thread publisher = new Thread(() -> {
        byte[] body = new byte[16];
        try {
          while (!stop.get()) {
            if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
              continue;
            }
            ByteBuffer.wrap(body).putLong(published.get());
            pc.basicPublish(work, KEY, null, body);
            published.lazySet(published.get() + 1); // this thread is the only writer
          }
        } catch (Exception e) {
          System.out.println("[bench] dlx-retry publisher stopped: " + e);
        }
      }, "dlx-publisher");
      publisher.start();

      SteadyRate rate = SteadyRate.sample(ctx, worker.completed::sum);
      stop.set(true);
      publisher.join(10_000);
      SteadyRate.settle(worker.completed::sum, published.get());
      check(ctx, ch, worker, published.get(), workQueue, retryQueue);

      Map<Metric, Double> figures = new LinkedHashMap<>();
      rate.addTo(figures, COMPLETED_S, ctx);
      return figures;
    } finally {
      for (Connection c : connections) {
        try {
          c.close(5_000);
        } catch (Exception ignored) {
          // already closed
        }
      }
      Cleanup.delete(ctx, List.of(workQueue, retryQueue), List.of(work, retry));
    }
  }

  /** Warns about messages never acked, acked twice, or back without (or with an unearned) x-death. */
  private static void check(RunContext ctx, Channel ch, Worker w, long published, String workQueue,
      String retryQueue) {
    String broker = ctx.broker().name();
    long completed = w.completed.sum();
    if (completed < published) {
      String held;
      try {
        held = String.format("the work queue holds %,d, the retry queue %,d",
            ch.queueDeclarePassive(workQueue).getMessageCount(),
            ch.queueDeclarePassive(retryQueue).getMessageCount());
      } catch (IOException e) {
        held = "queue counts unavailable: " + e;
      }
      System.out.printf("[bench] WARNING dlx-retry on %s: %,d of %,d published messages were never"
          + " acked (%,d rejected, %,d back from the retry queue; %s)%n", broker,
          published - completed, published, w.rejected.sum(), w.retried.sum(), held);
    }
    warnIf(w.duplicates.sum(), "arrived again after their ack", broker);
    warnIf(w.withoutDeath.sum(), "came back from the retry queue without an x-death header", broker);
    warnIf(w.unearnedDeath.sum(), "carried x-death on their first arrival", broker);
  }

  private static void warnIf(long count, String what, String broker) {
    if (count > 0) {
      System.out.printf("[bench] WARNING dlx-retry on %s: %,d messages %s%n", broker, count, what);
    }
  }

  /** The work queue's consumer; its deliveries come one at a time (one channel). */
  private static final class Worker extends DefaultConsumer {
    final LongAdder completed = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder retried = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder withoutDeath = new LongAdder();
    final LongAdder unearnedDeath = new LongAdder();
    private final Semaphore window;
    private final BitSet wasRejected = new BitSet();
    private final BitSet wasAcked = new BitSet();
    private long firstArrivals;

    Worker(Channel ch, Semaphore window) {
      super(ch);
      this.window = window;
    }

    @Override
    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
        throws IOException {
      int index = (int) ByteBuffer.wrap(body).getLong();
      boolean died = props.getHeaders() != null && props.getHeaders().containsKey("x-death");
      if (wasAcked.get(index)) {
        duplicates.increment();
        getChannel().basicAck(env.getDeliveryTag(), false);
        return;
      }
      boolean retry = wasRejected.get(index);
      if (!died && !retry && firstArrivals++ % 2 == 0) {
        wasRejected.set(index);
        rejected.increment();
        getChannel().basicReject(env.getDeliveryTag(), false);
        return;
      }
      if (retry) {
        retried.increment();
        if (!died) {
          withoutDeath.increment();
        }
      } else if (died) {
        unearnedDeath.increment();
      }
      getChannel().basicAck(env.getDeliveryTag(), false);
      wasAcked.set(index);
      completed.increment();
      window.release();
    }
  }
}
