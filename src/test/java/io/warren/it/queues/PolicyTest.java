package io.warren.it.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.warren.it.BrokerProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Policies and operator policies from a RabbitMQ definitions export imported at start
 * ({@code load_definitions}), with RabbitMQ's precedence, and the export's users logging in.
 */
class PolicyTest {
    private static BrokerProcess broker;

    /** RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)). */
    private static String rabbitHash(String password) throws Exception {
        byte[] salt = {1, 2, 3, 4};
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(salt);
        byte[] digest = md.digest(password.getBytes(StandardCharsets.UTF_8));
        byte[] all = new byte[4 + digest.length];
        System.arraycopy(salt, 0, all, 0, 4);
        System.arraycopy(digest, 0, all, 4, digest.length);
        return Base64.getEncoder().encodeToString(all);
    }

    @BeforeAll
    static void start() throws Exception {
        Path export = Files.createTempFile("rabbitmq-export", ".json");
        Files.writeString(export, """
                {"rabbit_version": "3.13.7",
                 "users": [{"name": "app", "password_hash": "%s", "hashing_algorithm": "rabbit_password_hashing_sha256",
                            "tags": ["management"], "limits": {}}],
                 "vhosts": [{"name": "/"}],
                 "permissions": [{"user": "app", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
                 "parameters": [], "global_parameters": [],
                 "policies": [
                   {"vhost": "/", "name": "limits", "pattern": "^limited\\\\.", "apply-to": "queues", "priority": 1,
                    "definition": {"max-length": 2, "message-ttl": 60000, "dead-letter-exchange": "policy-dlx"}},
                   {"vhost": "/", "name": "ae", "pattern": "^with-ae$", "apply-to": "exchanges", "priority": 0,
                    "definition": {"alternate-exchange": "ae-target"}}],
                 "operator_policies": [
                   {"vhost": "/", "name": "cap", "pattern": ".*", "apply-to": "queues", "priority": 0,
                    "definition": {"max-length": 1000}}],
                 "queues": [{"name": "limited.imported", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}],
                 "exchanges": [{"name": "policy-dlx", "vhost": "/", "type": "fanout", "durable": true, "auto_delete": false,
                                "internal": false, "arguments": {}}],
                 "bindings": []}
                """.formatted(rabbitHash("s3cret")));
        broker = BrokerProcess.startWithConfig("load_definitions = " + export + "\n");
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void theExportsUsersLogInWithTheirPasswords() throws Exception {
        ConnectionFactory f = broker.factory();
        f.setUsername("app");
        f.setPassword("s3cret");
        try (Connection c = f.newConnection()) {
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void aPolicyLimitsMatchingQueuesAndTheLowerLimitWins() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            assertThat(ch.queueDeclarePassive("limited.imported").getQueue()).isEqualTo("limited.imported");
            String dead = ch.queueDeclare().getQueue();
            ch.queueBind(dead, "policy-dlx", "");
            ch.queueDeclare("limited.own", false, false, true, Map.of("x-max-length", 5)); // the policy's 2 is lower
            for (int i = 0; i < 4; i++) {
                ch.basicPublish("", "limited.own", null, ("m" + i).getBytes());
            }
            assertThat(ch.messageCount("limited.own")).isEqualTo(2);
            // drop-head dead-letters to the policy's exchange
            await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(dead) == 2);
            ch.queueDeclare("unmatched", false, false, true, null);
            for (int i = 0; i < 4; i++) {
                ch.basicPublish("", "unmatched", null, ("m" + i).getBytes());
            }
            assertThat(ch.messageCount("unmatched")).isEqualTo(4);
        }
    }

    @Test
    void theQueuesOwnDeadLetterExchangeWinsOverThePolicys() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.exchangeDeclare("own-dlx", BuiltinExchangeType.FANOUT);
            String dead = ch.queueDeclare().getQueue();
            ch.queueBind(dead, "own-dlx", "");
            ch.queueDeclare("limited.dlx", false, false, true, Map.of("x-dead-letter-exchange", "own-dlx"));
            ch.basicPublish("", "limited.dlx", null, "m".getBytes());
            var r = ch.basicGet("limited.dlx", false);
            ch.basicReject(r.getEnvelope().getDeliveryTag(), false);
            await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(dead) == 1);
        }
    }

    @Test
    void anExchangePolicyGivesAnAlternateExchange() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.exchangeDeclare("ae-target", BuiltinExchangeType.FANOUT);
            String caught = ch.queueDeclare().getQueue();
            ch.queueBind(caught, "ae-target", "");
            ch.exchangeDeclare("with-ae", BuiltinExchangeType.DIRECT);
            ch.basicPublish("with-ae", "nowhere", null, "m".getBytes());
            await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(caught) == 1);
        }
    }

    @Test
    void policiesAreKeptInDefinitionsJson() throws Exception {
        String saved = Files.readString(broker.dataDir().resolve("definitions.json"));
        assertThat(saved).contains("\"policies\"").contains("\"limits\"").contains("\"operator_policies\"").contains("\"cap\"");
    }
}
