package io.warren;

import io.warren.amqp.AmqpConnection;
import io.warren.amqp.ConnectionRegistry;
import io.warren.amqp.DirectReplies;
import io.warren.broker.Broker;
import io.warren.config.BrokerConfig;
import io.warren.net.AmqpServer;
import java.util.concurrent.TimeUnit;

/**
 * One running broker: the AMQP listener and the virtual hosts behind it. Tests start one on a free
 * port (amqpPort 0) and the CLI's {@code server} command starts one from the config.
 */
public final class Warren implements AutoCloseable {
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
        boundPort = server.bind(config.bindAddress(), config.amqpPort(), config.frameMax(), config.sendTimeoutMillis(),
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

    /** Closes every client connection with 320 CONNECTION_FORCED, then stops the listener and threads. */
    @Override
    public void close() {
        if (server == null) {
            return;
        }
        connections.closeAll("broker forced connection closure with reason 'shutdown'");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (connections.size() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // Queues first (their logs are closed cleanly), then the connection threads they post to.
        broker.close();
        server.close();
        server = null;
    }
}
