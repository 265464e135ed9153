package io.warren.it.store;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A broker in this JVM on a data directory of its own, which a test restarts to check what
 * survives, and connects to with the official client.
 */
final class RestartableBroker implements AutoCloseable {
    private final Path dataDir;
    private final UnaryOperator<BrokerConfig> settings;
    private Warren warren;

    RestartableBroker(String prefix) throws Exception {
        this(prefix, c -> c);
    }

    /** {@code settings} adjusts the config (e.g. a small queue memory budget) at every start. */
    RestartableBroker(String prefix, UnaryOperator<BrokerConfig> settings) throws Exception {
        this.dataDir = Files.createTempDirectory(prefix);
        this.settings = settings;
        start();
    }

    private void start() throws Exception {
        warren = new Warren(settings.apply(
                new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1").dataDir(dataDir))).start();
    }

    /** A clean stop and start on the same data directory. */
    void restart() throws Exception {
        warren.close();
        start();
    }

    Path dataDir() {
        return dataDir;
    }

    Connection connect() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setPort(warren.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        return f.newConnection();
    }

    @Override
    public void close() {
        warren.close();
    }
}
