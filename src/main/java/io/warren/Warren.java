package io.warren;

import io.warren.config.BrokerConfig;

/**
 * One running broker: the AMQP listener and the virtual hosts behind it. Tests start one on a free
 * port (amqpPort 0) and the CLI's {@code server} command starts one from the config.
 */
public final class Warren implements AutoCloseable {
    private final BrokerConfig config;

    public Warren(BrokerConfig config) {
        this.config = config;
    }

    /** Binds the listener and returns once connections are accepted. */
    public Warren start() throws InterruptedException {
        throw new UnsupportedOperationException("being written");
    }

    /** The AMQP port actually bound (useful when the config asked for port 0). */
    public int amqpPort() {
        return config.amqpPort();
    }

    /** Closes every client connection with 320 CONNECTION_FORCED, then stops the listener and threads. */
    @Override
    public void close() {
    }
}
