package io.warren.broker;

import io.warren.protocol.FieldValues;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Routes on the message's headers table, ignoring the routing key. Each binding's arguments are the
 * wanted headers; {@code x-match} says whether all of them must match ({@code all}, the default, and
 * what any unrecognised value means) or at least one ({@code any}). Arguments whose names start with
 * "x-" are not wanted headers, unless {@code x-match} is {@code all-with-x} or {@code any-with-x};
 * {@code x-match} itself never is. A wanted header with a void value asks only that the message has
 * that header, with any value (void included). With no wanted headers, {@code all} matches every
 * message (even one without headers) and {@code any} matches none.
 *
 * <p>Values compare as current RabbitMQ (3.13, 4.x) compares them: the field type letter is dropped
 * and the bare values must be the same term ({@code =:=}). So:
 * <ul>
 * <li>every integer type (b B s u I i l) is one kind: a header 1 sent as 'I' equals an argument 1
 *     sent as 'l' or 'b'; an integer never equals a float (1 is not 1.0) nor a decimal;</li>
 * <li>'f' and 'd' are one kind, compared exactly after widening the float to a double;</li>
 * <li>'S' long strings and 'x' byte arrays are one kind, compared byte for byte (a Java String
 *     compares by its UTF-8 bytes);</li>
 * <li>'D' decimals are equal only with the same scale and unscaled value (1.0 is not 1.00);</li>
 * <li>a 'T' timestamp header is seen as milliseconds (RabbitMQ scales header timestamps, not binding
 *     arguments), so it equals an integer argument of seconds x 1000, and not a 'T' argument with
 *     the same seconds;</li>
 * <li>arrays and tables keep their element types: equal only element by element, type letter and
 *     value, in order.</li>
 * </ul>
 * RabbitMQ before 3.13 compared with {@code ==}, under which 1 also equalled 1.0; we follow the
 * current behaviour.
 */
public final class HeadersExchange extends Exchange {
    public static final String TYPE = "headers";

    private static final String X_MATCH = "x-match";

    public HeadersExchange(String name, boolean durable, boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        super(name, TYPE, durable, autoDelete, internal, arguments);
    }

    /**
     * Why RabbitMQ would refuse these binding arguments (406 on queue.bind / exchange.bind), or null
     * when they are acceptable: {@code x-match}, when present, must be a string naming a mode.
     */
    public static String invalidBindingReason(Map<String, Object> arguments) {
        if (arguments == null || !arguments.containsKey(X_MATCH)) {
            return null;
        }
        Object v = arguments.get(X_MATCH);
        String s = FieldValues.string(v);
        if (s == null) {
            return "Invalid x-match field type " + FieldValues.typeName(v) + " (value " + v + "); expected longstr";
        }
        return switch (s) {
            case "all", "any", "all-with-x", "any-with-x" -> null;
            // RabbitMQ prints the value as an Erlang binary: <<"some">>.
            default -> "Invalid x-match field value <<\"" + s + "\">>; expected all, any, all-with-x, or any-with-x";
        };
    }

    @Override
    public boolean routesByKey() {
        return false;
    }

    @Override
    protected Router compile(List<Binding> bindings) {
        List<Rule> rules = new ArrayList<>(bindings.size());
        for (Binding b : bindings) {
            Rule rule = Rule.of(b);
            if (rule != null) {
                rules.add(rule);
            }
        }
        Rule[] table = rules.toArray(new Rule[0]);
        if (table.length == 0) {
            return (routingKey, header, out) -> { };
        }
        return (routingKey, header, out) -> {
            Map<String, Object> headers = header == null ? null : header.headers();
            for (Rule r : table) {
                if (r.matches(headers)) {
                    out.add(r.destination);
                }
            }
        };
    }

    /** One binding, compiled: the wanted header names and their values in comparable form. */
    private record Rule(Destination destination, boolean any, String[] names, Object[] wanted) {
        /** The rule for a binding, or null when the binding can never match (any with nothing wanted). */
        static Rule of(Binding b) {
            Map<String, Object> args = b.arguments();
            String mode = FieldValues.string(args.get(X_MATCH));
            boolean any = "any".equals(mode) || "any-with-x".equals(mode);
            boolean withX = "all-with-x".equals(mode) || "any-with-x".equals(mode);
            List<String> names = new ArrayList<>();
            List<Object> wanted = new ArrayList<>();
            args.forEach((k, v) -> {
                if (k.equals(X_MATCH) || (!withX && k.startsWith("x-"))) {
                    return;
                }
                names.add(k);
                wanted.add(comparable(v));
            });
            if (any && names.isEmpty()) {
                return null;
            }
            return new Rule(b.destination(), any, names.toArray(new String[0]), wanted.toArray());
        }

        boolean matches(Map<String, Object> headers) {
            for (int i = 0; i < names.length; i++) {
                boolean hit = headers != null && matchesOne(wanted[i], names[i], headers);
                if (hit == any) {
                    return any;
                }
            }
            return !any;
        }

        private static boolean matchesOne(Object want, String name, Map<String, Object> headers) {
            if (want == Binding.VOID) {
                return headers.containsKey(name);
            }
            Object have = headers.get(name);
            return have != null && sameTerm(want, have);
        }
    }

