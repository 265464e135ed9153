package io.warren.it.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.it.BrokerTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The frame-by-frame comparison with RabbitMQ: each script in {@code src/test/resources/traces}
 * ({@code NAME.script}) is played against Warren, and the frames Warren sends each connection must
 * be exactly those RabbitMQ 3.10.8 sent in the same session ({@code NAME.rabbitmq.trace}, recorded
 * from a RabbitMQ from Debian on this machine). Where Warren differs on purpose, {@code NAME.warren.trace}
 * holds what Warren sends instead and starts with {@code # why:} lines (a deliberate difference) or
 * {@code # gap:} lines (a known gap, naming the issue that closes it); the test then checks that file
 * and prints the difference from RabbitMQ's, so no difference goes unexplained.
 *
 * <p>To record RabbitMQ's traces again: {@code ./mvnw test -Dtest=FrameTraceTest
 * -Dwarren.trace.record=127.0.0.1:PORT} with a RabbitMQ listening there (see traces/README.md).
 */
class FrameTraceTest extends BrokerTest {
    private static final Path DIR = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "traces");
    private static final String RECORD = System.getProperty("warren.trace.record");

    @TestFactory
    Stream<DynamicTest> everyScriptSendsWhatRabbitMqSends() throws IOException {
        List<Path> scripts;
        try (Stream<Path> files = Files.list(DIR)) {
            scripts = files.filter(p -> p.getFileName().toString().endsWith(".script")).sorted().toList();
        }
        assertThat(scripts).as("scripts in %s", DIR).isNotEmpty();
        return scripts.stream().map(p -> DynamicTest.dynamicTest(name(p), () -> check(p)));
    }

    private static String name(Path script) {
        String f = script.getFileName().toString();
        return f.substring(0, f.length() - ".script".length());
    }

    private void check(Path scriptFile) throws Exception {
        String name = name(scriptFile);
        TraceScript script = new TraceScript(name, Files.readString(scriptFile, StandardCharsets.UTF_8));
        Path rabbitTrace = DIR.resolve(name + ".rabbitmq.trace");
        if (RECORD != null) {
            int colon = RECORD.lastIndexOf(':');
            String trace = script.run(RECORD.substring(0, colon), Integer.parseInt(RECORD.substring(colon + 1)), prefix());
            Files.writeString(rabbitTrace, trace, StandardCharsets.UTF_8);
            System.out.println("[trace] recorded " + rabbitTrace.getFileName());
            return;
        }
        String warren = script.run("127.0.0.1", port(), prefix());
        String rabbit = Files.readString(rabbitTrace, StandardCharsets.UTF_8);
        Path deliberateFile = DIR.resolve(name + ".warren.trace");
        if (Files.exists(deliberateFile)) {
            String deliberate = Files.readString(deliberateFile, StandardCharsets.UTF_8);
            List<String> why = deliberate.lines().filter(l -> l.startsWith("# why:") || l.startsWith("# gap:")).toList();
            assertThat(why).as("%s must say why Warren differs from RabbitMQ", deliberateFile.getFileName()).isNotEmpty();
            String expected = withoutComments(deliberate);
            System.out.println("[trace] " + name + ": Warren differs from RabbitMQ, as listed (" + String.join(" ", why)
                    + "):\n" + difference(rabbit, expected));
            assertThat(warren).as("%s against %s:%n%s", name, deliberateFile.getFileName(), difference(expected, warren))
                    .isEqualTo(expected);
            return;
        }
        assertThat(warren).as("%s: frames from Warren against RabbitMQ's (%s):%n%s", name, rabbitTrace.getFileName(),
                difference(rabbit, warren)).isEqualTo(rabbit);
    }

    private static String prefix() {
        return "t" + UUID.randomUUID().toString().substring(0, 8) + ".";
    }

    private static String withoutComments(String trace) {
        StringBuilder sb = new StringBuilder();
        trace.lines().filter(l -> !l.startsWith("#")).forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }

    /** The lines of each side from the first that differs (a reader sees where the sessions part). */
    static String difference(String expected, String actual) {
        List<String> a = expected.lines().toList();
        List<String> b = actual.lines().toList();
        int first = 0;
        while (first < a.size() && first < b.size() && a.get(first).equals(b.get(first))) {
            first++;
        }
        if (first == a.size() && first == b.size()) {
            return "(no difference)";
        }
        List<String> out = new ArrayList<>();
        out.add("same first " + first + " lines; then");
        for (int i = first; i < a.size(); i++) {
            out.add("  - " + a.get(i));
        }
        for (int i = first; i < b.size(); i++) {
            out.add("  + " + b.get(i));
        }
        return String.join("\n", out);
    }
}
