package io.warren.broker;

import io.netty.buffer.ByteBufAllocator;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldValues;
import io.warren.protocol.Properties;
import io.warren.protocol.ReplyCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's sender-selected distribution: the {@code CC} and {@code BCC} headers of a message,
 * arrays of long strings, name routing keys of their own besides the one of basic.publish. Every
 * exchange routes the message with all its keys (direct and topic exchanges match them; fanout and
 * headers exchanges ignore keys anyway), and a queue that several keys reach gets it once.
 * {@code BCC} is taken off the message before it is routed, so consumers never see it; {@code CC}
 * stays. As in RabbitMQ, elements that are not long strings are skipped, but a {@code CC} or
 * {@code BCC} header that is not an array makes the publish a 406. Stateless.
 */
public final class SenderRoutes {
    public static final String CC = "CC";
    public static final String BCC = "BCC";

    private SenderRoutes() {
    }

    /** True when the message has a CC or BCC header (only then is there anything to do). */
    public static boolean present(ContentHeader header) {
        if (!header.hasHeaders()) {
            return false;
        }
        Map<String, Object> headers = header.headers();
        return headers.containsKey(CC) || headers.containsKey(BCC);
    }

    /** The extra routing keys of the message: its CC keys, then its BCC keys, in their order. */
    public static List<String> of(ContentHeader header) {
        Map<String, Object> headers = header.headers();
        List<String> keys = new ArrayList<>();
        add(headers, CC, keys);
        add(headers, BCC, keys);
        return keys;
    }

    private static void add(Map<String, Object> headers, String name, List<String> into) {
        if (!headers.containsKey(name)) {
            return;
        }
        if (!(headers.get(name) instanceof List<?> values)) {
            // RabbitMQ's words: the message is invalid, with the Erlang term of the reason.
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "invalid message: {unacceptable_type_in_header,\""
                    + name + "\"," + FieldValues.typeName(headers.get(name)) + "}");
        }
        for (Object v : values) {
            if (v instanceof FieldValues.LongString || v instanceof String) {
                into.add(v.toString());
            }
        }
    }

    /** A header without BCC (to deliver instead of {@code header}, which the caller still owns). */
    public static ContentHeader withoutBcc(ContentHeader header, ByteBufAllocator alloc) {
        Properties properties = header.decodeCopy();
        properties.headers.remove(BCC);
        return ContentHeader.of(header.bodySize(), properties, alloc);
    }
}