    /** Bytes of a string or binary argument, with its text when the bytes are valid UTF-8. */
    private record Text(byte[] bytes, String text) {
        static Text of(byte[] bytes) {
            String s = new String(bytes, StandardCharsets.UTF_8);
            return new Text(bytes, Arrays.equals(s.getBytes(StandardCharsets.UTF_8), bytes) ? s : null);
        }
    }

    /** A binding argument value turned into the form {@link #sameTerm} compares against header values. */
    static Object comparable(Object v) {
        if (v == null || v == Binding.VOID) {
            return Binding.VOID;
        }
        if (v instanceof String s) {
            return new Text(s.getBytes(StandardCharsets.UTF_8), s);
        }
        if (v instanceof FieldValues.LongString ls) {
            return Text.of(ls.bytes());
        }
        if (v instanceof byte[] bytes) {
            return Text.of(bytes);
        }
        if (v instanceof FieldValues.Timestamp t) {
            return t.epochSeconds(); // a binding argument's timestamp is not scaled (see the class comment)
        }
        Long integral = integralArgument(v);
        if (integral != null) {
            return integral;
        }
        if (v instanceof Float f) {
            return f.doubleValue();
        }
        return v; // Double, Boolean, BigDecimal, List, Map: compared as they are
    }

    private static Long integralArgument(Object v) {
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        if (v instanceof FieldValues.UByte u) {
            return (long) u.value();
        }
        if (v instanceof FieldValues.UShort u) {
            return (long) u.value();
        }
        if (v instanceof FieldValues.UInt u) {
            return u.value();
        }
        return null;
    }

    /** Whether a header value is the same untyped term as a compiled argument value. */
    static boolean sameTerm(Object want, Object have) {
        if (want instanceof Long l) {
            return integralEquals(have, l);
        }
        if (want instanceof Text t) {
            if (have instanceof FieldValues.LongString ls) {
                return Arrays.equals(t.bytes, ls.bytes());
            }
            if (have instanceof String s) {
                return t.text != null && t.text.equals(s);
            }
            return have instanceof byte[] bytes && Arrays.equals(t.bytes, bytes);
        }
        if (want instanceof Double d) {
            if (have instanceof Double h) {
                return Double.compare(d, h) == 0;
            }
            return have instanceof Float f && Double.compare(d, f.doubleValue()) == 0;
        }
        if (want instanceof List<?> || want instanceof Map<?, ?>) {
            return typedEquals(want, have);
        }
        return want.equals(have); // Boolean; BigDecimal (equals compares scale too, as RabbitMQ does)
    }

    private static boolean integralEquals(Object have, long want) {
        if (have instanceof Integer i) {
            return i == want;
        }
        if (have instanceof Long h) {
            return h == want;
        }
        if (have instanceof Short s) {
            return s == want;
        }
        if (have instanceof Byte b) {
            return b == want;
        }
        if (have instanceof FieldValues.UByte u) {
            return u.value() == want;
        }
        if (have instanceof FieldValues.UShort u) {
            return u.value() == want;
        }
        if (have instanceof FieldValues.UInt u) {
            return u.value() == want;
        }
        if (have instanceof FieldValues.Timestamp t) {
            long s = t.epochSeconds();
            return Math.abs(s) <= Long.MAX_VALUE / 1000 && s * 1000 == want;
        }
        return false;
    }

    /** Equality of nested values, which keep their field type letters in RabbitMQ. */
    private static boolean typedEquals(Object a, Object b) {
        char ta = letter(a);
        if (ta != letter(b)) {
            return false;
        }
        switch (ta) {
            case 'V':
                return true;
            case 'S':
                return Arrays.equals(stringBytes(a), stringBytes(b));
            case 'x':
                return Arrays.equals((byte[]) a, (byte[]) b);
            case 'f':
                return Float.compare((Float) a, (Float) b) == 0;
            case 'd':
                return Double.compare((Double) a, (Double) b) == 0;
            case 'A': {
                List<?> la = (List<?>) a;
                List<?> lb = (List<?>) b;
                if (la.size() != lb.size()) {
                    return false;
                }
                for (int i = 0; i < la.size(); i++) {
                    if (!typedEquals(la.get(i), lb.get(i))) {
                        return false;
                    }
                }
                return true;
            }
            case 'F': {
                // Tables compare as RabbitMQ's key-type-value lists do: in order.
                Map<?, ?> ma = (Map<?, ?>) a;
                Map<?, ?> mb = (Map<?, ?>) b;
                if (ma.size() != mb.size()) {
                    return false;
                }
                Iterator<? extends Map.Entry<?, ?>> ia = ma.entrySet().iterator();
                Iterator<? extends Map.Entry<?, ?>> ib = mb.entrySet().iterator();
                while (ia.hasNext()) {
                    Map.Entry<?, ?> ea = ia.next();
                    Map.Entry<?, ?> eb = ib.next();
                    if (!ea.getKey().equals(eb.getKey()) || !typedEquals(ea.getValue(), eb.getValue())) {
                        return false;
                    }
                }
                return true;
            }
            default:
                return a.equals(b); // the boxed integer types, records, Boolean, BigDecimal
        }
    }

    private static byte[] stringBytes(Object v) {
        return v instanceof FieldValues.LongString ls ? ls.bytes() : ((String) v).getBytes(StandardCharsets.UTF_8);
    }

    private static char letter(Object v) {
        return v == Binding.VOID ? 'V' : FieldValues.typeLetter(v);
    }
}
