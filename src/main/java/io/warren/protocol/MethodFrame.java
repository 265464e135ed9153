package io.warren.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One decoded method: which method, on which channel, and its arguments in table order. Arguments
 * are read by their spec names ({@code frame.string("queue")}); the names are checked against the
 * table, so a typo fails loudly. Immutable.
 */
public final class MethodFrame {
    private final int channel;
    private final Method method;
    private final Object[] args;

    MethodFrame(int channel, Method method, Object[] args) {
        this.channel = channel;
        this.method = method;
        this.args = args;
    }

    public int channel() { return channel; }
    public Method method() { return method; }

    private Object arg(String name) {
        return args[method.indexOf(name)];
    }

    /** A shortstr argument. */
    public String string(String name) {
        return (String) arg(name);
    }

    /** A longstr argument as bytes. */
    public byte[] bytes(String name) {
        return (byte[]) arg(name);
    }

    /** A longstr argument decoded as UTF-8. */
    public String longString(String name) {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }

    public boolean bool(String name) {
        return (Boolean) arg(name);
    }

    /** An octet, short or long argument. */
    public int integer(String name) {
        Object v = arg(name);
        return v instanceof Long l ? (int) (long) l : (Integer) v;
    }

    /** A long (unsigned 32-bit), longlong or timestamp argument. */
    public long longValue(String name) {
        return ((Number) arg(name)).longValue();
    }

    /** A table argument, decoded afresh by each call (the caller owns the map). */
    public Map<String, Object> table(String name) {
        return ((EncodedTable) arg(name)).decode();
    }

    /** One value of a table argument, or null when absent: {@code table(name).get(key)} without decoding the rest. */
    public Object tableValue(String name, String key) {
        return ((EncodedTable) arg(name)).find(key);
    }

    /** One value of a table nested in a table argument: {@code table(name).get(tableKey).get(key)}, or null. */
    public Object tableValue(String name, String tableKey, String key) {
        return ((EncodedTable) arg(name)).find(tableKey, key);
    }

    /**
     * An argument by its position in {@link Method#arguments()}: a String, Boolean, Number, byte[]
     * (longstr) or, for a table, its decoded map.
     */
    public Object argument(int index) {
        Object v = args[index];
        return v instanceof EncodedTable t ? t.decode() : v;
    }

    @Override
    public String toString() {
        return method.amqpName() + "@" + channel;
    }
}
