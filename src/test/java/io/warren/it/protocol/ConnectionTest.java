package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.SaslConfig;
import com.rabbitmq.client.SaslMechanism;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.LongStringHelper;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import io.warren.it.BrokerTest;
import io.warren.it.RawAmqpClient;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The connection class: what the server announces, what it negotiates, login, heartbeats, closing. */
class ConnectionTest extends BrokerTest {

    // ---------------------------------------------------------------- connection.start

    @Test
    void serverPropertiesIdentifyWarren() throws Exception {
        Map<String, Object> props = connect().getServerProperties();

        assertThat(props.get("product")).hasToString("Warren");
        assertThat(props.get("version").toString()).matches("\\d+(\\.\\d+)+");
        for (String key : new String[] {"platform", "copyright", "information", "cluster_name"}) {
            assertThat(props.get(key)).as(key).isNotNull();
            assertThat(props.get(key).toString()).as(key).isNotBlank();
        }
    }

    @Test
    void serverAnnouncesRabbitMqCapabilities() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> capabilities = (Map<String, Object>) connect().getServerProperties().get("capabilities");

        assertThat(capabilities).containsEntry("publisher_confirms", true)
                .containsEntry("exchange_exchange_bindings", true)
                .containsEntry("basic.nack", true)
                .containsEntry("consumer_cancel_notify", true)
                .containsEntry("connection.blocked", true)
                .containsEntry("consumer_priorities", true)
                .containsEntry("authentication_failure_close", true)
                .containsEntry("per_consumer_qos", true)
                .containsEntry("direct_reply_to", true);
    }

    // ---------------------------------------------------------------- connection.tune

    @Test
    void defaultsAreNegotiatedWhenTheClientAcceptsTheServersOffer() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedChannelMax(0);
        f.setRequestedFrameMax(0);
        f.setRequestedHeartbeat(60);
        Connection c = track(f.newConnection());

        assertThat(c.getChannelMax()).isEqualTo(2047);
        assertThat(c.getFrameMax()).isEqualTo(131072);
        assertThat(c.getHeartbeat()).isEqualTo(60);
    }

    @Test
    void clientMayAskForAShorterHeartbeat() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedHeartbeat(5);
        assertThat(track(f.newConnection()).getHeartbeat()).isEqualTo(5);
    }

    @Test
    void clientMayAskForSmallerFrames() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedFrameMax(8192);
        Connection c = track(f.newConnection());
        assertThat(c.getFrameMax()).isEqualTo(8192);

        // A body larger than a frame still arrives whole, split into 8 KiB frames both ways.
        Channel ch = c.createChannel();
        String q = ch.queueDeclare().getQueue();
        byte[] body = new byte[50_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        ch.basicPublish("", q, null, body);
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.messageCount(q) == 1);
        assertThat(ch.basicGet(q, true).getBody()).isEqualTo(body);
    }

    /**
     * As RabbitMQ: until tune-ok a frame may carry 4096 bytes (its initial_frame_max), whatever
     * frame_max the server will offer; a client whose start-ok is larger is not answered and its
     * socket is closed after RabbitMQ's silent close delay.
     */
    @Test
    void aStartOkLargerThan4096BytesIsRefused() {
        ConnectionFactory f = factory();
        f.setClientProperties(Map.of("product", "big", "padding", "x".repeat(5000)));
        f.setHandshakeTimeout(10_000);
        long start = System.nanoTime();

        Throwable thrown = catchThrowable(f::newConnection);

        assertThat(thrown).isInstanceOf(IOException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ms until refused").isBetween(2000L, 8000L);
    }

    @Test
    void requestedChannelMaxLimitsChannels() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedChannelMax(10);
        Connection c = track(f.newConnection());

        assertThat(c.getChannelMax()).isEqualTo(10);
        assertThat(c.createChannel(10)).isNotNull();
        assertThat(c.createChannel(11)).as("channel above channel_max").isNull();
        assertThat(c.isOpen()).isTrue();
    }

    // ---------------------------------------------------------------- login

    @Test
    void wrongPasswordIsRefusedWithPlain() {
        ConnectionFactory f = factory();
        f.setPassword("not-the-password");
        f.setSaslConfig(DefaultSaslConfig.PLAIN);

        assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED").hasMessageContaining("PLAIN");
    }

    @Test
    void amqplainLoginSucceedsWithTheRightPassword() throws Exception {
        ConnectionFactory f = factory();
        f.setSaslConfig(AmqPlain.CONFIG);
        Connection c = track(f.newConnection());
        assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
    }

    @Test
    void wrongPasswordIsRefusedWithAmqplain() {
        ConnectionFactory f = factory();
        f.setPassword("not-the-password");
        f.setSaslConfig(AmqPlain.CONFIG);

        assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED").hasMessageContaining("AMQPLAIN");
    }

    @Test
    void unknownVhostIsNotAllowed() {
        ConnectionFactory f = factory();
        f.setVirtualHost("no-such-vhost");

        ShutdownSignalException s = Closes.shutdown(f::newConnection);
        AMQP.Connection.Close close = (AMQP.Connection.Close) s.getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_ALLOWED);
        assertThat(close.getReplyText()).isEqualTo("NOT_ALLOWED - vhost no-such-vhost not found");
        assertThat(close.getClassId()).isEqualTo(10);
        assertThat(close.getMethodId()).isEqualTo(40);
    }

    @Test
    void guestIsRefusedFromANonLoopbackAddress() throws Exception {
        Optional<InetAddress> external = nonLoopbackIpv4();
        Assumptions.assumeTrue(external.isPresent(), "this machine has no non-loopback IPv4 address");
        try (Warren open = new Warren(new BrokerConfig().amqpPort(0).bindAddress("0.0.0.0")
                .dataDir(Files.createTempDirectory("warren-test"))).start()) {
            ConnectionFactory f = factory();
            f.setHost(external.get().getHostAddress());
            f.setPort(open.amqpPort());

            assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class)
                    .hasMessageContaining("ACCESS_REFUSED");

            // The same broker lets guest in over loopback.
            f.setHost("127.0.0.1");
            try (Connection c = f.newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    private static Optional<InetAddress> nonLoopbackIpv4() throws IOException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- heartbeats

    @Test
    void idleConnectionWithOneSecondHeartbeatsStaysOpen() throws Exception {
        ConnectionFactory f = factory();
        f.setRequestedHeartbeat(1);
        Connection c = track(f.newConnection());
        assertThat(c.getHeartbeat()).isEqualTo(1);

        // Idle time is what is under test: both sides must keep sending heartbeats for it to survive.
        await().during(Duration.ofMillis(3500)).atMost(Duration.ofSeconds(5)).until(c::isOpen);
        assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
    }

    @Test
    void silentPeerIsClosedAfterMissedHeartbeats() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(1);
            long start = System.nanoTime();

            boolean closed = raw.awaitServerClose(Duration.ofSeconds(6));

            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(closed).as("broker closed the silent connection").isTrue();
            assertThat(elapsedMs).as("ms until the broker gave up").isBetween(1000L, 4000L);
        }
    }

    @Test
    void peerThatSendsHeartbeatsIsKeptOpen() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(1);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3500);
            int heartbeatsSeen = 0;
            while (System.nanoTime() < deadline) {
                RawAmqpClient.Frame f = raw.readFrame(Duration.ofMillis(500));
                if (f != null) {
                    assertThat(f.type()).as("only heartbeats on an idle connection").isEqualTo(RawAmqpClient.FRAME_HEARTBEAT);
                    assertThat(f.channel()).isZero();
                    heartbeatsSeen++;
                }
                raw.sendHeartbeat();
            }
            assertThat(heartbeatsSeen).as("heartbeats from the broker in 3.5 s").isGreaterThanOrEqualTo(2);
            raw.openChannel(1); // still alive
        }
    }

    /**
     * As RabbitMQ's heartbeat sender: a heartbeat after half the interval without a frame, so that a
     * strict client (one that counts a whole silent interval as a missed heartbeat) never sees one.
     */
    @Test
    void heartbeatsComeAtHalfTheNegotiatedInterval() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect("127.0.0.1", port())) {
            raw.handshake(1);
            long last = System.nanoTime();
            long end = last + TimeUnit.MILLISECONDS.toNanos(4000);
            long longestGapMs = 0;
            int heartbeats = 0;
            while (System.nanoTime() < end) {
                RawAmqpClient.Frame f = raw.readFrame(Duration.ofMillis(200));
                if (f != null) {
                    assertThat(f.type()).isEqualTo(RawAmqpClient.FRAME_HEARTBEAT);
                    long now = System.nanoTime();
                    longestGapMs = Math.max(longestGapMs, TimeUnit.NANOSECONDS.toMillis(now - last));
                    last = now;
                    heartbeats++;
                }
                raw.sendHeartbeat();
            }
            assertThat(heartbeats).as("heartbeats in 4 s at a 1 s interval").isGreaterThanOrEqualTo(6);
            assertThat(longestGapMs).as("longest silence from the broker, ms").isLessThan(900);
        }
    }

    // ---------------------------------------------------------------- closing
    // ---------------------------------------------------------------- closing

    @Test
    void brokerShutdownClosesClientsWithConnectionForced() throws Exception {
        Warren other = new Warren(new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1")
                .dataDir(Files.createTempDirectory("warren-test"))).start();
        ConnectionFactory f = factory();
        f.setPort(other.amqpPort());
        Connection c = f.newConnection();
        c.createChannel();
        CompletableFuture<ShutdownSignalException> shutdown = new CompletableFuture<>();
        c.addShutdownListener(shutdown::complete);

        other.close();

        ShutdownSignalException s = shutdown.get(5, TimeUnit.SECONDS);
        assertThat(s.isHardError()).isTrue();
        assertThat(s.isInitiatedByApplication()).isFalse();
        AMQP.Connection.Close close = (AMQP.Connection.Close) s.getReason();
        assertThat(close.getReplyCode()).isEqualTo(AMQP.CONNECTION_FORCED);
        assertThat(close.getReplyText()).startsWith("CONNECTION_FORCED - ");
        assertThat(c.isOpen()).isFalse();
    }

    @Test
    void clientCloseIsClean() throws Exception {
        Connection c = factory().newConnection();
        c.createChannel().queueDeclare();
        int before = broker.connections().size();
        CompletableFuture<ShutdownSignalException> shutdown = new CompletableFuture<>();
        c.addShutdownListener(shutdown::complete);

        c.close();

        ShutdownSignalException s = shutdown.get(5, TimeUnit.SECONDS);
        assertThat(s.isInitiatedByApplication()).isTrue();
        assertThat(((AMQP.Connection.Close) s.getReason()).getReplyCode()).isEqualTo(AMQP.REPLY_SUCCESS);
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.connections().size() == before - 1);
    }

    @Test
    void closingAnAlreadyClosedConnectionIsHarmless() throws Exception {
        Connection c = factory().newConnection();
        c.close();
        assertThat(catchThrowable(() -> c.close())).isNotNull(); // AlreadyClosedException from the client
        c.abort(); // and abort never throws
    }

    /**
     * RabbitMQ's AMQPLAIN mechanism, which the Java client no longer ships: the response is a field
     * table of LOGIN and PASSWORD long strings, sent without the table's length prefix.
     */
    static final class AmqPlain implements SaslMechanism {
        static final SaslConfig CONFIG = mechanisms -> {
            for (String m : mechanisms) {
                if (m.equals("AMQPLAIN")) {
                    return new AmqPlain();
                }
            }
            return null;
        };

        @Override
        public String getName() {
            return "AMQPLAIN";
        }

        @Override
        public LongString handleChallenge(LongString challenge, String username, String password) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            try {
                entry(out, "LOGIN", username);
                entry(out, "PASSWORD", password);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return LongStringHelper.asLongString(bytes.toByteArray());
        }

        private static void entry(DataOutputStream out, String key, String value) throws IOException {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            out.writeByte(k.length);
            out.write(k);
            out.writeByte('S');
            out.writeInt(v.length);
            out.write(v);
        }
    }
}
