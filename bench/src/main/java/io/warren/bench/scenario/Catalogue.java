package io.warren.bench.scenario;

import static io.warren.bench.scenario.PerfTestScenario.Measure.DELIVERY_RATE;
import static io.warren.bench.scenario.PerfTestScenario.Measure.LATENCY;
import static io.warren.bench.scenario.PerfTestScenario.Measure.RECEIVED_RATE;

import java.util.List;

/** Every scenario, in the order they run. Names are what {@code --scenarios} takes. */
public final class Catalogue {
  private Catalogue() {}

  public static List<Scenario> all() {
    return List.of(
        // First, on a freshly started broker (and restarted after): a JVM's RSS does not shrink
        // after earlier load, so later in a round the per-connection cost would read as zero.
        new IdleConnections(),
        new PerfTestScenario("transient-1q",
            "1 producer, 1 consumer, one queue, 16-byte transient messages, auto-ack",
            1, RECEIVED_RATE, "-x", "1", "-y", "1", "-s", "16", "--autoack"),
        new PerfTestScenario("transient-1q-1kb",
            "as transient-1q with 1 KiB bodies",
            1, RECEIVED_RATE, "-x", "1", "-y", "1", "-s", "1024", "--autoack"),
        new PerfTestScenario("manual-ack-prefetch",
            "1 producer, 1 consumer, 16 bytes, manual ack, prefetch 100, multiple ack every 10",
            1, RECEIVED_RATE, "-x", "1", "-y", "1", "-s", "16", "--qos", "100", "--multi-ack-every", "10"),
        new PerfTestScenario("persistent-confirm",
            "durable queue, persistent 16-byte messages, confirms with 100 outstanding, manual ack"
                + " (prefetch 100)",
            1, RECEIVED_RATE, "-x", "1", "-y", "1", "-s", "16", "--flag", "persistent",
            "--confirm", "100", "--qos", "100"),
        new PerfTestScenario("fanout-10",
            "1 producer, fanout exchange to 10 queues with an auto-ack consumer each, 16 bytes",
            10, DELIVERY_RATE, "-x", "1", "-y", "10", "--type", "fanout", "-s", "16", "--autoack"),
        new PerfTestScenario("multi-4q",
            "4 queues, each with 1 producer and 1 auto-ack consumer, 16 bytes",
            4, RECEIVED_RATE, "-x", "4", "-y", "4", "-s", "16", "--autoack"),
        new TopicRouting(),
        new PerfTestScenario("many-queues",
            "100 queues, 100 producers at 10 msg/s each, 100 auto-ack consumers, 16 bytes",
            100, LATENCY, "-x", "100", "-y", "100", "--rate", "10", "-s", "16", "--autoack"),
        new PerfTestScenario("latency-fixed-rate",
            "1 producer at 1,000 msg/s, 1 auto-ack consumer, 16 bytes",
            1, LATENCY, "-x", "1", "-y", "1", "--rate", "1000", "-s", "16", "--autoack"),
        new LeanLatency(),
        new LoopbackFloor(),
        new DlxRetry(),
        new Priority10(),
        // Last: they leave the broker gigabytes larger, and the harness restarts it after each.
        new TtlExpiry(),
        new Backlog());
  }
}
