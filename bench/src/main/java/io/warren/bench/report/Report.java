package io.warren.bench.report;

import io.warren.bench.scenario.Metric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Collects run results (from the harness's main thread only) and renders them: a console table of
 * medians per broker with the Warren/RabbitMQ ratio, and the Markdown file with every round.
 */
public final class Report {
  private static final String RABBITMQ = "rabbitmq";
  private static final String WARREN = "warren";

  private final List<String> brokers;
  private final List<RunResult> results = new ArrayList<>();
  /** Scenario descriptions in run order. */
  private final Map<String, String> scenarios = new LinkedHashMap<>();

  public Report(List<String> brokers) {
    this.brokers = brokers;
  }

  public void describe(String scenario, String description) {
    scenarios.put(scenario, description);
  }

  public void add(RunResult r) {
    results.add(r);
  }

  public List<RunResult> failures() {
    return results.stream().filter(RunResult::failed).toList();
  }

  /** Metrics of a scenario in the order the runs reported them. */
  private Set<Metric> metrics(String scenario) {
    Set<Metric> metrics = new LinkedHashSet<>();
    for (RunResult r : results) {
      if (r.scenario().equals(scenario) && !r.failed()) {
        metrics.addAll(r.figures().keySet());
      }
    }
    if (metrics.remove(Metric.PEAK_RSS_MIB)) {
      metrics.add(Metric.PEAK_RSS_MIB); // last, whichever broker reported what first
    }
    return metrics;
  }

  private List<Double> values(String scenario, String broker, Metric m) {
    List<Double> values = new ArrayList<>();
    for (RunResult r : results) {
      if (r.scenario().equals(scenario) && r.broker().equals(broker) && !r.failed()) {
        Double v = r.figures().get(m);
        if (v != null && !v.isNaN()) {
          values.add(v);
        }
      }
    }
    return values;
  }

  /** The median over the rounds; for a counted metric, the total. */
  private double median(String scenario, String broker, Metric m) {
    List<Double> values = values(scenario, broker, m);
    if (m.counted()) {
      return values.isEmpty() ? Double.NaN : values.stream().mapToDouble(Double::doubleValue).sum();
    }
    return Stats.median(values);
  }

  private boolean comparing() {
    return brokers.contains(RABBITMQ) && brokers.contains(WARREN);
  }

  /** Rows: scenario, metric, better, one median per broker, then the ratio when both ran. */
  private List<List<String>> rows() {
    List<List<String>> rows = new ArrayList<>();
    for (String scenario : scenarios.keySet()) {
      boolean first = true;
      for (Metric m : metrics(scenario)) {
        List<String> row = new ArrayList<>();
        row.add(first ? scenario : "");
        row.add(m.counted() ? m.name() + " (total)" : m.name());
        row.add(m.higherIsBetter() ? "higher" : "lower");
        for (String b : brokers) {
          row.add(format(median(scenario, b, m)));
        }
        if (comparing()) {
          double ratio = median(scenario, WARREN, m) / median(scenario, RABBITMQ, m);
          row.add(Double.isNaN(ratio) || Double.isInfinite(ratio) ? "-" : String.format(Locale.ROOT, "%.2f", ratio));
        }
        rows.add(row);
        first = false;
      }
      if (first) {
        List<String> row = new ArrayList<>(List.of(scenario, "(every run failed)", ""));
        brokers.forEach(b -> row.add("-"));
        if (comparing()) {
          row.add("-");
        }
        rows.add(row);
      }
    }
    return rows;
  }

  private List<String> header() {
    List<String> h = new ArrayList<>(List.of("scenario", "metric", "better"));
    brokers.forEach(b -> h.add(b + " (median)"));
    if (comparing()) {
      h.add("warren/rabbitmq");
    }
    return h;
  }

  public String consoleTable() {
    List<String> header = header();
    List<List<String>> rows = rows();
    int[] widths = new int[header.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = header.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    appendAligned(sb, header, widths);
    List<String> rule = new ArrayList<>();
    for (int w : widths) {
      rule.add("-".repeat(w));
    }
    appendAligned(sb, rule, widths);
    for (List<String> row : rows) {
      appendAligned(sb, row, widths);
    }
    return sb.toString();
  }

  private static void appendAligned(StringBuilder sb, List<String> cells, int[] widths) {
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      // Text columns left, figures right.
      sb.append(i < 3 ? pad(c, widths[i], false) : pad(c, widths[i], true));
      sb.append(i + 1 < cells.size() ? "  " : "\n");
    }
  }

  private static String pad(String s, int width, boolean right) {
    String fill = " ".repeat(Math.max(0, width - s.length()));
    return right ? fill + s : s + fill;
  }

  public String markdown(String title, List<String> preamble, List<String> notes) {
    StringBuilder sb = new StringBuilder("# ").append(title).append("\n\n");
    preamble.forEach(line -> sb.append(line).append("\n"));
    sb.append("\n## Medians\n\n");
    appendMarkdownTable(sb, header(), rows());
    sb.append("\n## Notes\n\n");
    notes.forEach(n -> sb.append("- ").append(n).append("\n"));
    sb.append("\n## Scenarios\n\n");
    scenarios.forEach((name, d) -> sb.append("- `").append(name).append("`: ").append(d).append("\n"));
    sb.append("\n## Every round\n\n");
    List<String> h = new ArrayList<>(List.of("scenario", "metric"));
    brokers.forEach(b -> h.add(b + " per round"));
    List<List<String>> rows = new ArrayList<>();
    for (String scenario : scenarios.keySet()) {
      for (Metric m : metrics(scenario)) {
        List<String> row = new ArrayList<>(List.of(scenario, m.name()));
        for (String b : brokers) {
          row.add(String.join(" / ", values(scenario, b, m).stream().map(Report::format).toList()));
        }
        rows.add(row);
      }
    }
    appendMarkdownTable(sb, h, rows);
    List<RunResult> failures = failures();
    if (!failures.isEmpty()) {
      sb.append("\n## Failed runs\n\n");
      for (RunResult f : failures) {
        sb.append("- ").append(f.scenario()).append(" on ").append(f.broker()).append(", round ")
            .append(f.round()).append(": ").append(f.error().lines().findFirst().orElse("")).append("\n");
      }
    }
    return sb.toString();
  }

  private static void appendMarkdownTable(StringBuilder sb, List<String> header, List<List<String>> rows) {
    sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
    for (int i = 0; i < header.size(); i++) {
      sb.append(i < 3 && header.get(i).matches("scenario|metric|better") ? " --- |" : " ---: |");
    }
    sb.append("\n");
    for (List<String> row : rows) {
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
  }

  /** 123,456 for large figures, 12.3 or 1.23 for small ones, "-" for none. */
  public static String format(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    double abs = Math.abs(v);
    if (abs >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (abs >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
