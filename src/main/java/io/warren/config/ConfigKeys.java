package io.warren.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The keys of a config file that Warren understands and what each sets on {@link BrokerConfig}.
 * Names and units are RabbitMQ's ({@code handshake_timeout} in milliseconds, sizes in bytes), so a
 * {@code rabbitmq.conf} means the same here; {@code data_dir} is Warren's own. A key Warren does not
 * know is not an error (a RabbitMQ file holds many we have no use for yet) but a warning.
 * One instance applies one file, in line order.
 */
final class ConfigKeys {
    /** AMQP's smallest frame_max (0 means "no limit"). */
    private static final int FRAME_MIN_SIZE = 4096;
    /** RabbitMQ refuses a max_message_size above 512 MiB. */
    private static final long MAX_MESSAGE_SIZE_LIMIT = 512L * 1024 * 1024;

    private final BrokerConfig config;
    private final List<String> warnings;
    /** The listeners.tcp.* line that set the listener; Warren binds one address so far. */
    private ConfigSetting listener;
    /** The bind address before this file; a listener given as a bare port binds there. */
    private final String bindAddressBefore;

    ConfigKeys(BrokerConfig config, List<String> warnings) {
        this.config = config;
        this.warnings = warnings;
        this.bindAddressBefore = config.bindAddress();
    }

    void apply(ConfigSetting s) throws ConfigException {
        switch (s.key()) {
            case "default_user" -> config.defaultUser(s.value());
            case "default_pass" -> config.defaultPass(s.value());
            case "default_vhost" -> config.defaultVhost(s.value());
            case "heartbeat" -> config.heartbeatSeconds(intValue(s, 0, 65535, "seconds"));
            case "frame_max" -> config.frameMax(frameMax(s));
            case "channel_max" -> config.channelMax(intValue(s, 0, 65535, "channels"));
            case "max_message_size" -> config.maxMessageSize(longValue(s, 1, MAX_MESSAGE_SIZE_LIMIT, "bytes"));
            case "handshake_timeout" -> config.handshakeTimeoutSeconds(handshakeTimeoutSeconds(s));
            case "loopback_users" -> noLoopbackUsers(s);
            case "listeners.tcp" -> throw s.problem("listeners.tcp = " + s.value()
                    + " is not supported: Warren needs a TCP listener (TLS listeners are not available yet)");
            case "data_dir" -> config.dataDir(path(s));
            case "load_definitions", "definitions.local.path" -> config.loadDefinitions(path(s));
            case "definitions.import_backend" -> {
                if (!s.value().equals("local_filesystem")) {
                    throw s.problem("definitions.import_backend = " + s.value() + " is not supported: Warren imports "
                            + "definitions from a local file (local_filesystem)");
                }
            }
            case "tcp_listen_options.send_timeout" -> config.sendTimeoutMillis(longValue(s, 1, 24L * 3600 * 1000, "milliseconds"));
            // Warren's own: how soon written messages reach disk without a confirm waiting, and how
            // many bytes of ready messages a queue keeps in memory before the rest waits on disk.
            case "store.flush_interval" -> config.storeFlushIntervalMillis(longValue(s, 1, 60_000, "milliseconds"));
            case "queue_memory_budget" -> config.queueMemoryBytes(longValue(s, 4096, Long.MAX_VALUE, "bytes"));
            case "io_threads" -> config.ioThreads(intValue(s, 1, 1024, "threads"));
            case "io_spin" -> config.ioSpinMicros(intValue(s, 0, 1000, "microseconds"));
            default -> applyFamily(s);
        }
    }

    /** Keys with a name in them: listeners.tcp.NAME and loopback_users.USER. */
    private void applyFamily(ConfigSetting s) throws ConfigException {
        List<String> w = s.words();
        if (w.size() == 3 && w.get(0).equals("listeners") && w.get(1).equals("tcp")) {
            tcpListener(s);
        } else if (w.size() == 2 && w.get(0).equals("loopback_users")) {
            loopbackUser(w.get(1), booleanValue(s));
        } else {
            warnings.add(s.where() + ": unknown key " + s.key() + " is ignored");
        }
    }

