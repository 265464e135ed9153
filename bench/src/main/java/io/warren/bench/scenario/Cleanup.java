package io.warren.bench.scenario;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.util.List;

/**
 * Deletes what a run declared. Each delete gets a channel of its own: a broker that answers a
 * missing queue with 404 closes the channel, and the next delete must still go through.
 */
final class Cleanup {
  private Cleanup() {}

  static void delete(RunContext ctx, List<String> queues, List<String> exchanges) {
    try (Connection c = ctx.factory().newConnection("warren-bench-cleanup")) {
      for (String q : queues) {
        try (Channel ch = c.createChannel()) {
          ch.queueDelete(q);
        } catch (Exception e) {
          // already gone (auto-delete) or the channel was closed by a 404
        }
      }
      for (String x : exchanges) {
        try (Channel ch = c.createChannel()) {
          ch.exchangeDelete(x);
        } catch (Exception e) {
          // as above
        }
      }
    } catch (Exception e) {
      System.out.println("[bench] warning: clean-up on " + ctx.broker().name() + " failed: " + e);
    }
  }
}
