package io.warren.it.flow;

import com.rabbitmq.client.ConnectionFactory;
import io.warren.it.BrokerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The broker the flow-control tests run against: Warren in a JVM of its own (so that its RSS is its
 * alone), or, with {@code -Dwarren.it.amqp=HOST:PORT}, a broker started elsewhere, e.g. RabbitMQ from
 * Debian, to check that both behave alike. Its send timeout is given to Warren in a config file; for
 * another broker, {@code -Dwarren.it.send-timeout-ms} says what it uses (RabbitMQ 3.10: 30,000).
 */
final class FlowTarget implements AutoCloseable {
    /** Warren's heap in these tests: the RSS bound below must hold with it. */
    static final String HEAP = "-Xmx256m";
    private static final long WARREN_SEND_TIMEOUT_MS = 8000;

    private final BrokerProcess warren;
    private final String host;
    private final int port;
    private final long sendTimeoutMillis;

    private FlowTarget(BrokerProcess warren, String host, int port, long sendTimeoutMillis) {
        this.warren = warren;
        this.host = host;
        this.port = port;
        this.sendTimeoutMillis = sendTimeoutMillis;
    }

    static FlowTarget start() throws IOException {
        String external = System.getProperty("warren.it.amqp");
        if (external != null) {
            int colon = external.lastIndexOf(':');
            return new FlowTarget(null, external.substring(0, colon), Integer.parseInt(external.substring(colon + 1)),
                    Long.getLong("warren.it.send-timeout-ms", 30_000));
        }
        BrokerProcess broker = BrokerProcess.startWithConfig(
                "tcp_listen_options.send_timeout = " + WARREN_SEND_TIMEOUT_MS + "\n", HEAP);
        return new FlowTarget(broker, "127.0.0.1", broker.port(), WARREN_SEND_TIMEOUT_MS);
    }

    ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(host);
        f.setPort(port);
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(5000);
        return f;
    }

    boolean isWarren() {
        return warren != null;
    }

    /** How long the broker lets a socket make no progress before it closes the connection. */
    long sendTimeoutMillis() {
        return sendTimeoutMillis;
    }

    /** The broker's resident memory in bytes (Warren only: another broker's process is not ours to read). */
    OptionalLong rss() throws IOException {
        if (warren == null) {
            return OptionalLong.empty();
        }
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(warren.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
            }
        }
        return OptionalLong.empty();
    }

    String log() {
        return warren == null ? "(external broker)" : warren.log();
    }

    @Override
    public void close() throws Exception {
        if (warren != null) {
            warren.close();
        }
    }
}