    /**
     * {@code listeners.tcp.NAME = PORT} or {@code = IP:PORT} ({@code ::1:5672} and {@code [::1]:5672} for
     * IPv6). A later line for the same NAME replaces the earlier one, as for every key; a second NAME
     * is ignored with a warning.
     */
    private void tcpListener(ConfigSetting s) throws ConfigException {
        if (listener != null && !listener.key().equals(s.key())) {
            warnings.add(s.where() + ": " + s.key() + " is ignored: Warren listens on one address so far, "
                    + "the one from " + listener.key() + " (" + listener.where() + ")");
            return;
        }
        String value = s.value();
        int colon = value.lastIndexOf(':');
        String host = colon < 0 ? null : value.substring(0, colon);
        String port = colon < 0 ? value : value.substring(colon + 1);
        if (host != null && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host != null && host.isEmpty()) {
            throw s.problem("expected a port or IP:PORT, got \"" + value + "\"");
        }
        long portNumber = parse(s, port, "a port or IP:PORT");
        if (portNumber < 0 || portNumber > 65535) {
            throw s.problem("port must be from 0 to 65535, got " + portNumber);
        }
        config.amqpPort((int) portNumber);
        config.bindAddress(host != null ? host : bindAddressBefore);
        listener = s;
    }

    /** {@code loopback_users = none}: every user may connect from anywhere. */
    private void noLoopbackUsers(ConfigSetting s) throws ConfigException {
        if (!s.value().equals("none")) {
            throw s.problem("loopback_users only takes \"none\"; to restrict a user write loopback_users."
                    + s.value() + " = true");
        }
        config.loopbackUsers(Set.of());
    }

    private void loopbackUser(String user, boolean loopbackOnly) {
        Set<String> users = new LinkedHashSet<>(config.loopbackUsers());
        if (loopbackOnly) {
            users.add(user);
        } else {
            users.remove(user);
        }
        config.loopbackUsers(users);
    }

    private static int frameMax(ConfigSetting s) throws ConfigException {
        int frameMax = intValue(s, 0, Integer.MAX_VALUE, "bytes");
        if (frameMax != 0 && frameMax < FRAME_MIN_SIZE) {
            throw s.problem("frame_max must be 0 (no limit) or at least " + FRAME_MIN_SIZE + " bytes, got " + frameMax);
        }
        return frameMax;
    }

    /** RabbitMQ's handshake_timeout is in milliseconds; BrokerConfig keeps whole seconds, rounded up. */
    private static int handshakeTimeoutSeconds(ConfigSetting s) throws ConfigException {
        long millis = longValue(s, 1, Integer.MAX_VALUE, "milliseconds");
        return (int) ((millis + 999) / 1000);
    }

    private static Path path(ConfigSetting s) throws ConfigException {
        try {
            return Path.of(s.value());
        } catch (InvalidPathException e) {
            throw s.problem(s.key() + " is not a valid path: " + e.getMessage());
        }
    }

    private static boolean booleanValue(ConfigSetting s) throws ConfigException {
        return switch (s.value()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw s.problem(s.key() + " must be true or false, got \"" + s.value() + "\"");
        };
    }

    private static int intValue(ConfigSetting s, int min, int max, String unit) throws ConfigException {
        return (int) longValue(s, min, max, unit);
    }

    private static long longValue(ConfigSetting s, long min, long max, String unit) throws ConfigException {
        long n = parse(s, s.value(), "a whole number of " + unit);
        if (n < min || n > max) {
            throw s.problem(s.key() + " must be from " + min + " to " + max + " " + unit + ", got " + n);
        }
        return n;
    }

    private static long parse(ConfigSetting s, String text, String expected) throws ConfigException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw s.problem(s.key() + " must be " + expected + ", got \"" + s.value() + "\"");
        }
    }
}
