package io.warren.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One line about the machine for the report: CPU, cores, memory, JVM. */
final class Machine {
  private Machine() {}

  static String describe() {
    String cpu = "?";
    long memKib = 0;
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name")).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
      memKib = Files.readAllLines(Path.of("/proc/meminfo")).stream()
          .filter(l -> l.startsWith("MemTotal:")).findFirst()
          .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(0L);
    } catch (IOException | RuntimeException e) {
      // leave "?"
    }
    return String.format("%s, %d cores, %.0f GiB, Java %s", cpu, Runtime.getRuntime().availableProcessors(),
        memKib / 1024.0 / 1024.0, System.getProperty("java.version"));
  }
}
