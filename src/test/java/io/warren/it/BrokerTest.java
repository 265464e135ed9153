package io.warren.it;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base for tests that talk to a real broker over TCP: one Warren per test class on a free port,
 * and connections made with the official RabbitMQ Java client that are closed after each test.
 */
public abstract class BrokerTest {
    protected static Warren broker;
    private static Path dataDir;
    private final List<Connection> connections = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws Exception {
        dataDir = Files.createTempDirectory("warren-test");
        BrokerConfig config = new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1").dataDir(dataDir);
        // WARREN_TEST_QUEUE_MEMORY=2000 runs every test with queues that keep almost nothing in memory.
        String budget = System.getenv("WARREN_TEST_QUEUE_MEMORY");
        if (budget != null) {
            config.queueMemoryBytes(Long.parseLong(budget));
        }
        broker = new Warren(config).start();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    @AfterEach
    void closeConnections() {
        for (Connection c : connections) {
            try {
                if (c.isOpen()) {
                    c.close(2000);
                }
            } catch (Exception ignored) {
                // already closed by the broker
            }
        }
        connections.clear();
    }

    protected static ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(broker.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        return f;
    }

    /** A new connection, closed after the test. */
    protected Connection connect() throws Exception {
        return track(factory().newConnection());
    }

    protected Connection track(Connection c) {
        connections.add(c);
        return c;
    }

    protected static int port() {
        return broker.amqpPort();
    }
}
