package io.warren.protocol;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The AMQP 0-9-1 method table with RabbitMQ's extensions: class and method ids and each method's
 * arguments, by name and wire type, in order. {@link MethodCodec} reads and writes every method from
 * this table alone; only the hot paths (publish, deliver, ack) have hand-written encoders as well.
 * Entered from the spec document (amqp-rabbitmq-0.9.1.json); keep it in the spec's order.
 */
public enum Method {
    CONNECTION_START(10, 10, "connection.start", false, f(FieldType.OCTET, "version-major"), f(FieldType.OCTET, "version-minor"), f(FieldType.TABLE, "server-properties"), f(FieldType.LONGSTR, "mechanisms"), f(FieldType.LONGSTR, "locales")),
    CONNECTION_START_OK(10, 11, "connection.start-ok", false, f(FieldType.TABLE, "client-properties"), f(FieldType.SHORTSTR, "mechanism"), f(FieldType.LONGSTR, "response"), f(FieldType.SHORTSTR, "locale")),
    CONNECTION_SECURE(10, 20, "connection.secure", false, f(FieldType.LONGSTR, "challenge")),
    CONNECTION_SECURE_OK(10, 21, "connection.secure-ok", false, f(FieldType.LONGSTR, "response")),
    CONNECTION_TUNE(10, 30, "connection.tune", false, f(FieldType.SHORT, "channel-max"), f(FieldType.LONG, "frame-max"), f(FieldType.SHORT, "heartbeat")),
    CONNECTION_TUNE_OK(10, 31, "connection.tune-ok", false, f(FieldType.SHORT, "channel-max"), f(FieldType.LONG, "frame-max"), f(FieldType.SHORT, "heartbeat")),
    CONNECTION_OPEN(10, 40, "connection.open", false, f(FieldType.SHORTSTR, "virtual-host"), f(FieldType.SHORTSTR, "capabilities"), f(FieldType.BIT, "insist")),
    CONNECTION_OPEN_OK(10, 41, "connection.open-ok", false, f(FieldType.SHORTSTR, "known-hosts")),
    CONNECTION_CLOSE(10, 50, "connection.close", false, f(FieldType.SHORT, "reply-code"), f(FieldType.SHORTSTR, "reply-text"), f(FieldType.SHORT, "class-id"), f(FieldType.SHORT, "method-id")),
    CONNECTION_CLOSE_OK(10, 51, "connection.close-ok", false),
    CONNECTION_BLOCKED(10, 60, "connection.blocked", false, f(FieldType.SHORTSTR, "reason")),
    CONNECTION_UNBLOCKED(10, 61, "connection.unblocked", false),
    CONNECTION_UPDATE_SECRET(10, 70, "connection.update-secret", false, f(FieldType.LONGSTR, "new-secret"), f(FieldType.SHORTSTR, "reason")),
    CONNECTION_UPDATE_SECRET_OK(10, 71, "connection.update-secret-ok", false),
    CHANNEL_OPEN(20, 10, "channel.open", false, f(FieldType.SHORTSTR, "out-of-band")),
    CHANNEL_OPEN_OK(20, 11, "channel.open-ok", false, f(FieldType.LONGSTR, "channel-id")),
    CHANNEL_FLOW(20, 20, "channel.flow", false, f(FieldType.BIT, "active")),
    CHANNEL_FLOW_OK(20, 21, "channel.flow-ok", false, f(FieldType.BIT, "active")),
    CHANNEL_CLOSE(20, 40, "channel.close", false, f(FieldType.SHORT, "reply-code"), f(FieldType.SHORTSTR, "reply-text"), f(FieldType.SHORT, "class-id"), f(FieldType.SHORT, "method-id")),
    CHANNEL_CLOSE_OK(20, 41, "channel.close-ok", false),
    ACCESS_REQUEST(30, 10, "access.request", false, f(FieldType.SHORTSTR, "realm"), f(FieldType.BIT, "exclusive"), f(FieldType.BIT, "passive"), f(FieldType.BIT, "active"), f(FieldType.BIT, "write"), f(FieldType.BIT, "read")),
    ACCESS_REQUEST_OK(30, 11, "access.request-ok", false, f(FieldType.SHORT, "ticket")),
    EXCHANGE_DECLARE(40, 10, "exchange.declare", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "type"), f(FieldType.BIT, "passive"), f(FieldType.BIT, "durable"), f(FieldType.BIT, "auto-delete"), f(FieldType.BIT, "internal"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    EXCHANGE_DECLARE_OK(40, 11, "exchange.declare-ok", false),
    EXCHANGE_DELETE(40, 20, "exchange.delete", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.BIT, "if-unused"), f(FieldType.BIT, "nowait")),
    EXCHANGE_DELETE_OK(40, 21, "exchange.delete-ok", false),
    EXCHANGE_BIND(40, 30, "exchange.bind", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "destination"), f(FieldType.SHORTSTR, "source"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    EXCHANGE_BIND_OK(40, 31, "exchange.bind-ok", false),
    EXCHANGE_UNBIND(40, 40, "exchange.unbind", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "destination"), f(FieldType.SHORTSTR, "source"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    EXCHANGE_UNBIND_OK(40, 51, "exchange.unbind-ok", false),
    QUEUE_DECLARE(50, 10, "queue.declare", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.BIT, "passive"), f(FieldType.BIT, "durable"), f(FieldType.BIT, "exclusive"), f(FieldType.BIT, "auto-delete"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    QUEUE_DECLARE_OK(50, 11, "queue.declare-ok", false, f(FieldType.SHORTSTR, "queue"), f(FieldType.LONG, "message-count"), f(FieldType.LONG, "consumer-count")),
    QUEUE_BIND(50, 20, "queue.bind", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    QUEUE_BIND_OK(50, 21, "queue.bind-ok", false),
    QUEUE_PURGE(50, 30, "queue.purge", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.BIT, "nowait")),
    QUEUE_PURGE_OK(50, 31, "queue.purge-ok", false, f(FieldType.LONG, "message-count")),
    QUEUE_DELETE(50, 40, "queue.delete", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.BIT, "if-unused"), f(FieldType.BIT, "if-empty"), f(FieldType.BIT, "nowait")),
    QUEUE_DELETE_OK(50, 41, "queue.delete-ok", false, f(FieldType.LONG, "message-count")),
    QUEUE_UNBIND(50, 50, "queue.unbind", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.TABLE, "arguments")),
    QUEUE_UNBIND_OK(50, 51, "queue.unbind-ok", false),
    BASIC_QOS(60, 10, "basic.qos", false, f(FieldType.LONG, "prefetch-size"), f(FieldType.SHORT, "prefetch-count"), f(FieldType.BIT, "global")),
    BASIC_QOS_OK(60, 11, "basic.qos-ok", false),
    BASIC_CONSUME(60, 20, "basic.consume", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.SHORTSTR, "consumer-tag"), f(FieldType.BIT, "no-local"), f(FieldType.BIT, "no-ack"), f(FieldType.BIT, "exclusive"), f(FieldType.BIT, "nowait"), f(FieldType.TABLE, "arguments")),
    BASIC_CONSUME_OK(60, 21, "basic.consume-ok", false, f(FieldType.SHORTSTR, "consumer-tag")),
    BASIC_CANCEL(60, 30, "basic.cancel", false, f(FieldType.SHORTSTR, "consumer-tag"), f(FieldType.BIT, "nowait")),
    BASIC_CANCEL_OK(60, 31, "basic.cancel-ok", false, f(FieldType.SHORTSTR, "consumer-tag")),
    BASIC_PUBLISH(60, 40, "basic.publish", true, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.BIT, "mandatory"), f(FieldType.BIT, "immediate")),
    BASIC_RETURN(60, 50, "basic.return", true, f(FieldType.SHORT, "reply-code"), f(FieldType.SHORTSTR, "reply-text"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key")),
    BASIC_DELIVER(60, 60, "basic.deliver", true, f(FieldType.SHORTSTR, "consumer-tag"), f(FieldType.LONGLONG, "delivery-tag"), f(FieldType.BIT, "redelivered"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key")),
    BASIC_GET(60, 70, "basic.get", false, f(FieldType.SHORT, "ticket"), f(FieldType.SHORTSTR, "queue"), f(FieldType.BIT, "no-ack")),
    BASIC_GET_OK(60, 71, "basic.get-ok", true, f(FieldType.LONGLONG, "delivery-tag"), f(FieldType.BIT, "redelivered"), f(FieldType.SHORTSTR, "exchange"), f(FieldType.SHORTSTR, "routing-key"), f(FieldType.LONG, "message-count")),
    BASIC_GET_EMPTY(60, 72, "basic.get-empty", false, f(FieldType.SHORTSTR, "cluster-id")),
    BASIC_ACK(60, 80, "basic.ack", false, f(FieldType.LONGLONG, "delivery-tag"), f(FieldType.BIT, "multiple")),
    BASIC_REJECT(60, 90, "basic.reject", false, f(FieldType.LONGLONG, "delivery-tag"), f(FieldType.BIT, "requeue")),
    BASIC_RECOVER_ASYNC(60, 100, "basic.recover-async", false, f(FieldType.BIT, "requeue")),
    BASIC_RECOVER(60, 110, "basic.recover", false, f(FieldType.BIT, "requeue")),
    BASIC_RECOVER_OK(60, 111, "basic.recover-ok", false),
    BASIC_NACK(60, 120, "basic.nack", false, f(FieldType.LONGLONG, "delivery-tag"), f(FieldType.BIT, "multiple"), f(FieldType.BIT, "requeue")),
    TX_SELECT(90, 10, "tx.select", false),
    TX_SELECT_OK(90, 11, "tx.select-ok", false),
    TX_COMMIT(90, 20, "tx.commit", false),
    TX_COMMIT_OK(90, 21, "tx.commit-ok", false),
    TX_ROLLBACK(90, 30, "tx.rollback", false),
    TX_ROLLBACK_OK(90, 31, "tx.rollback-ok", false),
    CONFIRM_SELECT(85, 10, "confirm.select", false, f(FieldType.BIT, "nowait")),
    CONFIRM_SELECT_OK(85, 11, "confirm.select-ok", false);

    private static final Method[][] BY_ID = new Method[256][];

    static {
        for (Method m : values()) {
            if (BY_ID[m.classId] == null) {
                BY_ID[m.classId] = new Method[256];
            }
            BY_ID[m.classId][m.methodId] = m;
        }
    }

    private final int classId;
    private final int methodId;
    private final String amqpName;
    private final boolean hasContent;
    private final Field[] fields;
    private final Map<String, Integer> fieldIndex = new HashMap<>();

    Method(int classId, int methodId, String amqpName, boolean hasContent, Field... fields) {
        this.classId = classId;
        this.methodId = methodId;
        this.amqpName = amqpName;
        this.hasContent = hasContent;
        this.fields = fields;
        for (int i = 0; i < fields.length; i++) {
            fieldIndex.put(fields[i].name(), i);
        }
    }

    /** One argument of a method: its name in the spec and its wire type. */
    public record Field(FieldType type, String name) {
    }

    private static Field f(FieldType type, String name) {
        return new Field(type, name);
    }

    private static int key(int classId, int methodId) {
        return classId << 16 | methodId;
    }

    /** The method with these ids, or null when the table has none. */
    public static Method byId(int classId, int methodId) {
        Method[] methods = classId < BY_ID.length ? BY_ID[classId] : null;
        return methods == null || methodId >= methods.length ? null : methods[methodId];
    }

    public int classId() { return classId; }
    public int methodId() { return methodId; }
    /** The spec's name, e.g. "queue.declare". */
    public String amqpName() { return amqpName; }
    /** True when a content header and body frames follow this method. */
    public boolean hasContent() { return hasContent; }
    Field[] fields() { return fields; }
    /** The arguments in wire order (for tools that show or build any method, e.g. the frame-trace tests). */
    public List<Field> arguments() { return List.of(fields); }

    /** Position of the named argument; a typo is a programming error, so it throws. */
    int indexOf(String field) {
        Integer i = fieldIndex.get(field);
        if (i == null) {
            throw new IllegalArgumentException(amqpName + " has no argument " + field);
        }
        return i;
    }

    @Override
    public String toString() {
        return amqpName;
    }
}
