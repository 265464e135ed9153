package io.warren.broker;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.warren.config.BrokerConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import io.warren.store.DefinitionsFile;
import io.warren.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Everything the broker serves, independent of the wire: virtual hosts, users, and the queue
 * threads that run the queues.
 */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    private final BrokerConfig config;
    private final io.netty.channel.EventLoopGroup queueThreads;
    private final Map<String, VirtualHost> vhosts = new ConcurrentHashMap<>();
    private final Map<String, PasswordHash> passwords = new ConcurrentHashMap<>();
    private final Store store;

    public Broker(BrokerConfig config) {
        this.config = config;
        // Queues get event loops of their own (no sockets): their task queues are lock-free MPSC
        // queues, unlike DefaultEventLoop's LinkedBlockingQueue, which matters at one hand-off per batch.
        DefaultThreadFactory threads = new DefaultThreadFactory("warren-queue", true);
        this.queueThreads = io.netty.channel.epoll.Epoll.isAvailable()
                ? new io.netty.channel.epoll.EpollEventLoopGroup(config.queueThreads(), threads)
                : new io.netty.channel.nio.NioEventLoopGroup(config.queueThreads(), threads);
        this.store = new Store(config.dataDir(), config.storeFlushIntervalMillis(), this::definitions);
        addUser(config.defaultUser(), config.defaultPass());
        try {
            recover();
            if (config.loadDefinitions() != null) {
                importDefinitions(config.loadDefinitions());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Brings back durable definitions and the messages in durable queues, and says what it found. */
    private void recover() {
        long start = System.nanoTime();
        DefinitionsFile.Definitions defs = store.loadDefinitions();
        vhosts.put(config.defaultVhost(), new VirtualHost(config.defaultVhost(), queueThreads, store, config.queueMemoryBytes()));
        for (DefinitionsFile.Vhost v : defs.vhosts()) {
            vhosts.computeIfAbsent(v.name(), n -> new VirtualHost(n, queueThreads, store, config.queueMemoryBytes()));
        }
        for (DefinitionsFile.Policy p : defs.policies()) {
            vhostFor(p.vhost()).setPolicy(policy(p, false));
        }
        for (DefinitionsFile.Policy p : defs.operator_policies()) {
            vhostFor(p.vhost()).setPolicy(policy(p, true));
        }
        for (DefinitionsFile.Exchange e : defs.exchanges()) {
            vhostFor(e.vhost()).restoreExchange(e);
        }
        long messages = 0;
        Set<Path> logs = new HashSet<>();
        for (DefinitionsFile.Queue q : defs.queues()) {
            messages += vhostFor(q.vhost()).restoreQueue(q);
            logs.add(store.queueDir(q.vhost(), q.name()));
        }
        store.removeLogsExcept(logs);
        store.bodies().finishRecovery();
        int bindings = 0;
        for (DefinitionsFile.Binding b : defs.bindings()) {
            if (vhostFor(b.vhost()).restoreBinding(b)) {
                bindings++;
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (!defs.queues().isEmpty() || !defs.exchanges().isEmpty()) {
            log.info("Recovered {} exchanges, {} queues, {} bindings and {} messages from {} in {} ms",
                    defs.exchanges().size(), defs.queues().size(), bindings, messages, config.dataDir(), millis);
        }
    }

    private static Policy policy(DefinitionsFile.Policy p, boolean operator) {
        return new Policy(p.vhost(), p.name(), p.pattern(), p.applyTo(), p.priority(), p.definition(), operator);
    }

    /**
     * RabbitMQ's {@code load_definitions}: a definitions export (RabbitMQ's or Warren's) imported at
     * every start. What exists already is kept; users log in with the passwords of the export.
     */
    private void importDefinitions(java.nio.file.Path file) {
        DefinitionsFile.Definitions defs = DefinitionsFile.read(file);
        for (DefinitionsFile.User u : defs.users()) {
            passwords.put(u.name(), PasswordHash.fromExport(u.name(), u.password_hash(), u.hashing_algorithm()));
        }
        for (DefinitionsFile.Vhost v : defs.vhosts()) {
            vhostFor(v.name());
        }
        for (DefinitionsFile.Policy p : defs.policies()) {
            vhostFor(p.vhost()).setPolicy(policy(p, false));
        }
        for (DefinitionsFile.Policy p : defs.operator_policies()) {
            vhostFor(p.vhost()).setPolicy(policy(p, true));
        }
        for (DefinitionsFile.Exchange e : defs.exchanges()) {
            vhostFor(e.vhost()).declareExchange(e.name(), e.type(), e.durable(), e.auto_delete(), e.internal(), e.arguments());
        }
        for (DefinitionsFile.Queue q : defs.queues()) {
            vhostFor(q.vhost()).declareQueue(q.name(), q.durable(), false, q.auto_delete(), q.arguments(), null);
        }
        for (DefinitionsFile.Binding b : defs.bindings()) {
            VirtualHost v = vhostFor(b.vhost());
            Destination destination = "exchange".equals(b.destination_type())
                    ? v.existingExchange(b.destination()) : v.existingQueue(b.destination());
            v.bind(v.existingExchange(b.source()), destination, b.routing_key(), b.arguments());
        }
        if (!defs.permissions().isEmpty() || !defs.parameters().isEmpty() || !defs.global_parameters().isEmpty()) {
            log.warn("{}: {} permissions, {} parameters and {} global parameters are not applied: Warren has no "
                    + "permissions or runtime parameters yet (every user may use every vhost)", file,
                    defs.permissions().size(), defs.parameters().size(), defs.global_parameters().size());
        }
        log.info("Imported {} users, {} vhosts, {} policies, {} exchanges, {} queues and {} bindings from {}",
                defs.users().size(), defs.vhosts().size(), defs.policies().size() + defs.operator_policies().size(),
                defs.exchanges().size(), defs.queues().size(), defs.bindings().size(), file);
    }

    private VirtualHost vhostFor(String name) {
        return vhosts.computeIfAbsent(name, n -> new VirtualHost(n, queueThreads, store, config.queueMemoryBytes()));
    }

    /** The current durable definitions, for the definitions file. */
    private DefinitionsFile.Definitions definitions() {
        List<DefinitionsFile.Vhost> vhostDefs = new ArrayList<>();
        List<DefinitionsFile.Exchange> exchanges = new ArrayList<>();
        List<DefinitionsFile.Queue> queues = new ArrayList<>();
        List<DefinitionsFile.Binding> bindings = new ArrayList<>();
        for (VirtualHost v : vhosts.values()) {
            vhostDefs.add(new DefinitionsFile.Vhost(v.name()));
            v.collectDefinitions(exchanges, queues, bindings);
        }
        List<DefinitionsFile.Policy> policies = new ArrayList<>();
        List<DefinitionsFile.Policy> operatorPolicies = new ArrayList<>();
        for (VirtualHost v : vhosts.values()) {
            for (Policy p : v.policies()) {
                (p.operator() ? operatorPolicies : policies).add(new DefinitionsFile.Policy(p.vhost(), p.name(),
                        p.pattern(), p.applyTo(), p.definition(), p.priority()));
            }
        }
        return new DefinitionsFile.Definitions("3.10.8", List.of(), vhostDefs, List.of(), List.of(), List.of(),
                policies, operatorPolicies, queues, exchanges, bindings);
    }

    public BrokerConfig config() {
        return config;
    }

    /** The shared store for large bodies routed to several durable queues. */
    public io.warren.store.BodyStore bodies() {
        return store.bodies();
    }

    public VirtualHost vhost(String name) {
        return vhosts.get(name);
    }

    public void addUser(String user, String password) {
        passwords.put(user, PasswordHash.of(password));
    }

    /** True when the user exists and the password matches (compared in constant time). */
    public boolean authenticate(String user, String password) {
        PasswordHash expected = passwords.get(user);
        return expected != null && expected.matches(password);
    }

    /** RabbitMQ's loopback_users: these may only connect from localhost. */
    public boolean loopbackOnly(String user) {
        return config.loopbackUsers().contains(user);
    }

    @Override
    public void close() {
        for (VirtualHost v : vhosts.values()) {
            for (Queue q : v.queues()) {
                q.shutdown().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
        store.close();
        queueThreads.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
