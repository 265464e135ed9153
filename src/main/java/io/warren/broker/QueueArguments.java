package io.warren.broker;

import io.warren.protocol.AmqpException;
import io.warren.protocol.FieldValues;
import io.warren.protocol.ReplyCode;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A queue's {@code x-} arguments, parsed and checked once at declare (or recovery) as RabbitMQ's
 * rabbit_amqqueue does: a bad value is 406 PRECONDITION_FAILED with RabbitMQ's text, and a redeclare
 * with other values of the arguments RabbitMQ compares is 406 too ({@link #checkEquivalent}).
 * Arguments RabbitMQ does not know are kept (they go back into definitions) and play no part.
 */
public final class QueueArguments {
    /** RabbitMQ's largest timer (2^32 - 1 ms), the bound of x-message-ttl and x-expires. */
    static final long MAX_EXPIRY = 4294967295L;
    static final int MAX_PRIORITY = 255;

    /** What happens to a publish that finds the queue full (x-overflow). */
    public enum Overflow {
        DROP_HEAD("drop-head"), REJECT_PUBLISH("reject-publish"), REJECT_PUBLISH_DLX("reject-publish-dlx");

        final String value;

        Overflow(String value) {
            this.value = value;
        }

        static Overflow of(String value) {
            for (Overflow o : values()) {
                if (o.value.equals(value)) {
                    return o;
                }
            }
            return null;
        }
    }

    /** The arguments RabbitMQ checks on declare and compares on redeclare, in its order. */
    private static final List<String> DECLARE_ARGS = List.of("x-expires", "x-message-ttl", "x-dead-letter-exchange",
            "x-dead-letter-routing-key", "x-max-length", "x-max-length-bytes", "x-max-in-memory-length",
            "x-max-in-memory-bytes", "x-max-priority", "x-overflow", "x-queue-mode", "x-single-active-consumer",
            "x-queue-type", "x-quorum-initial-group-size", "x-max-age", "x-stream-max-segment-size-bytes",
            "x-initial-cluster-size", "x-queue-leader-locator", "x-delivery-limit");

    public static final QueueArguments NONE = new QueueArguments(Map.of());

    private final Map<String, Object> raw;
    /** The arguments as declared, which policies apply to (this object unless it is an effective one). */
    private final QueueArguments declared;
    /** Milliseconds, or -1 when unset. */
    public final long messageTtl;
    /** Milliseconds, or -1 when unset. */
    public final long expires;
    public final String deadLetterExchange;
    public final String deadLetterRoutingKey;
    /** -1 when unset. */
    public final long maxLength;
    /** -1 when unset. */
    public final long maxLengthBytes;
    public final Overflow overflow;
    /** 0 when the queue has no priorities. */
    public final int maxPriority;
    public final boolean singleActiveConsumer;
    /** -1 when unset. */
    public final long deliveryLimit;
    public final String queueType;

    private QueueArguments(QueueArguments declared, long messageTtl, long expires, String deadLetterExchange,
                           String deadLetterRoutingKey, long maxLength, long maxLengthBytes, Overflow overflow,
                           long deliveryLimit) {
        this.raw = declared.raw;
        this.declared = declared;
        this.messageTtl = messageTtl;
        this.expires = expires;
        this.deadLetterExchange = deadLetterExchange;
        this.deadLetterRoutingKey = deadLetterRoutingKey;
        this.maxLength = maxLength;
        this.maxLengthBytes = maxLengthBytes;
        this.overflow = overflow;
        this.maxPriority = declared.maxPriority;
        this.singleActiveConsumer = declared.singleActiveConsumer;
        this.deliveryLimit = deliveryLimit;
        this.queueType = declared.queueType;
    }

    /**
     * The arguments in effect under a policy and an operator policy (either may be null), as
     * RabbitMQ combines them: for the numeric limits the lowest of the three, for the dead-letter
     * exchange and routing key and for overflow the queue's own argument when it has one.
     */
    public QueueArguments withPolicies(Policy policy, Policy operator) {
        QueueArguments d = declared;
        if (policy == null && operator == null) {
            return d;
        }
        return d.applied(policy, operator);
    }

    private QueueArguments applied(Policy policy, Policy operator) {
        return new QueueArguments(this,
                lowest(messageTtl, policy, operator, "message-ttl"),
                lowest(expires, policy, operator, "expires"),
                raw.containsKey("x-dead-letter-exchange") || policy == null ? deadLetterExchange : policy.string("dead-letter-exchange"),
                raw.containsKey("x-dead-letter-routing-key") || policy == null ? deadLetterRoutingKey : policy.string("dead-letter-routing-key"),
                lowest(maxLength, policy, operator, "max-length"),
                lowest(maxLengthBytes, policy, operator, "max-length-bytes"),
                raw.containsKey("x-overflow") || policy == null || policy.string("overflow") == null ? overflow
                        : Overflow.of(policy.string("overflow")),
                lowest(deliveryLimit, policy, operator, "delivery-limit"));
    }

    private static long lowest(long own, Policy policy, Policy operator, String key) {
        long result = own;
        for (Policy p : new Policy[] {policy, operator}) {
            Long v = p == null ? null : p.number(key);
            if (v != null && (result < 0 || v < result)) {
                result = v;
            }
        }
        return result;
    }

    private QueueArguments(Map<String, Object> raw) {
        this.raw = raw;
        this.declared = this;
        this.messageTtl = longOr(raw.get("x-message-ttl"), -1);
        this.expires = longOr(raw.get("x-expires"), -1);
        this.deadLetterExchange = FieldValues.string(raw.get("x-dead-letter-exchange"));
        this.deadLetterRoutingKey = FieldValues.string(raw.get("x-dead-letter-routing-key"));
        this.maxLength = longOr(raw.get("x-max-length"), -1);
        this.maxLengthBytes = longOr(raw.get("x-max-length-bytes"), -1);
        String overflowValue = FieldValues.string(raw.get("x-overflow"));
        this.overflow = overflowValue == null ? Overflow.DROP_HEAD : Overflow.of(overflowValue);
        this.maxPriority = (int) longOr(raw.get("x-max-priority"), 0);
        this.singleActiveConsumer = Boolean.TRUE.equals(raw.get("x-single-active-consumer"));
        this.deliveryLimit = longOr(raw.get("x-delivery-limit"), -1);
        String type = FieldValues.string(raw.get("x-queue-type"));
        this.queueType = type == null ? ClassicQueueType.NAME : type;
    }

    /**
     * Parses and checks a declare's arguments; {@code queue} names the queue in errors, as
     * RabbitMQ's {@code queue 'q' in vhost '/'}.
     */
    public static QueueArguments parse(Map<String, Object> arguments, String queue) {
        if (arguments == null || arguments.isEmpty()) {
            return NONE;
        }
        for (String key : DECLARE_ARGS) {
            if (arguments.containsKey(key)) {
                String error = check(key, arguments.get(key), arguments);
                if (error != null) {
                    throw new AmqpException(ReplyCode.PRECONDITION_FAILED,
                            "invalid arg '" + key + "' for " + queue + ": " + error);
                }
            }
        }
        return new QueueArguments(arguments);
    }

    /** The arguments as declared, unknown ones included (for definitions and the API). */
    public Map<String, Object> raw() {
        return raw;
    }

    public boolean hasLengthLimit() {
        return maxLength >= 0 || maxLengthBytes >= 0;
    }

    /** RabbitMQ's reason (an Erlang term as it prints it) why a value is refused, or null when it is fine. */
    private static String check(String key, Object value, Map<String, Object> all) {
        return switch (key) {
            case "x-expires" -> {
                String e = checkInteger(value);
                if (e == null && integer(value) == 0) {
                    e = "{value_zero,0}";
                }
                yield e != null ? e : checkExpiry(integer(value));
            }
            case "x-message-ttl" -> {
                String e = checkInteger(value);
                yield e != null ? e : checkExpiry(integer(value));
            }
            case "x-dead-letter-exchange" -> checkString(value);
            case "x-dead-letter-routing-key" -> {
                String e = checkString(value);
                yield e != null ? e : all.get("x-dead-letter-exchange") == null ? "routing_key_but_no_dlx_defined" : null;
            }
            case "x-max-length", "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes",
                 "x-stream-max-segment-size-bytes", "x-delivery-limit" -> checkNonNegative(value);
            case "x-max-priority" -> {
                String e = checkNonNegative(value);
                yield e != null ? e : integer(value) > MAX_PRIORITY ? "{max_value_exceeded," + integer(value) + "}" : null;
            }
            case "x-overflow" -> {
                String e = checkString(value);
                yield e != null ? e : Overflow.of(FieldValues.string(value)) == null ? "invalid_overflow" : null;
            }
            case "x-queue-mode" -> {
                String e = checkString(value);
                String mode = FieldValues.string(value);
                yield e != null ? e : mode.equals("default") || mode.equals("lazy") ? null : "invalid_queue_mode";
            }
            case "x-single-active-consumer" -> value instanceof Boolean ? null : unacceptable(value);
            case "x-queue-type" -> {
                String e = checkString(value);
                yield e != null ? e : QueueType.named(FieldValues.string(value)) == null
                        ? "{unsupported_queue_type,'" + FieldValues.string(value) + "'}" : null;
            }
            case "x-quorum-initial-group-size", "x-initial-cluster-size" -> {
                String e = checkInteger(value);
                yield e != null ? e : integer(value) <= 0 ? "{value_zero_or_less," + integer(value) + "}" : null;
            }
            default -> null; // x-max-age, x-queue-leader-locator: stream and quorum queues only (refused by x-queue-type)
        };
    }

    private static String checkExpiry(long value) {
        if (value < 0) {
            return "{value_negative," + value + "}";
        }
        return value > MAX_EXPIRY ? "{value_too_large," + value + "}" : null;
    }

    private static String checkNonNegative(Object value) {
        String e = checkInteger(value);
        if (e == null && integer(value) < 0) {
            return "{value_negative," + integer(value) + "}";
        }
        return e;
    }

    private static String checkInteger(Object value) {
        return integer(value) == null ? unacceptable(value) : null;
    }

    private static String checkString(Object value) {
        return FieldValues.string(value) == null ? unacceptable(value) : null;
    }

    private static String unacceptable(Object value) {
        return "{unacceptable_type," + FieldValues.typeName(value) + "}";
    }

    /** A whole number of one of AMQP's integer types (not a decimal, unlike {@link FieldValues#integer}). */
    static Long integer(Object value) {
        return value instanceof BigDecimal ? null : FieldValues.integer(value);
    }

    private static long longOr(Object value, long otherwise) {
        Long v = integer(value);
        return v == null ? otherwise : v;
    }


    /**
     * RabbitMQ's redeclare rule: each argument it knows must be absent from both declarations or of
     * the same value (integers of any width being alike); 406 otherwise, worded as RabbitMQ words it.
     */
    public void checkEquivalent(Map<String, Object> requested, String queue) {
        Map<String, Object> other = requested == null ? Map.of() : requested;
        for (String key : DECLARE_ARGS) {
            Object current = raw.get(key);
            Object received = other.get(key);
            if (key.equals("x-queue-type")) {
                // Today's only type: naming it or not is the same queue.
                current = current == null ? ClassicQueueType.NAME : FieldValues.string(current);
                received = received == null ? ClassicQueueType.NAME : FieldValues.string(received);
                if (Objects.equals(current, received)) {
                    continue;
                }
            }
            boolean currentSet = raw.containsKey(key);
            boolean receivedSet = other.containsKey(key);
            if (!currentSet && !receivedSet || sameValue(current, received)) {
                continue;
            }
            String receivedText = receivedSet ? describe(received) : "none";
            String currentText = currentSet ? describe(current) : "none";
            if (currentSet && receivedSet) {
                receivedText = "'" + text(received) + "'";
                currentText = "'" + text(current) + "'";
            }
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "inequivalent arg '" + key + "' for " + queue
                    + ": received " + receivedText + " but current is " + currentText);
        }
    }

    private static boolean sameValue(Object a, Object b) {
        Long x = integer(a);
        Long y = integer(b);
        if (x != null || y != null) {
            return Objects.equals(x, y);
        }
        String s = FieldValues.string(a);
        String t = FieldValues.string(b);
        if (s != null || t != null) {
            return Objects.equals(s, t);
        }
        return Objects.equals(a, b);
    }

    private static String describe(Object value) {
        return "the value '" + text(value) + "' of type '" + FieldValues.typeName(value) + "'";
    }

    private static String text(Object value) {
        Long n = integer(value);
        if (n != null) {
            return Long.toString(n);
        }
        String s = FieldValues.string(value);
        return s != null ? s : String.valueOf(value);
    }
}
