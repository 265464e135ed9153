package io.warren.bench;

import io.warren.bench.scenario.Catalogue;
import io.warren.bench.scenario.Scenario;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Command-line options of the harness; {@code bench/run --help} prints {@link #USAGE}. */
record Options(
    List<String> brokers,
    int rounds,
    int durationSeconds,
    List<Scenario> scenarios,
    int backlogMessages,
    int idleConnections,
    Integer rabbitmqPort,
    Integer warrenPort,
    Path warrenJar,
    Path workDir,
    Path out,
    String commit) {

  static final String USAGE = """
      usage: bench/run [options]
        --only rabbitmq|warren   run one broker only (default: both, side by side)
        --rounds N               rounds per scenario and broker, A B A B... (default 3)
        --duration S             seconds per timed scenario (default 12; at least 3)
        --scenarios a,b,...      scenarios to run (default: all; --list shows them)
        --backlog N              messages for backlog and ttl-expiry (default 1000000)
        --connections N          connections for idle-connections (default 1000)
        --rabbitmq-port P        use a RabbitMQ already listening on 127.0.0.1:P (not stopped)
        --warren-port P          use a Warren already listening on 127.0.0.1:P (not stopped)
        --list                   list the scenarios and exit
        --help                   this text
      """;

  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  static Options parse(String[] args) throws UsageException {
    List<String> brokers = new ArrayList<>(List.of("rabbitmq", "warren"));
    int rounds = 3;
    int duration = 12;
    List<Scenario> scenarios = Catalogue.all();
    int backlog = 1_000_000;
    int connections = 1_000;
    Integer rabbitmqPort = null;
    Integer warrenPort = null;
    Path jar = Path.of("target/warren.jar");
    Path work = Path.of("bench/results/work");
    Path out = null;
    String commit = "";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--only" -> {
          String b = value(args, ++i, a);
          if (!b.equals("rabbitmq") && !b.equals("warren")) {
            throw new UsageException("--only takes rabbitmq or warren, not '" + b + "'");
          }
          brokers = List.of(b);
        }
        case "--rounds" -> rounds = positive(value(args, ++i, a), a, 1);
        case "--duration" -> duration = positive(value(args, ++i, a), a, 3);
        case "--scenarios" -> scenarios = select(value(args, ++i, a));
        case "--backlog" -> backlog = positive(value(args, ++i, a), a, 1);
        case "--connections" -> connections = positive(value(args, ++i, a), a, 1);
        case "--rabbitmq-port" -> rabbitmqPort = positive(value(args, ++i, a), a, 1);
        case "--warren-port" -> warrenPort = positive(value(args, ++i, a), a, 1);
        // Given by bench/run, not by people:
        case "--warren-jar" -> jar = Path.of(value(args, ++i, a));
        case "--work-dir" -> work = Path.of(value(args, ++i, a));
        case "--out" -> out = Path.of(value(args, ++i, a));
        case "--commit" -> commit = value(args, ++i, a);
        default -> throw new UsageException("unknown option '" + a + "'");
      }
    }
    return new Options(brokers, rounds, duration, scenarios, backlog, connections, rabbitmqPort,
        warrenPort, jar, work, out, commit);
  }

  /** Seconds of each timed run left out of the figures: connections opening, JIT warming up. */
  int warmupSeconds() {
    return Math.max(1, Math.min(3, durationSeconds / 5));
  }

  static List<String> scenarioNames() {
    return Catalogue.all().stream().map(Scenario::name).toList();
  }

  private static List<Scenario> select(String csv) throws UsageException {
    List<Scenario> all = Catalogue.all();
    List<Scenario> chosen = new ArrayList<>();
    for (String name : Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()) {
      Scenario s = all.stream().filter(x -> x.name().equals(name)).findFirst()
          .orElseThrow(() -> new UsageException(
              "unknown scenario '" + name + "'; known: " + String.join(", ", scenarioNames())));
      chosen.add(s);
    }
    if (chosen.isEmpty()) {
      throw new UsageException("--scenarios names none");
    }
    // Catalogue order, whatever order they were given in.
    return all.stream().filter(s -> chosen.stream().anyMatch(c -> c.name().equals(s.name()))).toList();
  }

  private static String value(String[] args, int i, String option) throws UsageException {
    if (i >= args.length) {
      throw new UsageException(option + " needs a value");
    }
    return args[i];
  }

  private static int positive(String s, String option, int min) throws UsageException {
    try {
      int v = Integer.parseInt(s.replace("_", ""));
      if (v < min) {
        throw new UsageException(option + " must be at least " + min);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new UsageException(option + " takes a whole number, not '" + s + "'");
    }
  }
}
