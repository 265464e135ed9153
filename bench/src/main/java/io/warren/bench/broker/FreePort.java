package io.warren.bench.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** A TCP port nobody listens on at the moment we ask (the usual small race is accepted). */
final class FreePort {
  private FreePort() {}

  /** A free port below {@code max}: RabbitMQ derives ports from others, so some must stay low. */
  static int below(int max) {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (s.getLocalPort() < max) {
          return s.getLocalPort();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("no free TCP port below " + max + " on 127.0.0.1");
  }

  static int any() {
    return below(65536);
  }
}
