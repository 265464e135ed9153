package io.warren.bench.probe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live heap of a JVM broker: {@code jcmd PID GC.run} (a full collection) and then
 * {@code jcmd PID GC.heap_info}. RSS alone says little about a JVM, whose heap grows up to its
 * limit before it collects; the heap after a full GC is what the broker really holds.
 */
public final class JvmHeap {
  // G1:       " garbage-first heap   total 262144K, used 10240K [0x..."
  // Parallel: " PSYoungGen total ..., used ...K" then " ParOldGen ... used ...K": we sum all.
  private static final Pattern USED = Pattern.compile("used (\\d+)K");
  private static final Pattern G1_TOTAL = Pattern.compile("garbage-first heap\\s+total \\d+K, used (\\d+)K");

  private JvmHeap() {}

  public static boolean isJvm(long pid) {
    return Rss.command(pid).equals("java");
  }

  public static OptionalLong usedAfterGcKib(long pid) {
    try {
      run(pid, "GC.run");
      String info = run(pid, "GC.heap_info");
      Matcher g1 = G1_TOTAL.matcher(info);
      if (g1.find()) {
        return OptionalLong.of(Long.parseLong(g1.group(1)));
      }
      long sum = 0;
      boolean found = false;
      for (String line : info.split("\n")) {
        // Metaspace and class space lines are not heap.
        if (line.contains("Metaspace") || line.contains("class space")) {
          continue;
        }
        Matcher m = USED.matcher(line);
        if (m.find() && !line.startsWith("  ")) {
          sum += Long.parseLong(m.group(1));
          found = true;
        }
      }
      return found ? OptionalLong.of(sum) : OptionalLong.empty();
    } catch (IOException e) {
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }

  private static String run(long pid, String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("jcmd " + command + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
