package io.warren.bench.scenario;

import com.rabbitmq.client.ConnectionFactory;
import io.warren.bench.broker.AmqpProbe;
import io.warren.bench.broker.Broker;
import io.warren.bench.probe.CpuTime;
import io.warren.bench.probe.JvmHeap;
import io.warren.bench.probe.Rss;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What one run of one scenario on one broker gets: the broker, a prefix that makes its queue and
 * exchange names unique, its duration and where to write logs.
 */
public record RunContext(
    Broker broker,
    String runId,
    int durationSeconds,
    int warmupSeconds,
    int backlogMessages,
    int idleConnections,
    Path logDir,
    SubprocessGuard subprocesses) {

  /**
   * Latency scenarios run this much longer and leave it out: a fresh PerfTest JVM compiles code for
   * its first 10-15 s, and on 2 cores the compiler threads delay the consumer thread by a few ms
   * many times a second. Those stalls set each second's p99 then, the same with either broker
   * (measured: per-second p99 1.5-3.8 ms in the first seconds, 0.15-0.3 ms after, broker at 3% CPU).
   */
  public static final int LATENCY_EXTRA_WARMUP_SECONDS = 8;

  /** A queue or exchange name of this run's own, e.g. {@code bench.transient-1q.warren.r2.q}. */
  public String name(String suffix) {
    return "bench." + runId + "." + suffix;
  }

  public ConnectionFactory factory() {
    return AmqpProbe.factory(broker.port());
  }

  public OptionalLong rssKib() {
    OptionalLong pid = broker.pid();
    return pid.isPresent() ? Rss.kib(pid.getAsLong()) : OptionalLong.empty();
  }

  /** CPU seconds the broker process has used so far (all threads). */
  public OptionalDouble cpuSeconds() {
    OptionalLong pid = broker.pid();
    return pid.isPresent() ? CpuTime.seconds(pid.getAsLong()) : OptionalDouble.empty();
  }

  /** Heap after a full GC when the broker is a JVM (Warren); empty for RabbitMQ. */
  public OptionalLong heapAfterGcKib() {
    OptionalLong pid = broker.pid();
    if (pid.isEmpty() || !JvmHeap.isJvm(pid.getAsLong())) {
      return OptionalLong.empty();
    }
    return JvmHeap.usedAfterGcKib(pid.getAsLong());
  }
}
