package io.warren.broker;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import io.warren.config.BrokerConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Everything the broker serves, independent of the wire: virtual hosts, users, and the queue
 * threads that run the queues.
 */
public final class Broker implements AutoCloseable {
    private final BrokerConfig config;
    private final DefaultEventLoopGroup queueThreads;
    private final Map<String, VirtualHost> vhosts = new ConcurrentHashMap<>();
    private final Map<String, byte[]> passwords = new ConcurrentHashMap<>();

    public Broker(BrokerConfig config) {
        this.config = config;
        this.queueThreads = new DefaultEventLoopGroup(config.queueThreads(), new DefaultThreadFactory("warren-queue", true));
        vhosts.put(config.defaultVhost(), new VirtualHost(config.defaultVhost(), queueThreads));
        addUser(config.defaultUser(), config.defaultPass());
    }

    public BrokerConfig config() {
        return config;
    }

    public EventExecutorGroup queueThreads() {
        return queueThreads;
    }

    public VirtualHost vhost(String name) {
        return vhosts.get(name);
    }

    public void addUser(String user, String password) {
        passwords.put(user, digest(password));
    }

    /** True when the user exists and the password matches (compared in constant time). */
    public boolean authenticate(String user, String password) {
        byte[] expected = passwords.get(user);
        return expected != null && MessageDigest.isEqual(expected, digest(password));
    }

    /** RabbitMQ's loopback_users: these may only connect from localhost. */
    public boolean loopbackOnly(String user) {
        return config.loopbackUsers().contains(user);
    }

    private static byte[] digest(String password) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(password.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        queueThreads.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
