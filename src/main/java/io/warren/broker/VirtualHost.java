package io.warren.broker;

import io.netty.util.concurrent.EventExecutorGroup;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ReplyCode;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One virtual host: its exchanges and queues by name. Lookups are lock-free; changes to the set of
 * exchanges, queues and bindings (declare, delete, bind) are rare and serialised on this object, so
 * that a delete and a concurrent bind cannot leave a binding to something that is gone.
 */
public final class VirtualHost {
    public static final String DEFAULT_EXCHANGE = "";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final EventExecutorGroup queueThreads;
    private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
    private final Map<String, Queue> queues = new ConcurrentHashMap<>();

    public VirtualHost(String name, EventExecutorGroup queueThreads) {
        this.name = name;
        this.queueThreads = queueThreads;
        for (String type : List.of(DirectExchange.TYPE, FanoutExchange.TYPE, TopicExchange.TYPE, HeadersExchange.TYPE)) {
            String exchange = "amq." + type;
            exchanges.put(exchange, newExchange(exchange, type, true, false, false, Map.of()));
        }
        exchanges.put("amq.match", newExchange("amq.match", HeadersExchange.TYPE, true, false, false, Map.of()));
        exchanges.put(DEFAULT_EXCHANGE, newExchange(DEFAULT_EXCHANGE, DirectExchange.TYPE, true, false, false, Map.of()));
    }

    public String name() {
        return name;
    }

    public Exchange exchange(String exchangeName) {
        return exchanges.get(exchangeName);
    }

    public Queue queue(String queueName) {
        return queues.get(queueName);
    }

    public Iterable<Queue> queues() {
        return queues.values();
    }

    public Iterable<Exchange> exchanges() {
        return exchanges.values();
    }

