package io.warren.bench.probe;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Finds the process that owns a listening TCP socket, from /proc.
 *
 * <p>Why not the pid of the process we started: {@code ./warren} and {@code rabbitmq-server} are
 * wrapper scripts; the memory we want to measure is the JVM's or the Erlang VM's (beam.smp). The
 * owner of the AMQP listening socket is exactly that process, and this also works for a broker the
 * harness did not start ({@code --warren-port}/{@code --rabbit-port}).
 */
public final class ListeningPid {
  private static final String TCP_LISTEN = "0A";

  private ListeningPid() {}

  public static OptionalLong of(int port) {
    try {
      Set<String> inodes = listeningInodes(port);
      if (inodes.isEmpty()) {
        return OptionalLong.empty();
      }
      // Several processes can hold the socket (children that inherited it); take the largest,
      // which is the VM and not a helper such as erl_child_setup.
      long best = -1;
      long bestRss = -1;
      try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
        for (Path proc : procs) {
          if (holdsAny(proc, inodes)) {
            long pid = Long.parseLong(proc.getFileName().toString());
            long rss = Rss.kib(pid).orElse(0);
            if (rss > bestRss) {
              best = pid;
              bestRss = rss;
            }
          }
        }
      }
      return best < 0 ? OptionalLong.empty() : OptionalLong.of(best);
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  /** Socket inodes listening on {@code port}, IPv4 or IPv6, any address. */
  private static Set<String> listeningInodes(int port) throws IOException {
    String portHex = String.format(":%04X", port);
    Set<String> inodes = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      for (String line : Files.readAllLines(path)) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[1].endsWith(portHex) && f[3].equals(TCP_LISTEN)) {
          inodes.add("socket:[" + f[9] + "]");
        }
      }
    }
    return inodes;
  }

  private static boolean holdsAny(Path proc, Set<String> inodes) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
      for (Path fd : fds) {
        try {
          if (inodes.contains(Files.readSymbolicLink(fd).toString())) {
            return true;
          }
        } catch (IOException ignored) {
          // fd closed while we looked
        }
      }
    } catch (IOException | SecurityException ignored) {
      // process gone or not ours
    }
    return false;
  }
}
