package io.warren.bench.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A broker process the harness started: in a session of its own ({@code setsid}), so that Ctrl-C in
 * the terminal reaches only the harness, whose shutdown hook then stops the broker in order
 * (SIGTERM, a grace period, then SIGKILL of the whole process tree).
 *
 * <p>The pid is appended to {@code broker-pids} in the work directory; {@code bench/run} kills what
 * is listed there if the harness itself dies without running its hook (SIGKILL, OOM).
 */
final class BrokerProcess {
  private final String name;
  private final Process process;
  private final Path pidFile;

  private BrokerProcess(String name, Process process, Path pidFile) {
    this.name = name;
    this.process = process;
    this.pidFile = pidFile;
  }

  static BrokerProcess start(
      String name, List<String> command, Path directory, Map<String, String> env, Path log, Path workDir)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(prefixed(command)).directory(directory.toFile());
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    Path pidFile = workDir.resolve("broker-pids");
    Files.writeString(
        pidFile, p.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println("[bench] started " + name + " (pid " + p.pid() + "), log: " + log);
    return new BrokerProcess(name, p, pidFile);
  }

  private static List<String> prefixed(List<String> command) {
    List<String> all = new ArrayList<>();
    all.add("setsid");
    all.addAll(command);
    return all;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /**
   * Lists a process the broker left outside its process group (Erlang's epmd daemonizes), so
   * that {@code bench/run} can still end it if the harness dies without its shutdown hook.
   */
  static void rememberPid(Path workDir, long pid) throws IOException {
    Files.writeString(
        workDir.resolve("broker-pids"), pid + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** The last {@code lines} lines of a log, for an error message. */
  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log at " + log + ")";
    }
  }

  /**
   * SIGTERM to the broker's whole process group (the wrapper script and the VM it runs: a shell
   * killed alone would orphan its JVM), wait up to {@code graceSeconds}, then SIGKILL the group and
   * any descendant that left it.
   */
  void stop(int graceSeconds) {
    if (process.isAlive()) {
      System.out.println("[bench] stopping " + name + " (pid " + process.pid() + ")");
      List<ProcessHandle> tree = process.descendants().toList();
      signalGroup("TERM");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
      while (System.nanoTime() < deadline
          && (process.isAlive() || tree.stream().anyMatch(ProcessHandle::isAlive))) {
        sleep(200);
      }
      if (process.isAlive() || tree.stream().anyMatch(ProcessHandle::isAlive)) {
        System.out.println("[bench] " + name + " did not stop in " + graceSeconds + " s: killing it");
        signalGroup("KILL");
        process.destroyForcibly();
        tree.forEach(ProcessHandle::destroyForcibly);
      }
    }
    forgetPid();
  }

  private void signalGroup(String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, "--", "-" + process.pid())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      process.destroy();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void forgetPid() {
    forget(pidFile.getParent(), process.pid());
  }

  static void forget(Path workDir, long pid) {
    Path pidFile = workDir.resolve("broker-pids");
    try {
      if (Files.exists(pidFile)) {
        List<String> rest =
            Files.readAllLines(pidFile).stream()
                .filter(l -> !l.trim().equals(Long.toString(pid)))
                .toList();
        Files.write(pidFile, rest);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Fails early with a clear message instead of measuring whatever else listens there. */
  static void requireFreePort(int port, String what) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
    } catch (IOException e) {
      throw new IllegalStateException(
          "port " + port + " (" + what + ") is in use on 127.0.0.1: stop what listens there, or"
              + " point the harness at it with --warren-port/--rabbit-port", e);
    }
  }
}
