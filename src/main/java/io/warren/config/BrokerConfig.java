package io.warren.config;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Everything the broker is told at start: listener, limits offered in connection.tune, default user,
 * data directory. Built once (defaults, then the config file, then command-line flags) and read-only
 * after the server starts. Names follow rabbitmq.conf where RabbitMQ has the same setting.
 */
public final class BrokerConfig {
    private String bindAddress = "0.0.0.0";
    private int amqpPort = 5672;
    private Path dataDir = Path.of("warren-data");
    /** Heartbeat interval offered in connection.tune, seconds (rabbitmq.conf: heartbeat). */
    private int heartbeatSeconds = 60;
    /** Largest frame offered in connection.tune, bytes (rabbitmq.conf: frame_max). */
    private int frameMax = 131072;
    /** Highest channel number offered in connection.tune (rabbitmq.conf: channel_max). */
    private int channelMax = 2047;
    /** Largest message body accepted, bytes (rabbitmq.conf: max_message_size). */
    private long maxMessageSize = 128L * 1024 * 1024;
    /** Seconds a client has to finish the handshake (rabbitmq.conf: handshake_timeout, in ms there). */
    private int handshakeTimeoutSeconds = 10;
    private String defaultUser = "guest";
    private String defaultPass = "guest";
    private String defaultVhost = "/";
    /** Users that may only connect from loopback (rabbitmq.conf: loopback_users). */
    private java.nio.file.Path loadDefinitions;
    private Set<String> loopbackUsers = new LinkedHashSet<>(Set.of("guest"));
    /** Threads that run queues; 0 means one per core. */
    private int queueThreads = 0;
    /** Event loops for connections (and the queues they declare); 0 means half the cores, at least one. */
    private int ioThreads = 0;
    /** How long an event loop with nothing to do keeps polling its sockets before it sleeps. */
    private int ioSpinMicros = 20;

    /**
     * How long a write to a client's socket may make no progress before the connection is closed
     * (rabbitmq.conf: tcp_listen_options.send_timeout; RabbitMQ 3.10's default is 30 s).
     */
    private long sendTimeoutMillis = 30_000;

    private long queueMemoryBytes = 32L << 20;
    private long storeFlushIntervalMillis = 200;

    public String bindAddress() { return bindAddress; }
    public BrokerConfig bindAddress(String v) { bindAddress = v; return this; }
    public int amqpPort() { return amqpPort; }
    public BrokerConfig amqpPort(int v) { amqpPort = v; return this; }
    public Path dataDir() { return dataDir; }
    public BrokerConfig dataDir(Path v) { dataDir = v; return this; }
    public int heartbeatSeconds() { return heartbeatSeconds; }
    public BrokerConfig heartbeatSeconds(int v) { heartbeatSeconds = v; return this; }
    public int frameMax() { return frameMax; }
    public BrokerConfig frameMax(int v) { frameMax = v; return this; }
    public int channelMax() { return channelMax; }
    public BrokerConfig channelMax(int v) { channelMax = v; return this; }
    public long maxMessageSize() { return maxMessageSize; }
    public BrokerConfig maxMessageSize(long v) { maxMessageSize = v; return this; }
    public int handshakeTimeoutSeconds() { return handshakeTimeoutSeconds; }
    public BrokerConfig handshakeTimeoutSeconds(int v) { handshakeTimeoutSeconds = v; return this; }
    public String defaultUser() { return defaultUser; }
    public BrokerConfig defaultUser(String v) { defaultUser = v; return this; }
    public String defaultPass() { return defaultPass; }
    public BrokerConfig defaultPass(String v) { defaultPass = v; return this; }
    public String defaultVhost() { return defaultVhost; }
    public BrokerConfig defaultVhost(String v) { defaultVhost = v; return this; }
    public Set<String> loopbackUsers() { return loopbackUsers; }
    public BrokerConfig loopbackUsers(Set<String> v) { loopbackUsers = new LinkedHashSet<>(v); return this; }
    /** Without publisher confirms waiting, written messages reach disk within this many milliseconds. */
    public long storeFlushIntervalMillis() { return storeFlushIntervalMillis; }
    public BrokerConfig storeFlushIntervalMillis(long v) { storeFlushIntervalMillis = v; return this; }
    /** Bytes of ready messages a queue keeps in memory; past that, messages wait only on disk. */
    public long queueMemoryBytes() { return queueMemoryBytes; }
    public BrokerConfig queueMemoryBytes(long v) { queueMemoryBytes = v; return this; }
    public int queueThreads() { return queueThreads > 0 ? queueThreads : Runtime.getRuntime().availableProcessors(); }
    public BrokerConfig queueThreads(int v) { queueThreads = v; return this; }
    /**
     * Event loops serving connections and the queues they declare. Half the cores by default: a
     * message handed from one loop to another costs a thread wake-up, fewer loops mean fewer
     * hand-offs, and the other cores are left to the persister, the garbage collector and clients.
     */
    public int ioThreads() { return ioThreads > 0 ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2); }
    public BrokerConfig ioThreads(int v) { ioThreads = v; return this; }
    public long sendTimeoutMillis() { return sendTimeoutMillis; }
    public BrokerConfig sendTimeoutMillis(long v) { sendTimeoutMillis = v; return this; }
    /** RabbitMQ's load_definitions: a definitions file imported at every start, or null. */
    public java.nio.file.Path loadDefinitions() { return loadDefinitions; }
    public BrokerConfig loadDefinitions(java.nio.file.Path v) { loadDefinitions = v; return this; }
    public int ioSpinMicros() { return ioSpinMicros; }
    public BrokerConfig ioSpinMicros(int v) { ioSpinMicros = v; return this; }
}
