package io.warren.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rabbitmq.conf syntax (ConfigFile) and what each key sets on BrokerConfig (ConfigKeys). */
class ConfigFileTest {
    private static final String SOURCE = "warren.conf";

    @TempDir
    Path dir;

    /** Parses {@code lines} and applies them to a fresh BrokerConfig. */
    private static BrokerConfig apply(String... lines) throws ConfigException {
        return applied(lines).config();
    }

    private record Applied(BrokerConfig config, List<String> warnings) {
    }

    private static Applied applied(String... lines) throws ConfigException {
        ConfigFile file = ConfigFile.parse(SOURCE, String.join("\n", lines) + "\n");
        BrokerConfig config = new BrokerConfig();
        file.applyTo(config);
        return new Applied(config, file.warnings());
    }

    @Test
    void storeKeysSetFlushIntervalAndQueueMemoryBudget() throws ConfigException {
        BrokerConfig config = apply("store.flush_interval = 50", "queue_memory_budget = 1048576");
        assertThat(config.storeFlushIntervalMillis()).isEqualTo(50);
        assertThat(config.queueMemoryBytes()).isEqualTo(1048576);
        assertThatThrownBy(() -> apply("queue_memory_budget = 10")).isInstanceOf(ConfigException.class);
    }

    @Test
    void ioSpinSetsHowLongAnIdleEventLoopPolls() throws ConfigException {
        assertThat(new BrokerConfig().ioSpinMicros()).isEqualTo(20);
        assertThat(apply("io_spin = 0").ioSpinMicros()).isZero();
        assertThat(apply("io_spin = 50").ioSpinMicros()).isEqualTo(50);
        assertThatThrownBy(() -> apply("io_spin = -1")).isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> apply("io_spin = 5000")).isInstanceOf(ConfigException.class);
    }

    @Test
    void sendTimeoutIsRabbitMqsListenerOptionInMilliseconds() throws ConfigException {
        assertThat(new BrokerConfig().sendTimeoutMillis()).isEqualTo(30_000);
        assertThat(apply("tcp_listen_options.send_timeout = 15000").sendTimeoutMillis()).isEqualTo(15_000);
        assertThatThrownBy(() -> apply("tcp_listen_options.send_timeout = 0")).isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> apply("tcp_listen_options.send_timeout = soon")).isInstanceOf(ConfigException.class);
    }

    @Test
    void ioThreadsSetsTheEventLoopCount() throws ConfigException {
        assertThat(new BrokerConfig().ioThreads()).isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        assertThat(apply("io_threads = 3").ioThreads()).isEqualTo(3);
        assertThatThrownBy(() -> apply("io_threads = 0")).isInstanceOf(ConfigException.class);
    }

    @Test
    void emptyFileLeavesTheDefaults() throws ConfigException {
        Applied a = applied("");
        BrokerConfig defaults = new BrokerConfig();
        assertThat(a.warnings()).isEmpty();
        assertThat(a.config().amqpPort()).isEqualTo(5672);
        assertThat(a.config().bindAddress()).isEqualTo(defaults.bindAddress());
        assertThat(a.config().defaultUser()).isEqualTo("guest");
        assertThat(a.config().defaultPass()).isEqualTo("guest");
        assertThat(a.config().defaultVhost()).isEqualTo("/");
        assertThat(a.config().loopbackUsers()).containsExactly("guest");
        assertThat(a.config().heartbeatSeconds()).isEqualTo(defaults.heartbeatSeconds());
        assertThat(a.config().dataDir()).isEqualTo(Path.of("warren-data"));
    }

    @Test
    void typicalRabbitmqConf() throws ConfigException {
        Applied a = applied(
                "# A RabbitMQ node's config",
                "listeners.tcp.default = 5673",
                "default_user = admin",
                "default_pass = s3cret",
                "default_vhost = prod",
                "loopback_users.guest = false",
                "heartbeat = 30",
                "frame_max = 65536",
                "channel_max = 128",
                "max_message_size = 16777216",
                "handshake_timeout = 2500",
                "data_dir = /var/lib/warren");
        BrokerConfig c = a.config();
        assertThat(a.warnings()).isEmpty();
        assertThat(c.amqpPort()).isEqualTo(5673);
        assertThat(c.bindAddress()).isEqualTo(new BrokerConfig().bindAddress());
        assertThat(c.defaultUser()).isEqualTo("admin");
        assertThat(c.defaultPass()).isEqualTo("s3cret");
        assertThat(c.defaultVhost()).isEqualTo("prod");
        assertThat(c.loopbackUsers()).isEmpty();
        assertThat(c.heartbeatSeconds()).isEqualTo(30);
        assertThat(c.frameMax()).isEqualTo(65536);
        assertThat(c.channelMax()).isEqualTo(128);
        assertThat(c.maxMessageSize()).isEqualTo(16777216L);
        assertThat(c.handshakeTimeoutSeconds()).isEqualTo(3); // 2500 ms, rounded up
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/warren"));
    }

    // --- listeners.tcp.NAME

    @Test
    void listenerWithAddressSetsBindAddressAndPort() throws ConfigException {
        BrokerConfig c = apply("listeners.tcp.default = 127.0.0.1:5673");
        assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(c.amqpPort()).isEqualTo(5673);
    }

    @Test
    void listenerWithIpv6Address() throws ConfigException {
        assertThat(apply("listeners.tcp.default = ::1:5672").bindAddress()).isEqualTo("::1");
        BrokerConfig c = apply("listeners.tcp.local = [::1]:5674");
        assertThat(c.bindAddress()).isEqualTo("::1");
        assertThat(c.amqpPort()).isEqualTo(5674);
    }

    @Test
    void laterLineForTheSameListenerWins() throws ConfigException {
        Applied a = applied(
                "listeners.tcp.default = 127.0.0.1:5672",
                "listeners.tcp.default = 5673");
        assertThat(a.warnings()).isEmpty();
        assertThat(a.config().amqpPort()).isEqualTo(5673);
        assertThat(a.config().bindAddress()).isEqualTo(new BrokerConfig().bindAddress());
    }

    @Test
    void secondListenerIsIgnoredWithAWarning() throws ConfigException {
        Applied a = applied(
                "listeners.tcp.default = 5672",
                "listeners.tcp.other = 127.0.0.1:5673");
        assertThat(a.config().amqpPort()).isEqualTo(5672);
        assertThat(a.config().bindAddress()).isEqualTo(new BrokerConfig().bindAddress());
        assertThat(a.warnings()).singleElement().asString()
                .contains("warren.conf, line 2").contains("listeners.tcp.other").contains("ignored");
    }

    @Test
    void badListenerValues() {
        assertProblem(2, "port", "heartbeat = 10", "listeners.tcp.default = 70000");
        assertProblem(1, "listeners.tcp.default", "listeners.tcp.default = amqp");
        assertProblem(1, "listeners.tcp.default", "listeners.tcp.default = 127.0.0.1:");
        assertProblem(1, "IP:PORT", "listeners.tcp.default = :5672");
        assertProblem(1, "not supported", "listeners.tcp = none");
    }

    // --- loopback_users

    @Test
    void loopbackUsers() throws ConfigException {
        assertThat(apply("loopback_users.guest = false").loopbackUsers()).isEmpty();
        assertThat(apply("loopback_users.admin = true").loopbackUsers()).containsExactlyInAnyOrder("guest", "admin");
        assertThat(apply("loopback_users = none").loopbackUsers()).isEmpty();
        assertProblem(1, "true or false", "loopback_users.guest = no");
        assertProblem(1, "none", "loopback_users = guest");
    }

    // --- numbers

    @Test
    void numbersAtTheirLimits() throws ConfigException {
        assertThat(apply("heartbeat = 0").heartbeatSeconds()).isZero();
        assertThat(apply("heartbeat = 65535").heartbeatSeconds()).isEqualTo(65535);
        assertThat(apply("frame_max = 0").frameMax()).isZero();
        assertThat(apply("frame_max = 4096").frameMax()).isEqualTo(4096);
        assertThat(apply("channel_max = 0").channelMax()).isZero();
        assertThat(apply("channel_max = 65535").channelMax()).isEqualTo(65535);
        assertThat(apply("max_message_size = 536870912").maxMessageSize()).isEqualTo(536870912L);
    }

    @Test
    void badNumbersNameTheLineAndTheValue() {
        assertProblem(3, "heartbeat must be a whole number of seconds, got \"sixty\"",
                "# comment", "", "heartbeat = sixty");
        assertProblem(1, "heartbeat must be from 0 to 65535", "heartbeat = -1");
        assertProblem(1, "heartbeat must be from 0 to 65535", "heartbeat = 65536");
        assertProblem(1, "frame_max", "frame_max = 1024");
        assertProblem(1, "frame_max", "frame_max = 99999999999");
        assertProblem(1, "channel_max", "channel_max = 70000");
        assertProblem(1, "max_message_size", "max_message_size = 536870913");
        assertProblem(1, "max_message_size", "max_message_size = 0");
        assertProblem(1, "max_message_size", "max_message_size = 128MB");
        assertProblem(1, "handshake_timeout", "handshake_timeout = 0");
    }

    @Test
    void badValueStopsTheWholeFile() {
        assertThatThrownBy(() -> apply("heartbeat = 5", "channel_max = lots"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("warren.conf, line 2: channel_max must be a whole number of channels, got \"lots\"");
    }

    // --- syntax

    @Test
    void commentsAndBlankLines() throws ConfigException {
        Applied a = applied(
                "# full-line comment",
                "   # indented comment",
                "",
                "   \t ",
                "default_user = admin   # trailing comment",
                "heartbeat=15#no blanks");
        assertThat(a.warnings()).isEmpty();
        assertThat(a.config().defaultUser()).isEqualTo("admin");
        assertThat(a.config().heartbeatSeconds()).isEqualTo(15);
    }

    @Test
    void hashEndsAnUnquotedValueAsInRabbitmq() throws ConfigException {
        assertThat(apply("default_pass = abc#def").defaultPass()).isEqualTo("abc");
    }

    @Test
    void singleQuotedValueKeepsHash() throws ConfigException {
        assertThat(apply("default_pass = 'abc#def'  # comment").defaultPass()).isEqualTo("abc#def");
        assertThat(apply("default_pass = ' padded '").defaultPass()).isEqualTo(" padded ");
        // As in cuttlefish, a quote that never closes is an ordinary character.
        assertThat(apply("default_pass = 'abc").defaultPass()).isEqualTo("'abc");
        assertProblem(1, "after the quoted value", "default_pass = 'abc'def");
        assertProblem(1, "no value", "default_pass = ''");
    }

    @Test
    void valuesKeepInnerBlanksAndEqualsSigns() throws ConfigException {
        BrokerConfig c = apply("default_pass = a=b c", "default_vhost = /");
        assertThat(c.defaultPass()).isEqualTo("a=b c");
        assertThat(c.defaultVhost()).isEqualTo("/");
    }

    @Test
    void laterLineForTheSameKeyWins() throws ConfigException {
        assertThat(apply("heartbeat = 10", "heartbeat = 20").heartbeatSeconds()).isEqualTo(20);
    }

    @Test
    void windowsLineEndingsAndByteOrderMark() throws ConfigException {
        ConfigFile file = ConfigFile.parse(SOURCE, "\uFEFFdefault_user = admin\r\nheartbeat = 5\r\n");
        BrokerConfig c = new BrokerConfig();
        file.applyTo(c);
        assertThat(c.defaultUser()).isEqualTo("admin");
        assertThat(c.heartbeatSeconds()).isEqualTo(5);
    }

    @Test
    void malformedLinesNameTheLine() {
        assertProblem(2, "expected \"key = value\"", "heartbeat = 5", "heartbeat 5");
        assertProblem(1, "expected \"key = value\"", "heartbeat # = 5");
        assertProblem(1, "no key", "= 5");
        assertProblem(1, "no value for heartbeat", "heartbeat =");
        assertProblem(1, "no value for heartbeat", "heartbeat = # later");
        assertProblem(1, "not a valid key", "default user = admin");
        assertProblem(1, "not a valid key", "listeners..tcp = 5672");
        assertProblem(1, "include is not supported", "include /etc/rabbitmq/conf.d/*.conf");
    }

    @Test
    void syntaxErrorsAreFoundByParseBeforeAnyValueIsChecked() {
        assertThatThrownBy(() -> ConfigFile.parse(SOURCE, "heartbeat = sixty\nbroken line\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("warren.conf, line 2: ");
    }

    @Test
    void escapedDotIsPartOfAWord() throws ConfigException {
        Applied a = applied("loopback_users.first\\.last = true");
        assertThat(a.config().loopbackUsers()).contains("first.last");
    }

    // --- unknown keys

    @Test
    void unknownKeysAreWarningsNotErrors() throws ConfigException {
        Applied a = applied(
                "management.tcp.port = 15672",
                "heartbeat = 10",
                "log.console.level = info");
        assertThat(a.config().heartbeatSeconds()).isEqualTo(10);
        assertThat(a.warnings()).containsExactly(
                "warren.conf, line 1: unknown key management.tcp.port is ignored",
                "warren.conf, line 3: unknown key log.console.level is ignored");
    }

    // --- files

    @Test
    void readsAFile() throws IOException, ConfigException {
        Path file = dir.resolve("rabbitmq.conf");
        Files.writeString(file, "listeners.tcp.default = 127.0.0.1:5679\ndata_dir = data\n", StandardCharsets.UTF_8);
        BrokerConfig c = new BrokerConfig();
        ConfigFile.read(file).applyTo(c);
        assertThat(c.amqpPort()).isEqualTo(5679);
        assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(c.dataDir()).isEqualTo(Path.of("data"));
    }

    @Test
    void errorsInAFileNameTheFile() throws IOException {
        Path file = dir.resolve("rabbitmq.conf");
        Files.writeString(file, "heartbeat = 10\nframe_max = tiny\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ConfigFile.read(file).applyTo(new BrokerConfig()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ", line 2: frame_max");
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("absent.conf");
        assertThatThrownBy(() -> ConfigFile.read(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file " + file + " does not exist");
    }

    @Test
    void fileThatIsNotUtf8() throws IOException {
        Path file = dir.resolve("binary.conf");
        Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41});
        assertThatThrownBy(() -> ConfigFile.read(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid UTF-8");
    }

    @Test
    void directoryIsNotAFile() {
        assertThatThrownBy(() -> ConfigFile.read(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cannot read config file " + dir);
    }

    /** Parsing and applying {@code lines} fails on {@code line} with a message containing {@code what}. */
    private static void assertProblem(int line, String what, String... lines) {
        assertThatThrownBy(() -> apply(lines))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("warren.conf, line " + line + ": ")
                .hasMessageContaining(what);
    }
}
