package io.warren.broker;

import io.warren.protocol.AmqpException;
import io.warren.protocol.ReplyCode;

/**
 * The {@code expiration} property: a message's own time to live, milliseconds written as decimal
 * digits. Checked at publish as RabbitMQ does (a bad value closes the channel with 406).
 */
public final class Expiration {
    private Expiration() {
    }

    /** The time to live in milliseconds, or -1 when the value is not a valid one. */
    public static long millis(String value) {
        return reason(value) == null ? Long.parseLong(value) : -1;
    }

    /** 406 PRECONDITION_FAILED with RabbitMQ's text unless the value is a valid expiration. */
    public static void check(String value) {
        String reason = reason(value);
        if (reason != null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "invalid expiration '" + value + "': " + reason);
        }
    }

    /** Why RabbitMQ refuses the value (its Erlang term), or null when it is fine. */
    private static String reason(String value) {
        int i = 0;
        if (i < value.length() && (value.charAt(i) == '-' || value.charAt(i) == '+')) {
            i++;
        }
        int digitsFrom = i;
        while (i < value.length() && Character.isDigit(value.charAt(i)) && value.charAt(i) < 128) {
            i++;
        }
        if (i == digitsFrom) {
            return "no_integer";
        }
        if (i < value.length()) {
            return "{leftover_chars,\"" + value.substring(i) + "\"}";
        }
        if (i - digitsFrom > 18) {
            return "{value_too_large," + value.substring(value.charAt(0) == '+' ? 1 : 0) + "}";
        }
        long n = Long.parseLong(value);
        if (n < 0) {
            return "{value_negative," + n + "}";
        }
        return n > QueueArguments.MAX_EXPIRY ? "{value_too_large," + n + "}" : null;
    }
}
