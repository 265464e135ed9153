package io.warren.broker;

import io.netty.util.concurrent.EventExecutorGroup;
import io.warren.protocol.AmqpException;
import io.warren.protocol.FieldValues;
import io.warren.protocol.ReplyCode;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import io.warren.store.BodyStore;
import io.warren.store.DefinitionsFile;
import io.warren.store.QueueLog;
import io.warren.store.Store;

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
    /** Where durable definitions and messages go; null for a broker that keeps nothing. */
    private final Store store;
    /** Bytes of ready messages each queue keeps in memory; beyond it, messages wait on disk. */
    private final long queueMemoryBudget;
    private volatile CompletableFuture<Void> lastSave = CompletableFuture.completedFuture(null);
    /** Policies and operator policies by name. */
    private final Map<String, Policy> policies = new ConcurrentHashMap<>();
    private final Map<String, Policy> operatorPolicies = new ConcurrentHashMap<>();

    public VirtualHost(String name, EventExecutorGroup queueThreads) {
        this(name, queueThreads, null);
    }

    public VirtualHost(String name, EventExecutorGroup queueThreads, Store store) {
        this(name, queueThreads, store, 32L << 20);
    }

    public VirtualHost(String name, EventExecutorGroup queueThreads, Store store, long queueMemoryBudget) {
        this.queueMemoryBudget = queueMemoryBudget;
        this.name = name;
        this.queueThreads = queueThreads;
        this.store = store;
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

    /**
     * The one way a message finds its queues (publishes and transaction commits today; dead-lettering
     * and the management API's publish later): on the default exchange the queue its routing key
     * names, otherwise the exchange's bindings, followed through exchange-to-exchange bindings, and,
     * when they reach nothing, RabbitMQ's alternate exchanges. A large persistent body going to
     * several durable queues is written once to the shared body store here, so that each queue's log
     * holds only a reference to it. A message's CC and BCC keys ({@link Message#extraRoutingKeys})
     * route it as its routing key does, on every exchange of the way. The result is {@code into}'s
     * queues (reused by its owner thread).
     */
    public List<Queue> route(Exchange exchange, Message message, RouteResult into) {
        List<String> extraKeys = message.extraRoutingKeys();
        List<Queue> reached;
        if (exchange.name().isEmpty()) {
            reached = into.only(queues.get(message.routingKey())).queues();
            if (extraKeys.isEmpty()) {
                return reached;
            }
            for (int i = 0; i < extraKeys.size(); i++) {
                into.addNamed(queues.get(extraKeys.get(i)));
            }
        } else {
            reached = into.route(exchange, message.routingKey(), extraKeys, message.header()).queues();
            if (reached.isEmpty()) {
                reached = routeToAlternates(exchange, message, into);
            }
        }
        if (reached.size() > 1 && store != null && message.bodySize() >= BodyStore.SHARED_FROM
                && message.header().persistent()) {
            storeBodyOnce(message, reached);
        }
        return reached;
    }

    /**
     * RabbitMQ's alternate exchanges: a message that its exchange cannot route goes to the exchange
     * named by its {@code alternate-exchange} argument, and on through that one's, if any.
     */
    private List<Queue> routeToAlternates(Exchange exchange, Message message, RouteResult into) {
        List<Queue> reached = into.queues();
        Exchange current = exchange;
        for (int hops = 0; hops < 16 && reached.isEmpty(); hops++) {
            String alternate = FieldValues.string(current.arguments().get("alternate-exchange"));
            if (alternate == null && !policies.isEmpty()) {
                Policy p = policyFor(current.name(), false, policies);
                alternate = p == null ? null : p.string("alternate-exchange");
            }
            Exchange next = alternate == null ? null : exchanges.get(alternate);
            if (next == null || next == current || next == exchange && hops > 0) {
                break;
            }
            current = next;
            reached = into.route(current, message.routingKey(), message.extraRoutingKeys(), message.header()).queues();
        }
        return reached;
    }

    private void storeBodyOnce(Message message, List<Queue> reached) {
        int durable = 0;
        for (Queue q : reached) {
            if (q.durable() && !q.exclusive()) {
                durable++;
            }
        }
        if (durable > 1) {
            message.storedBody(store.bodies().write(message.body(), durable));
        }
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
        if (durable) {
            definitionsChanged();
        }
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
        // RabbitMQ checks the name before looking the exchange up: deleting any amq.* name is refused.
        if (exchangeName.isEmpty()) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
        if (exchangeName.startsWith("amq.")) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "deletion of system exchange '" + exchangeName
                    + "' in vhost '" + name + "' not allowed");
        }
        Exchange e = exchanges.get(exchangeName);
        if (e == null) {
            return false;
        }
        if (ifUnused && !e.bindings().isEmpty()) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED,
                    "exchange '" + exchangeName + "' in vhost '" + name + "' in use");
        }
        exchanges.remove(exchangeName);
        removeBindingsTo(e);
        if (e.durable()) {
            definitionsChanged();
        }
        return true;
    }

    /**
     * Declares a queue, or returns the existing one after checking it is equivalent. An empty name
     * asks for a server-named queue.
     */
    public synchronized Queue declareQueue(String queueName, boolean durable, boolean exclusive, boolean autoDelete,
                                           Map<String, Object> arguments, Object connection) {
        return declareQueue(queueName, durable, exclusive, autoDelete, arguments, connection, null);
    }

    /**
     * As above; a new queue runs on {@code home} when given (the declaring connection's event loop,
     * so that the usual declare-then-consume needs no thread hop), else on the queue threads.
     */
    public synchronized Queue declareQueue(String queueName, boolean durable, boolean exclusive, boolean autoDelete,
                                           Map<String, Object> arguments, Object connection,
                                           io.netty.util.concurrent.EventExecutor home) {
        if (queueName.isEmpty()) {
            do {
                queueName = serverName();
            } while (queues.containsKey(queueName));
        } else if (queueName.startsWith("amq.")) {
            // As in RabbitMQ, a non-passive declare of any amq.* name is refused, even of an existing queue.
            throw new AmqpException(ReplyCode.ACCESS_REFUSED,
                    "queue name '" + queueName + "' contains reserved prefix 'amq.*'");
        }
        String described = "queue '" + queueName + "' in vhost '" + name + "'";
        QueueArguments parsed = QueueArguments.parse(arguments, described);
        Queue existing = queues.get(queueName);
        if (existing != null) {
            checkExclusiveAccess(existing, connection);
            if (existing.durable() != durable) {
                throw inequivalent("durable", "queue", queueName, durable, existing.durable());
            }
            if (existing.autoDelete() != autoDelete) {
                throw inequivalent("auto_delete", "queue", queueName, autoDelete, existing.autoDelete());
            }
            if (exclusive != existing.exclusive()) {
                throw lockedError(queueName);
            }
            existing.queueArguments().checkEquivalent(arguments, described);
            existing.redeclared();
            return existing;
        }
        QueueLog log = durable && !exclusive && store != null ? store.openQueueLog(name, queueName, true) : null;
        String spillName = queueName;
        QueueType.Spec spec = new QueueType.Spec(name, queueName, durable, exclusive, autoDelete,
                effective(queueName, parsed), exclusive ? connection : null);
        Queue created = QueueType.named(parsed.queueType).create(spec, new QueueType.Home(
                home != null ? home : queueThreads.next(), log,
                store == null ? null : () -> store.openSpillLog(name, spillName),
                store == null ? Long.MAX_VALUE : queueMemoryBudget, this, this::queueDeleted));
        // In the map first: the save snapshots the map on another thread, and declare-ok waits for it.
        queues.put(queueName, created);
        if (log != null) {
            definitionsChanged();
        }
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
    private synchronized void queueDeleted(Queue queue) {
        queues.remove(queue.name(), queue);
        removeBindingsTo(queue);
        if (queue.durable() && !queue.exclusive()) {
            definitionsChanged();
        }
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
            if (e.durable()) {
                definitionsChanged();
            }
        }
    }

    public synchronized void bind(Exchange source, Destination destination, String routingKey, Map<String, Object> arguments) {
        checkNotDefault(source);
        if (destination instanceof Exchange e) {
            checkNotDefault(e);
        }
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
        if (source.bind(new Binding(source, destination, routingKey, arguments)) && isDurable(source) && isDurable(destination)) {
            definitionsChanged();
        }
    }

    public synchronized void unbind(Exchange source, Destination destination, String routingKey, Map<String, Object> arguments) {
        checkNotDefault(source);
        if (destination instanceof Exchange e) {
            checkNotDefault(e);
        }
        if (source.unbind(new Binding(source, destination, routingKey, arguments))) {
            if (isDurable(source) && isDurable(destination)) {
                definitionsChanged();
            }
            deleteIfAutoDelete(source);
        }
    }

    private static void checkNotDefault(Exchange source) {
        if (source.name().isEmpty()) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
    }

    private static boolean isDurable(Destination d) {
        return d instanceof Exchange e ? e.durable() : ((Queue) d).durable() && !((Queue) d).exclusive();
    }

    private void definitionsChanged() {
        if (store != null) {
            lastSave = store.saveDefinitions();
        }
    }

    /** Completes once every definition change made so far is on disk. */
    public CompletableFuture<Void> saved() {
        return lastSave;
    }

    // ---------------------------------------------------------------- policies

    /** Sets (adds or replaces) a policy or operator policy; queues it matches change at once. */
    public synchronized void setPolicy(Policy policy) {
        (policy.operator() ? operatorPolicies : policies).put(policy.name(), policy.validated());
        policiesChanged();
    }

    /** Removes a policy; false when there was none of that name. */
    public synchronized boolean clearPolicy(String policyName, boolean operator) {
        boolean removed = (operator ? operatorPolicies : policies).remove(policyName) != null;
        if (removed) {
            policiesChanged();
        }
        return removed;
    }

    public Iterable<Policy> policies() {
        return java.util.stream.Stream.concat(policies.values().stream(), operatorPolicies.values().stream()).toList();
    }

    private void policiesChanged() {
        for (Queue q : queues.values()) {
            q.applyArguments(effective(q.name(), q.queueArguments()));
        }
        definitionsChanged();
    }

    /** A queue's declared arguments under the policies that match it now. */
    private QueueArguments effective(String queueName, QueueArguments declared) {
        if (policies.isEmpty() && operatorPolicies.isEmpty()) {
            return declared.withPolicies(null, null);
        }
        return declared.withPolicies(policyFor(queueName, true, policies), policyFor(queueName, true, operatorPolicies));
    }

    /** The matching policy of highest priority (by name among equals), or null. */
    private static Policy policyFor(String objectName, boolean queue, Map<String, Policy> candidates) {
        Policy best = null;
        for (Policy p : candidates.values()) {
            boolean applies = queue ? p.appliesToQueue(objectName) : p.appliesToExchange(objectName);
            if (applies && (best == null || p.priority() > best.priority()
                    || p.priority() == best.priority() && p.name().compareTo(best.name()) < 0)) {
                best = p;
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- definitions: save and restore

    /** Adds this vhost's durable exchanges, queues and bindings to a definitions document being built. */
    public void collectDefinitions(List<DefinitionsFile.Exchange> exchangeDefs, List<DefinitionsFile.Queue> queueDefs,
                                   List<DefinitionsFile.Binding> bindingDefs) {
        for (Exchange e : exchanges.values()) {
            if (e.durable() && !e.name().isEmpty() && !e.name().startsWith("amq.")) {
                exchangeDefs.add(new DefinitionsFile.Exchange(e.name(), name, e.type(), true, e.autoDelete(),
                        e.internal(), DefinitionsFile.toJson(e.arguments())));
            }
        }
        for (Queue q : queues.values()) {
            if (q.durable() && !q.exclusive() && !q.isDeleted()) {
                queueDefs.add(new DefinitionsFile.Queue(q.name(), name, true, q.autoDelete(),
                        DefinitionsFile.toJson(q.arguments())));
            }
        }
        for (Exchange e : exchanges.values()) {
            if (!e.durable()) {
                continue;
            }
            for (Binding b : e.bindings()) {
                if (isDurable(b.destination())) {
                    bindingDefs.add(new DefinitionsFile.Binding(e.name(), name, b.destination().name(),
                            b.destination() instanceof Queue ? "queue" : "exchange", b.routingKey(),
                            DefinitionsFile.toJson(b.arguments())));
                }
            }
        }
    }

    /** Startup: a durable exchange from the definitions document. */
    public void restoreExchange(DefinitionsFile.Exchange def) {
        exchanges.computeIfAbsent(def.name(), n -> newExchange(n, def.type(), true, def.auto_delete(),
                def.internal(), def.arguments()));
    }

    /** Startup: a durable queue and the messages in its log; returns the number of messages recovered. */
    public long restoreQueue(DefinitionsFile.Queue def) {
        QueueArguments parsed;
        try {
            parsed = QueueArguments.parse(def.arguments(), "queue '" + def.name() + "' in vhost '" + name + "'");
        } catch (AmqpException e) {
            // Written by an older Warren that accepted it: keep the queue and its messages, without the bad argument's effect.
            org.slf4j.LoggerFactory.getLogger(VirtualHost.class).warn("{}; the queue is kept as a classic queue without "
                    + "its arguments. Fix: delete and declare it again with valid arguments", e.getMessage());
            parsed = QueueArguments.NONE;
        }
        QueueLog log = store.openQueueLog(name, def.name(), false);
        QueueType.Spec spec = new QueueType.Spec(name, def.name(), true, false, def.auto_delete(),
                effective(def.name(), parsed), null);
        QueueType.Recovered recovered = QueueType.named(parsed.queueType).recover(spec, new QueueType.Home(
                queueThreads.next(), log, null, queueMemoryBudget, this, this::queueDeleted));
        queues.put(def.name(), recovered.queue());
        return recovered.messages();
    }

    /** Startup: a binding between durable things; false when either end is missing. */
    public boolean restoreBinding(DefinitionsFile.Binding def) {
        Exchange source = exchanges.get(def.source());
        Destination destination = "exchange".equals(def.destination_type())
                ? exchanges.get(def.destination()) : queues.get(def.destination());
        if (source == null || destination == null) {
            return false;
        }
        source.bind(new Binding(source, destination, def.routing_key(), def.arguments()));
        return true;
    }

    @Override
    public String toString() {
        return "vhost '" + name + "'";
    }
}
