package io.warren.it.trace;

import io.warren.protocol.FieldType;
import io.warren.protocol.Method;
import io.warren.protocol.Properties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scripted client session for the frame-by-frame comparison with RabbitMQ: what the clients send,
 * step by step, and where they wait. {@link #run} plays it against a broker and returns the frames
 * the broker sent each connection, as text. One step a line; {@code #} starts a comment:
 *
 * <pre>
 * connect A                                  open connection A (handshake done, not recorded)
 * A 1 channel.open                           send a method; arguments not given are 0, "" or empty
 * A 1 queue.declare queue=%q auto-delete=1   % is the run's own prefix; tables: arguments.x-max-priority=10
 * A 1 publish routing-key=%q body=hello delivery-mode=2   basic.publish with a header and a body
 * A expect 1 queue.declare-ok                wait (up to 5 s) for the broker to send that
 * A quiet 200                                wait until the broker sent A nothing for 200 ms
 * A expect-end 1000                          wait up to 1 s for the broker to end the connection
 * A close-socket                             the client closes its socket
 * </pre>
 */
final class TraceScript {
    private static final long EXPECT_TIMEOUT_MS = 5000;
    /** Quiet time at the end for each connection still open, so late frames make it into the trace. */
    private static final long FINAL_QUIET_MS = 300;

    private final String name;
    private final List<String> steps;

    TraceScript(String name, String text) {
        this.name = name;
        this.steps = text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    String name() {
        return name;
    }

    /** Plays the script against the broker at host:port; the frames each connection received, as text. */
    String run(String host, int port, String prefix) throws Exception {
        Names names = new Names(prefix);
        Map<String, TraceConnection> connections = new LinkedHashMap<>();
        try {
            for (String raw : steps) {
                List<String> words = words(names.expand(raw));
                if (words.get(0).equals("connect")) {
                    String c = words.get(1);
                    connections.put(c, TraceConnection.open(c, host, port, names));
                    continue;
                }
                TraceConnection c = connections.get(words.get(0));
                if (c == null) {
                    throw new IllegalArgumentException(name + ": no connection " + words.get(0) + " in '" + raw + "'");
                }
                step(c, words, raw);
            }
            for (TraceConnection c : connections.values()) {
                c.quiet(FINAL_QUIET_MS);
            }
        } finally {
            for (TraceConnection c : connections.values()) {
                c.close();
            }
        }
        StringBuilder trace = new StringBuilder();
        for (TraceConnection c : connections.values()) {
            trace.append("== ").append(c.name()).append('\n');
            c.lines().forEach(l -> trace.append(l).append('\n'));
        }
        return trace.toString();
    }

    private void step(TraceConnection c, List<String> words, String raw) throws Exception {
        switch (words.get(1)) {
            case "expect" -> c.expect(words.get(2) + " " + words.get(3), EXPECT_TIMEOUT_MS);
            case "quiet" -> c.quiet(Long.parseLong(words.get(2)));
            case "expect-end" -> c.expectEnd(Long.parseLong(words.get(2)));
            case "close-socket" -> c.close();
            default -> send(c, Integer.parseInt(words.get(1)), words.get(2), arguments(words.subList(3, words.size()), raw));
        }
    }

    private void send(TraceConnection c, int channel, String what, Map<String, String> args) throws IOException {
        if (what.equals("publish")) {
            Map<String, String> rest = new LinkedHashMap<>(args);
            byte[] body = rest.getOrDefault("body", "").getBytes(StandardCharsets.UTF_8);
            rest.remove("body");
            Object[] publish = methodArguments(Method.BASIC_PUBLISH, rest, true);
            c.publish(channel, publish, properties(rest), body);
            return;
        }
        Method method = methodNamed(what);
        c.sendMethod(channel, method, methodArguments(method, args, false));
    }

    /** The method's arguments from the step's name=value pairs; with {@code partial}, other keys are left for the caller. */
    private Object[] methodArguments(Method method, Map<String, String> given, boolean partial) {
        List<Method.Field> fields = method.arguments();
        Object[] values = new Object[fields.size()];
        Map<String, Object> table = new LinkedHashMap<>();
        for (int i = 0; i < fields.size(); i++) {
            Method.Field f = fields.get(i);
            String v = given.remove(f.name());
            values[i] = switch (f.type()) {
                case OCTET, SHORT, LONG -> v == null ? 0 : Integer.parseInt(v);
                case LONGLONG, TIMESTAMP -> v == null ? 0L : Long.parseLong(v);
                case BIT -> v != null && (v.equals("1") || v.equals("true"));
                case SHORTSTR, LONGSTR -> v == null ? "" : v;
                case TABLE -> table;
            };
            if (f.type() == FieldType.TABLE) {
                String prefix = f.name() + ".";
                for (String key : List.copyOf(given.keySet())) {
                    if (key.startsWith(prefix)) {
                        table.put(key.substring(prefix.length()), tableValue(given.remove(key)));
                    }
                }
            }
        }
        if (!partial && !given.isEmpty()) {
            throw new IllegalArgumentException(name + ": " + method.amqpName() + " has no argument(s) " + given.keySet());
        }
        return values;
    }

    private static Object tableValue(String v) {
        if (v.matches("-?\\d{1,9}")) {
            return Integer.parseInt(v);
        }
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        return v;
    }

    private Properties properties(Map<String, String> given) {
        Properties p = new Properties();
        Map<String, Object> headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : given.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "content-type" -> p.contentType = v;
                case "delivery-mode" -> p.deliveryMode = Integer.parseInt(v);
                case "priority" -> p.priority = Integer.parseInt(v);
                case "correlation-id" -> p.correlationId = v;
                case "reply-to" -> p.replyTo = v;
                case "expiration" -> p.expiration = v;
                case "message-id" -> p.messageId = v;
                case "type" -> p.type = v;
                case "user-id" -> p.userId = v;
                case "app-id" -> p.appId = v;
                default -> {
                    if (!e.getKey().startsWith("headers.")) {
                        throw new IllegalArgumentException(name + ": publish has no argument or property " + e.getKey());
                    }
                    headers.put(e.getKey().substring("headers.".length()), tableValue(v));
                }
            }
        }
        if (!headers.isEmpty()) {
            p.headers = headers;
        }
        return p;
    }

    private static Method methodNamed(String amqpName) {
        for (Method m : Method.values()) {
            if (m.amqpName().equals(amqpName)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no method " + amqpName);
    }

    private static Map<String, String> arguments(List<String> words, String raw) {
        Map<String, String> args = new LinkedHashMap<>();
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected name=value, got '" + w + "' in '" + raw + "'");
            }
            args.put(w.substring(0, eq), w.substring(eq + 1));
        }
        return args;
    }

    /** Splits on spaces; a value in double quotes may hold spaces (name="two words"). */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (char ch : line.toCharArray()) {
            if (ch == '"') {
                quoted = !quoted;
            } else if (ch == ' ' && !quoted) {
                if (w.length() > 0) {
                    words.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(ch);
            }
        }
        if (w.length() > 0) {
            words.add(w.toString());
        }
        return words;
    }
}
