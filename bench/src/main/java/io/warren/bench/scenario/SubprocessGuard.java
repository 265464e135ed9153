package io.warren.bench.scenario;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Load generators the harness runs as child processes, so that its shutdown hook (Ctrl-C, a
 * failure) can end them instead of leaving them to hammer a broker that is going away.
 */
public final class SubprocessGuard {
  private final Set<Process> running = ConcurrentHashMap.newKeySet();

  void add(Process p) {
    running.add(p);
  }

  void remove(Process p) {
    running.remove(p);
  }

  public void destroyAll() {
    running.forEach(Process::destroyForcibly);
    running.clear();
  }
}
