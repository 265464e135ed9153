package io.warren.amqp;

import io.warren.protocol.ReplyCode;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The open client connections, so that a shutdown can close each one properly. */
public final class ConnectionRegistry {
    private final Set<AmqpConnection> connections = ConcurrentHashMap.newKeySet();

    void add(AmqpConnection connection) {
        connections.add(connection);
    }

    void remove(AmqpConnection connection) {
        connections.remove(connection);
    }

    public int size() {
        return connections.size();
    }

    /** Sends every client connection.close 320 CONNECTION_FORCED with the given reason. */
    public void closeAll(String reason) {
        for (AmqpConnection c : connections) {
            c.close(ReplyCode.CONNECTION_FORCED, "CONNECTION_FORCED - " + reason, 0, 0);
        }
    }
}
