package io.warren.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicExchangeTest {

    private static ClassicQueue queue(String name) {
        return new ClassicQueue(new QueueType.Spec("/", name, false, false, false, QueueArguments.NONE, null),
                new QueueType.Home(ImmediateEventExecutor.INSTANCE, null, null, Long.MAX_VALUE, null, q -> { }));
    }

    private static TopicExchange topic() {
        return new TopicExchange("t", false, false, false, Map.of());
    }

    private static List<String> route(Exchange x, String key) {
        List<String> names = new ArrayList<>();
        for (Queue q : new RouteResult().route(x, key, null).queues()) {
            names.add(q.name());
        }
        return names;
    }

    private static boolean matches(String bindingKey, String routingKey) {
        TopicExchange x = topic();
        x.bind(new Binding(x, queue("q"), bindingKey, null));
        return !route(x, routingKey).isEmpty();
    }

    @ParameterizedTest(name = "binding ''{0}'' vs key ''{1}'' -> {2}")
    @CsvSource({
            // '#' matches everything, the empty key included
            "'#', '', true",
            "'#', a, true",
            "'#', a.b.c, true",
            "'#', ., true",
            // exact keys, keys without dots
            "a, a, true",
            "a, b, false",
            "a, a.b, false",
            "a.b, a.b, true",
            "a.b, a.c, false",
            "a.b, a, false",
            // the empty binding key matches only the empty routing key (both have no words)
            "'', '', true",
            "'', a, false",
            "'', ., false",
            // '*' is exactly one word
            "'*', a, true",
            "'*', '', false",
            "'*', a.b, false",
            "'*.*', a.b, true",
            "'*.*', a, false",
            "'*.*', a.b.c, false",
            "a.*, a.b, true",
            "a.*, a, false",
            "a.*, a.b.c, false",
            "*.b, a.b, true",
            "*.b, b, false",
            // '#' is zero or more words
            "a.#, a, true",
            "a.#, a.b, true",
            "a.#, a.b.c, true",
            "a.#, b.a, false",
            "a.#, '', false",
            "#.b, b, true",
            "#.b, a.b, true",
            "#.b, x.y.b, true",
            "#.b, b.a, false",
            "a.#.b, a.b, true",
            "a.#.b, a.x.b, true",
            "a.#.b, a.x.y.b, true",
            "a.#.b, a.x.y, false",
            "a.#.b, b.a.b.x, false",
            "'#.#', '', true",
            "'#.#', a, true",
            "'#.#', a.b.c, true",
            "'*.#', a, true",
            "'*.#', a.b.c, true",
            "'*.#', '', false",
            "'#.*', a, true",
            "'#.*', a.b, true",
            "'#.*', '', false",
            "'#.*.#', a, true",
            "'#.*.#', '', false",
            "'#.a.#', a, true",
            "'#.a.#', x.a.y, true",
            "'#.a.#', x.b.y, false",
            "'#.a.#.b.#', a.b, true",
            "'#.a.#.b.#', x.a.y.b.z, true",
            "'#.a.#.b.#', b.a, false",
            "'#.#.a', a, true",
            "'*.*.#', a, false",
            "'*.*.#', a.b, true",
            // empty words are words
            "a..b, a..b, true",
            "a..b, a.b, false",
            "a.*.b, a..b, true",
            "'a.#', a., true",
            "'a.*', a., true",
            "a, a., false",
            "'*', ., false",
            "'*.*', ., true",
            "'.', ., true",
            "'.', '', false",
            "'#.', a., true",
            "'#.', a, false",
            // '*' and '#' are wildcards only as whole words
            "a*, a*, true",
            "a*, ab, false",
            "a#, a#, true",
            "a#, a.b, false",
            "a.b, a.*, false",
    })
    void matchesLikeRabbitMq(String bindingKey, String routingKey, boolean expected) {
        assertThat(matches(bindingKey, routingKey)).isEqualTo(expected);
    }

    @Test
    void routesToEveryMatchingDestinationOnce() {
        TopicExchange x = topic();
        ClassicQueue q1 = queue("q1");
        ClassicQueue q2 = queue("q2");
        ClassicQueue q3 = queue("q3");
        x.bind(new Binding(x, q1, "stock.#", null));
        x.bind(new Binding(x, q1, "*.nyse.*", null));
        x.bind(new Binding(x, q2, "stock.nyse.ibm", null));
        x.bind(new Binding(x, q3, "#.ibm", null));
        x.bind(new Binding(x, q3, "#", new java.util.HashMap<>(Map.of("k", "v")))); // same queue, second binding

        assertThat(route(x, "stock.nyse.ibm")).containsExactlyInAnyOrder("q1", "q2", "q3");
        assertThat(route(x, "stock.nyse.msft")).containsExactlyInAnyOrder("q1", "q3");
        assertThat(route(x, "bond.lse.ibm")).containsExactlyInAnyOrder("q3");
        assertThat(route(x, "")).containsExactlyInAnyOrder("q3");
    }

    @Test
    void routingKeyIsIgnoredByNothingButTheKey() {
        TopicExchange x = topic();
        assertThat(route(x, "a.b")).isEmpty();
        x.bind(new Binding(x, queue("q"), "a.b", null));
        assertThat(route(x, "a.b")).containsExactly("q");
    }

    @Test
    void rebindAndUnbindRecompileTheTrie() {
        TopicExchange x = topic();
        ClassicQueue q1 = queue("q1");
        ClassicQueue q2 = queue("q2");
        Binding b1 = new Binding(x, q1, "a.*", null);
        Binding b2 = new Binding(x, q2, "a.#", null);
        assertThat(x.bind(b1)).isTrue();
        assertThat(x.bind(new Binding(x, q1, "a.*", null))).isFalse();
        assertThat(x.bind(b2)).isTrue();
        assertThat(route(x, "a.b")).containsExactlyInAnyOrder("q1", "q2");
        assertThat(route(x, "a")).containsExactly("q2");

        assertThat(x.unbind(b1)).isTrue();
        assertThat(x.unbind(b1)).isFalse();
        assertThat(route(x, "a.b")).containsExactly("q2");

        assertThat(x.bind(new Binding(x, q1, "a.b", null))).isTrue();
        assertThat(route(x, "a.b")).containsExactlyInAnyOrder("q1", "q2");

        assertThat(x.unbindAll(q2)).isTrue();
        assertThat(route(x, "a.b")).containsExactly("q1");
        assertThat(route(x, "a.c")).isEmpty();

        // One queue bound under two keys that share a trie path stays bound by the other.
        x.bind(new Binding(x, q2, "a.#", null));
        x.bind(new Binding(x, q2, "a.#.#", null));
        x.unbind(new Binding(x, q2, "a.#", null));
        assertThat(route(x, "a.z.z")).containsExactly("q2");
    }

    @Test
    void followsExchangeToExchangeBindingsThroughNestedTopics() {
        TopicExchange outer = topic();
        TopicExchange inner = new TopicExchange("inner", false, false, false, Map.of());
        ClassicQueue q1 = queue("q1");
        ClassicQueue q2 = queue("q2");
        ClassicQueue q3 = queue("q3");
        ClassicQueue q4 = queue("q4");
        outer.bind(new Binding(outer, inner, "a.*", null));
        outer.bind(new Binding(outer, q1, "a.#", null));
        outer.bind(new Binding(outer, q2, "#", null));
        inner.bind(new Binding(inner, q3, "#", null));
        inner.bind(new Binding(inner, q4, "a.b", null));
        inner.bind(new Binding(inner, outer, "#", null)); // a cycle, visited once

        assertThat(route(outer, "a.b")).containsExactlyInAnyOrder("q1", "q2", "q3", "q4");
        assertThat(route(outer, "a.c")).containsExactlyInAnyOrder("q1", "q2", "q3");
        assertThat(route(outer, "b")).containsExactly("q2");
        assertThat(route(inner, "x")).containsExactlyInAnyOrder("q3", "q2");
        assertThat(route(inner, "a.z")).containsExactlyInAnyOrder("q3", "q1", "q2");
    }

    /** Compares the trie with a plain recursive matcher over RabbitMQ's word split, on random keys. */
    @Test
    void agreesWithAReferenceMatcherOnRandomKeys() {
        Random random = new Random(42);
        String[] bindingWords = {"a", "b", "", "*", "#"};
        String[] keyWords = {"a", "b", "", "*", "#"};
        for (int round = 0; round < 300; round++) {
            TopicExchange x = topic();
            List<String> patterns = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String p = randomKey(random, bindingWords, 5);
                patterns.add(p);
                x.bind(new Binding(x, queue(i + ":" + p), p, null));
            }
            for (int k = 0; k < 40; k++) {
                String key = randomKey(random, keyWords, 6);
                TreeSet<String> expected = new TreeSet<>();
                for (int i = 0; i < patterns.size(); i++) {
                    if (referenceMatch(words(patterns.get(i)), 0, words(key), 0)) {
                        expected.add(i + ":" + patterns.get(i));
                    }
                }
                assertThat(new TreeSet<>(route(x, key))).as("key '%s' against %s", key, patterns).isEqualTo(expected);
            }
        }
    }

    private static String randomKey(Random random, String[] words, int maxWords) {
        int n = random.nextInt(maxWords + 1);
        if (n == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append('.');
            }
            sb.append(words[random.nextInt(words.length)]);
        }
        return sb.toString();
    }

    /** RabbitMQ's split: no words for the empty key, otherwise every '.' separates (empty words kept). */
    private static List<String> words(String key) {
        return key.isEmpty() ? List.of() : List.of(key.split("\\.", -1));
    }

    private static boolean referenceMatch(List<String> p, int pi, List<String> w, int wi) {
        if (pi == p.size()) {
            return wi == w.size();
        }
        String pw = p.get(pi);
        if (pw.equals("#")) {
            for (int skip = wi; skip <= w.size(); skip++) {
                if (referenceMatch(p, pi + 1, w, skip)) {
                    return true;
                }
            }
            return false;
        }
        if (wi == w.size()) {
            return false;
        }
        return (pw.equals("*") || pw.equals(w.get(wi))) && referenceMatch(p, pi + 1, w, wi + 1);
    }

    @Test
    void manyHashesInOneKeyDoNotBlowUp() {
        TopicExchange x = topic();
        x.bind(new Binding(x, queue("hashes"), "#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.z", null));
        x.bind(new Binding(x, queue("mixed"), "#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.b", null));
        String key = String.join(".", java.util.Collections.nCopies(60, "a"));
        long start = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            assertThat(route(x, key)).isEmpty();
        }
        assertThat(route(x, key + ".z")).containsExactly("hashes");
        assertThat(route(x, key + ".b")).containsExactly("mixed");
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
    }

    @Test
    void hundredsOfWildcardBindingsRouteQuickly() {
        TopicExchange x = topic();
        String[] regions = {"eu", "us", "asia", "africa"};
        String[] kinds = {"order", "payment", "refund", "audit", "login"};
        int n = 0;
        for (String r : regions) {
            for (String k : kinds) {
                for (int v = 0; v < 10; v++) {
                    x.bind(new Binding(x, queue("q" + n++), r + "." + k + ".v" + v, null));
                    x.bind(new Binding(x, queue("q" + n++), "*." + k + ".v" + v + ".#", null));
                    x.bind(new Binding(x, queue("q" + n++), r + ".#.v" + v, null));
                }
            }
        }
        assertThat(x.bindings()).hasSize(600);
        RouteResult result = new RouteResult();
        String key = "eu.payment.v3";
        // the exact key, "*.payment.v3.#" (one per region) and "eu.#.v3" (one per kind)
        assertThat(result.route(x, key, null).queues()).hasSize(1 + 4 + 5);
        // warm up, then time: a few microseconds per route at most on any machine we run on
        for (int i = 0; i < 20_000; i++) {
            result.route(x, key, null);
        }
        long start = System.nanoTime();
        int routes = 200_000;
        for (int i = 0; i < routes; i++) {
            result.route(x, regions[i & 3] + "." + kinds[i % 5] + ".v" + (i % 10), null);
        }
        long perRouteNanos = (System.nanoTime() - start) / routes;
        assertThat(perRouteNanos).isLessThan(20_000);
    }
}
