package io.warren.broker;

import io.warren.protocol.AmqpException;
import io.warren.protocol.FieldValues;
import io.warren.protocol.ReplyCode;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A RabbitMQ policy (or operator policy): the queues and exchanges whose names match
 * {@code pattern} take the keys of {@code definition}, the matching policy of highest priority
 * winning. See {@link QueueArguments#withPolicies} for how it combines with a queue's arguments.
 */
public record Policy(String vhost, String name, String pattern, String applyTo, int priority,
                     Map<String, Object> definition, boolean operator) {
    /** The keys Warren applies; {@code queue-mode} (RabbitMQ 3.x lazy queues) is accepted and has no effect. */
    private static final Set<String> QUEUE_KEYS = Set.of("message-ttl", "expires", "dead-letter-exchange",
            "dead-letter-routing-key", "max-length", "max-length-bytes", "overflow", "delivery-limit", "queue-mode");
    private static final Set<String> EXCHANGE_KEYS = Set.of("alternate-exchange");
    /** What operator policies may set (RabbitMQ's list for classic queues). */
    private static final Set<String> OPERATOR_KEYS = Set.of("message-ttl", "expires", "max-length", "max-length-bytes",
            "delivery-limit", "queue-mode");

    public Policy {
        applyTo = applyTo == null ? "all" : applyTo;
        definition = definition == null ? Map.of() : Map.copyOf(definition);
    }

    /** Checks a policy as RabbitMQ's validation would; 406-style message on a bad one. */
    public Policy validated() {
        if (!Set.of("all", "queues", "exchanges", "classic_queues").contains(applyTo)) {
            throw invalid("'" + applyTo + "' is not a valid apply-to value");
        }
        try {
            Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw invalid("pattern '" + pattern + "' is not a valid regular expression: " + e.getDescription());
        }
        if (definition.isEmpty()) {
            throw invalid("the policy's definition is empty");
        }
        for (Map.Entry<String, Object> e : definition.entrySet()) {
            String key = e.getKey();
            boolean known = operator ? OPERATOR_KEYS.contains(key) : QUEUE_KEYS.contains(key) || EXCHANGE_KEYS.contains(key);
            if (!known) {
                throw invalid("[{<<\"" + key + "\">>,...}] are not recognised policy settings");
            }
            Object v = e.getValue();
            boolean ok = switch (key) {
                case "message-ttl", "max-length", "max-length-bytes", "delivery-limit" ->
                        QueueArguments.integer(v) != null && QueueArguments.integer(v) >= 0;
                case "expires" -> QueueArguments.integer(v) != null && QueueArguments.integer(v) >= 1;
                case "overflow" -> QueueArguments.Overflow.of(FieldValues.string(v)) != null;
                case "queue-mode" -> "default".equals(FieldValues.string(v)) || "lazy".equals(FieldValues.string(v));
                default -> FieldValues.string(v) != null;
            };
            if (!ok) {
                throw invalid("invalid value " + v + " for " + key);
            }
        }
        return this;
    }

    private AmqpException invalid(String why) {
        return new AmqpException(ReplyCode.PRECONDITION_FAILED, "Validation failed for policy '" + name + "' in vhost '"
                + vhost + "': " + why);
    }

    private static final Map<String, Pattern> PATTERNS = new java.util.concurrent.ConcurrentHashMap<>();

    private boolean matches(String objectName) {
        return PATTERNS.computeIfAbsent(pattern, Pattern::compile).matcher(objectName).find();
    }

    boolean appliesToQueue(String queueName) {
        return !applyTo.equals("exchanges") && matches(queueName);
    }

    boolean appliesToExchange(String exchangeName) {
        return (applyTo.equals("all") || applyTo.equals("exchanges")) && matches(exchangeName);
    }

    Long number(String key) {
        return QueueArguments.integer(definition.get(key));
    }

    String string(String key) {
        return FieldValues.string(definition.get(key));
    }
}
