package io.warren;

import io.warren.amqp.AmqpConnection;
import io.warren.amqp.ConnectionRegistry;
import io.warren.amqp.DirectReplies;
import io.warren.broker.Broker;
import io.warren.config.BrokerConfig;
import io.warren.net.AmqpServer;
import io.warren.protocol.Frame;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running broker: the AMQP listener and the virtual hosts behind it. Tests start one on a free
 * port (amqpPort 0) and the CLI's {@code server} command starts one from the config.
 */
public final class Warren implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Warren.class);
    /** How long a shutdown waits for clients to answer connection.close (320) before it closes their sockets. */
    private static final long SHUTDOWN_CLOSE_WAIT_MS = 5_000;
    private final BrokerConfig config;
    private final ConnectionRegistry connections = new ConnectionRegistry();
    private Broker broker;
    private AmqpServer server;
    private int boundPort;

    public Warren(BrokerConfig config) {
        this.config = config;
    }

    /** Binds the listener and returns once connections are accepted. */
    public Warren start() throws InterruptedException {
        broker = new Broker(config);
        DirectReplies directReplies = new DirectReplies();
        server = new AmqpServer(config.ioThreads(), config.ioSpinMicros());
        // Until tune-ok settles frame_max, frames may carry 4096 bytes at most, as in RabbitMQ (initial_frame_max).
        boundPort = server.bind(config.bindAddress(), config.amqpPort(), Frame.MIN_SIZE, config.sendTimeoutMillis(),
                () -> new AmqpConnection(broker, directReplies, connections));
        return this;
    }

    /** The AMQP port actually bound (useful when the config asked for port 0). */
    public int amqpPort() {
        return boundPort != 0 ? boundPort : config.amqpPort();
    }

    public Broker broker() {
        return broker;
    }

    public ConnectionRegistry connections() {
        return connections;
    }

    /**
     * Closes every client connection with 320 CONNECTION_FORCED and waits for their close-ok (or
     * their socket's end) up to {@link #SHUTDOWN_CLOSE_WAIT_MS}; connections still open then are
     * closed with the rest. Then stops the listener and the threads.
     */
    @Override
    public void close() {
        if (server == null) {
            return;
        }
        int open = connections.size();
        connections.closeAll("broker forced connection closure with reason 'shutdown'");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_CLOSE_WAIT_MS);
        while (connections.size() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = connections.size();
        if (left > 0) {
            log.warn("{} of {} client connections did not answer connection.close within {} ms; closing their sockets",
                    left, open, SHUTDOWN_CLOSE_WAIT_MS);
        } else if (open > 0) {
            log.info("Closed {} client connections", open);
        }
        // Queues first (their logs are closed cleanly), then the connection threads they post to.
        broker.close();
        server.close();
        server = null;
    }
}