    /** The exchange or a 404 naming it as RabbitMQ does. */
    public Exchange existingExchange(String exchangeName) {
        Exchange e = exchanges.get(exchangeName);
        if (e == null) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no exchange '" + exchangeName + "' in vhost '" + name + "'");
        }
        return e;
    }

    /** The queue or a 404 naming it as RabbitMQ does. */
    public Queue existingQueue(String queueName) {
        Queue q = queues.get(queueName);
        if (q == null) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no queue '" + queueName + "' in vhost '" + name + "'");
        }
        return q;
    }

    public synchronized Exchange declareExchange(String exchangeName, String type, boolean durable, boolean autoDelete,
                                                 boolean internal, Map<String, Object> arguments) {
        Exchange existing = exchanges.get(exchangeName);
        if (existing != null) {
            checkEquivalent(existing, type, durable, autoDelete, internal, arguments);
            return existing;
        }
        if (exchangeName.startsWith("amq.")) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED,
                    "exchange name '" + exchangeName + "' contains reserved prefix 'amq.*'");
        }
        Exchange created = newExchange(exchangeName, type, durable, autoDelete, internal, arguments);
        exchanges.put(exchangeName, created);
        return created;
    }

    private void checkEquivalent(Exchange e, String type, boolean durable, boolean autoDelete, boolean internal,
                                 Map<String, Object> arguments) {
        if (!e.type().equals(type)) {
            throw inequivalent("type", "exchange", e.name(), type, e.type());
        }
        if (e.durable() != durable) {
            throw inequivalent("durable", "exchange", e.name(), durable, e.durable());
        }
        if (e.autoDelete() != autoDelete) {
            throw inequivalent("auto_delete", "exchange", e.name(), autoDelete, e.autoDelete());
        }
        if (e.internal() != internal) {
            throw inequivalent("internal", "exchange", e.name(), internal, e.internal());
        }
        Object ae = arguments == null ? null : arguments.get("alternate-exchange");
        if (!Objects.equals(ae, e.arguments().get("alternate-exchange"))) {
            throw inequivalent("alternate-exchange", "exchange", e.name(), ae, e.arguments().get("alternate-exchange"));
        }
    }

    private AmqpException inequivalent(String arg, String kind, String objectName, Object received, Object current) {
        return new AmqpException(ReplyCode.PRECONDITION_FAILED, "inequivalent arg '" + arg + "' for " + kind + " '"
                + objectName + "' in vhost '" + name + "': received '" + received + "' but current is '" + current + "'");
    }

    private static Exchange newExchange(String name, String type, boolean durable, boolean autoDelete, boolean internal,
                                        Map<String, Object> arguments) {
        return switch (type) {
            case DirectExchange.TYPE -> new DirectExchange(name, durable, autoDelete, internal, arguments);
            case FanoutExchange.TYPE -> new FanoutExchange(name, durable, autoDelete, internal, arguments);
            case TopicExchange.TYPE -> new TopicExchange(name, durable, autoDelete, internal, arguments);
            case HeadersExchange.TYPE -> new HeadersExchange(name, durable, autoDelete, internal, arguments);
            default -> throw new AmqpException(ReplyCode.COMMAND_INVALID,
                    "unknown exchange type '" + type + "'");
        };
    }

    /** Deletes an exchange and every binding to and from it; false when there was none. */
    public synchronized boolean deleteExchange(String exchangeName, boolean ifUnused) {
        Exchange e = exchanges.get(exchangeName);
        if (e == null) {
            return false;
        }
        if (exchangeName.isEmpty() || exchangeName.startsWith("amq.")) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange"
                    .replace("the default exchange", exchangeName.isEmpty() ? "the default exchange"
                            : "system exchange '" + exchangeName + "' in vhost '" + name + "'"));
        }
        if (ifUnused && !e.bindings().isEmpty()) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED,
                    "exchange '" + exchangeName + "' in vhost '" + name + "' in use");
        }
        exchanges.remove(exchangeName);
        removeBindingsTo(e);
        return true;
    }

    /**
     * Declares a queue, or returns the existing one after checking it is equivalent. An empty name
     * asks for a server-named queue.
     */
    public synchronized Queue declareQueue(String queueName, boolean durable, boolean exclusive, boolean autoDelete,
                                           Map<String, Object> arguments, Object connection) {
        if (queueName.isEmpty()) {
            do {
                queueName = serverName();
            } while (queues.containsKey(queueName));
        } else {
            Queue existing = queues.get(queueName);
            if (existing != null) {
                checkExclusiveAccess(existing, connection);
                if (existing.durable() != durable) {
                    throw inequivalent("durable", "queue", queueName, durable, existing.durable());
                }
                if (existing.autoDelete() != autoDelete) {
                    throw inequivalent("auto_delete", "queue", queueName, autoDelete, existing.autoDelete());
                }
                if (exclusive && !existing.exclusive()) {
                    throw lockedError(queueName);
                }
                return existing;
            }
            if (queueName.startsWith("amq.")) {
                throw new AmqpException(ReplyCode.ACCESS_REFUSED,
                        "queue name '" + queueName + "' contains reserved prefix 'amq.*'");
            }
        }
        ClassicQueue created = new ClassicQueue(name, queueName, durable, exclusive, autoDelete, arguments,
                exclusive ? connection : null, queueThreads.next(), this::queueDeleted);
        queues.put(queueName, created);
        return created;
    }

    /** 405 unless the queue is not exclusive or belongs to this connection. */
    public void checkExclusiveAccess(Queue queue, Object connection) {
        if (queue.exclusive() && queue.owner() != connection) {
            throw lockedError(queue.name());
        }
    }

    private AmqpException lockedError(String queueName) {
        return new AmqpException(ReplyCode.RESOURCE_LOCKED, "cannot obtain exclusive access to locked queue '"
                + queueName + "' in vhost '" + name + "'. It could be originally declared on another connection "
                + "or the exclusive property value does not match that of the original declaration.");
    }

    private static String serverName() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return "amq.gen-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Called on the queue's thread once it has deleted itself. */
    private synchronized void queueDeleted(ClassicQueue queue) {
        queues.remove(queue.name(), queue);
        removeBindingsTo(queue);
    }

    private void removeBindingsTo(Destination destination) {
        for (Exchange e : exchanges.values()) {
            if (e.unbindAll(destination)) {
                deleteIfAutoDelete(e);
            }
        }
    }

    private void deleteIfAutoDelete(Exchange e) {
        if (e.autoDelete() && e.bindings().isEmpty() && exchanges.remove(e.name(), e)) {
            removeBindingsTo(e);
        }
    }

    public synchronized void bind(Exchange source, Destination destination, String routingKey, Map<String, Object> arguments) {
        checkNotDefault(source);
        if (destination instanceof Queue q && q.isDeleted() || destination instanceof Exchange e && exchanges.get(e.name()) != e) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no " + (destination instanceof Queue ? "queue" : "exchange")
                    + " '" + destination.name() + "' in vhost '" + name + "'");
        }
        if (source instanceof HeadersExchange) {
            String invalid = HeadersExchange.invalidBindingReason(arguments);
            if (invalid != null) {
                throw new AmqpException(ReplyCode.PRECONDITION_FAILED, invalid);
            }
        }
        source.bind(new Binding(source, destination, routingKey, arguments));
    }

    public synchronized void unbind(Exchange source, Destination destination, String routingKey, Map<String, Object> arguments) {
        checkNotDefault(source);
        if (source.unbind(new Binding(source, destination, routingKey, arguments))) {
            deleteIfAutoDelete(source);
        }
    }

    private static void checkNotDefault(Exchange source) {
        if (source.name().isEmpty()) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
    }

    @Override
    public String toString() {
        return "vhost '" + name + "'";
    }
}
