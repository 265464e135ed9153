package io.warren.amqp;

import io.warren.cli.WarrenVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/** What connection.start tells clients about the server: identity and capabilities, as RabbitMQ sends them. */
final class ServerProperties {
    private static final Map<String, Object> PROPERTIES = build();

    private ServerProperties() {
    }

    static Map<String, Object> get() {
        return PROPERTIES;
    }

    private static Map<String, Object> build() {
        Map<String, Object> capabilities = new LinkedHashMap<>();
        for (String capability : new String[] {"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
                "consumer_cancel_notify", "connection.blocked", "consumer_priorities",
                "authentication_failure_close", "per_consumer_qos", "direct_reply_to"}) {
            capabilities.put(capability, true);
        }
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("capabilities", capabilities);
        props.put("cluster_name", "warren@" + hostName());
        props.put("copyright", "Copyright (c) the Warren authors");
        props.put("information", "Licensed under the Apache License 2.0. Website: https://github.com/warren-broker/warren");
        props.put("platform", "Java " + Runtime.version().feature());
        props.put("product", "Warren");
        props.put("version", WarrenVersion.get());
        return java.util.Collections.unmodifiableMap(props);
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
