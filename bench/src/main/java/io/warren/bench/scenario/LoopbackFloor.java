package io.warren.bench.scenario;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@link LeanLatency}'s path with no broker in it: a relay thread copies the bytes of the sender's
 * loopback connection to the receiver's; on the receiving side a reader thread hands each message
 * to a consumer thread, as the Java client does. No broker can do better on this machine, so the
 * run ignores which broker it is given: both columns are the floor, measured between their runs.
 * A broker's latency-lean figure minus this one is the broker's own share.
 */
final class LoopbackFloor implements Scenario {
  @Override
  public String name() {
    return "latency-floor";
  }

  @Override
  public String description() {
    return "latency-lean's client through a byte relay instead of a broker: the machine's floor"
        + " (the broker named in the column is not used)";
  }

  @Override
  public Map<Metric, Double> run(RunContext ctx) throws Exception {
    LatencySamples samples = new LatencySamples(ctx);
    ExecutorService consumer = Executors.newSingleThreadExecutor();
    try (ServerSocket server = new ServerSocket(0, 2, InetAddress.getLoopbackAddress());
        Socket out = connect(server);
        Socket from = server.accept();
        Socket in = connect(server);
        Socket to = server.accept()) {
      to.setTcpNoDelay(true);
      start("floor-relay", () -> relay(from.getInputStream(), to.getOutputStream()));
      start("floor-reader", () -> {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in.getInputStream()));
        while (!samples.complete()) {
          byte[] message = new byte[LatencySamples.MESSAGE_BYTES];
          data.readFully(message);
          consumer.execute(() -> samples.arrived(ByteBuffer.wrap(message)));
        }
      });
      OutputStream sender = out.getOutputStream();
      samples.sendAll(sender::write);
      return samples.figures();
    } finally {
      consumer.shutdownNow();
    }
  }

  private static Socket connect(ServerSocket server) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    s.setTcpNoDelay(true);
    return s;
  }

  private static void relay(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[65536];
    for (int n; (n = in.read(buffer)) > 0; ) {
      out.write(buffer, 0, n);
    }
  }

  private interface IoWork {
    void run() throws IOException;
  }

  /** A daemon thread that ends quietly when its sockets close at the end of the run. */
  private static void start(String name, IoWork work) {
    Thread t = new Thread(() -> {
      try {
        work.run();
      } catch (IOException closed) {
        // the run is over and its sockets are closed
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }
}
