package io.warren.bench.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;

/** CPU time a process has used (user + system, all its threads), from /proc/PID/stat. */
public final class CpuTime {
  /** Linux reports these fields in clock ticks, 100 per second on every common kernel build. */
  private static final double TICKS_PER_SECOND = 100.0;

  private CpuTime() {}

  public static OptionalDouble seconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) is in parentheses and may hold spaces: count from after it.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // Fields 14 (utime) and 15 (stime) of the whole line are 12 and 13 after the name.
      return OptionalDouble.of((Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND);
    } catch (IOException | RuntimeException e) {
      return OptionalDouble.empty();
    }
  }
}
