package io.warren.bench.scenario;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * latency-fixed-rate with a client that does nothing else (own driver, in the harness's JVM): one
 * thread publishes a 16-byte message every millisecond on one connection, an auto-ack consumer on a
 * second connection takes the time on arrival. PerfTest's own stalls (its metrics, compiler and
 * rate limiter share the 2 cores) set most of its per-second p99s; this shows the brokers' latency
 * without them. {@link LoopbackFloor} is the same path with no broker in it.
 */
final class LeanLatency implements Scenario {
  @Override
  public String name() {
    return "latency-lean";
  }

  @Override
  public String description() {
    return "as latency-fixed-rate with a lean client of our own instead of PerfTest (median of"
        + " per-second p50 and p99)";
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    LatencySamples samples = new LatencySamples(ctx);
    String queue = ctx.name("q");
    try (Connection producer = ctx.factory().newConnection(ctx.runId() + "-producer");
        Connection consumer = ctx.factory().newConnection(ctx.runId() + "-consumer")) {
      Channel in = consumer.createChannel();
      in.queueDeclare(queue, false, false, false, null);
      in.basicConsume(queue, true, (tag, d) -> samples.arrived(ByteBuffer.wrap(d.getBody())), tag -> {});
      Channel out = producer.createChannel();
      samples.sendAll(message -> out.basicPublish("", queue, null, message));
      return samples.figures();
    } finally {
      Cleanup.delete(ctx, List.of(queue), List.of());
    }
  }
}
