package io.warren.it.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.warren.Warren;
import io.warren.config.BrokerConfig;
import io.warren.it.BrokerProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Damage done to a stopped broker's files: a segment cut short, a flipped byte, garbage after the
 * last record, an unreadable definitions document. The broker starts (or, for the definitions,
 * refuses to, saying which file) and keeps exactly the messages whose records are intact.
 */
class CorruptionTest {
    private static final String QUEUE = "corrupt-q";
    private static final int MESSAGES = 300;

    private final List<Path> dirs = new ArrayList<>();
    private Path original;
    /** The messages in publish order. */
    private final List<String> sent = new ArrayList<>();
    /** Where each message's publish record lies in the segment file: [start, end). */
    private List<long[]> records;
    private long segmentLength;

    @BeforeEach
    void publishAndStop() throws Exception {
        original = newDir();
        Random random = new Random(5);
        try (Warren broker = start(original); Connection c = connect(broker)) {
            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < MESSAGES; i++) {
                // Bodies of varied length, so that records do not line up on any pattern.
                String body = "m" + i + "-" + "x".repeat(random.nextInt(200));
                ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body.getBytes(StandardCharsets.UTF_8));
                sent.add(body);
            }
            ch.waitForConfirmsOrDie(10_000);
        }
        Path segment = segment(original);
        segmentLength = Files.size(segment);
        records = recordExtents(Files.readAllBytes(segment));
        assertThat(records).hasSize(MESSAGES);
    }

    @AfterEach
    void removeDirs() throws IOException {
        for (Path d : dirs) {
            BrokerProcess.deleteRecursively(d);
        }
    }

    @Test
    void segmentCutAnywhereKeepsEveryWholeRecordAndNothingElse() throws Exception {
        Random random = new Random(11);
        TreeSet<Long> cuts = new TreeSet<>(List.of(0L, 1L, records.get(0)[1], records.get(MESSAGES / 2)[1] - 1,
                records.get(MESSAGES / 2)[1], segmentLength - 1));
        while (cuts.size() < 20) {
            cuts.add((long) random.nextInt((int) segmentLength));
        }
        for (long cut : cuts) {
            Path dir = copyOf(original);
            try (RandomAccessFile f = new RandomAccessFile(segment(dir).toFile(), "rw")) {
                f.setLength(cut);
            }
            int whole = (int) records.stream().filter(r -> r[1] <= cut).count();
            try (Warren broker = start(dir)) {
                long kept = whole == 0 ? 0 : records.get(whole - 1)[1];
                assertThat(Files.size(segment(dir))).as("cut at %d: torn tail removed", cut).isEqualTo(kept);
                assertThat(drain(broker)).as("cut at %d", cut).containsExactlyElementsOf(sent.subList(0, whole));
            }
        }
    }

    @Test
    void flippedByteInARecordLosesOnlyThatMessage() throws Exception {
        int victim = MESSAGES / 2;
        long[] r = records.get(victim);
        Path dir = copyOf(original);
        flipByte(segment(dir), (r[0] + r[1]) / 2);
        try (Warren broker = start(dir)) {
            List<String> expected = new ArrayList<>(sent);
            expected.remove(victim);
            assertThat(drain(broker)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void flippedByteInARecordHeaderLosesOnlyThatMessage() throws Exception {
        int victim = MESSAGES / 3;
        Path dir = copyOf(original);
        // The high byte of the length: the record now claims to be far longer than the file.
        flipByte(segment(dir), records.get(victim)[0] + 3);
        try (Warren broker = start(dir)) {
            List<String> expected = new ArrayList<>(sent);
            expected.remove(victim);
            assertThat(drain(broker)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void garbageAfterTheLastRecordIsCutOffAndAppendsContinueAfterIt() throws Exception {
        Path dir = copyOf(original);
        byte[] garbage = new byte[1000];
        new Random(3).nextBytes(garbage);
        // Starts like a record header (magic "WR", type publish) so the scan has to check it properly.
        garbage[0] = 'W';
        garbage[1] = 'R';
        garbage[2] = 1;
        Files.write(segment(dir), garbage, java.nio.file.StandardOpenOption.APPEND);
        try (Warren broker = start(dir)) {
            assertThat(Files.size(segment(dir))).isEqualTo(segmentLength);
            try (Connection c = connect(broker)) {
                Channel ch = c.createChannel();
                ch.confirmSelect();
                ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, "after".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(5000);
            }
        }
        try (Warren broker = start(dir)) {
            List<String> expected = new ArrayList<>(sent);
            expected.add("after");
            assertThat(drain(broker)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void aRunningLogIsZeroFilledAheadAndGivesTheZerosBackWhenStopped() throws Exception {
        Path dir = copyOf(original);
        try (Warren broker = start(dir); Connection c = connect(broker)) {
            Channel ch = c.createChannel();
            ch.confirmSelect();
            ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, "after".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(5000);
            // Preallocated: the fsync of the next append need not change the file's size.
            assertThat(Files.size(segment(dir))).isGreaterThanOrEqualTo(segmentLength + 64 * 1024);
        }
        assertThat(recordExtents(Files.readAllBytes(segment(dir)))).hasSize(MESSAGES + 1);
    }

    @Test
    void zerosAfterTheLastRecordAreTheEndOfTheLogNotDamage() throws Exception {
        // What a kill -9 leaves behind: the records, then the zeros written ahead of them.
        Path dir = copyOf(original);
        Files.write(segment(dir), new byte[100 * 1024], StandardOpenOption.APPEND);
        Logger logLogger = (Logger) LoggerFactory.getLogger("io.warren.store.QueueLog");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logLogger.addAppender(logged);
        try (Warren broker = start(dir)) {
            assertThat(Files.size(segment(dir))).isEqualTo(segmentLength);
            assertThat(drain(broker)).containsExactlyElementsOf(sent);
        } finally {
            logLogger.detachAppender(logged);
        }
        assertThat(logged.list).as("warnings about the log").isEmpty();
    }

    @Test
    void damageInAnOlderSegmentLosesOnlyTheDamagedRecords() throws Exception {
        Path dir = newDir();
        List<String> big = new ArrayList<>();
        try (Warren broker = start(dir); Connection c = connect(broker)) {
            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            ch.confirmSelect();
            // 100 KiB bodies: 200 of them need two 16 MiB segments.
            for (int i = 0; i < 200; i++) {
                String body = "b" + i + "-" + "y".repeat(100 * 1024);
                ch.basicPublish("", QUEUE, MessageProperties.PERSISTENT_BASIC, body.getBytes(StandardCharsets.UTF_8));
                big.add(body);
            }
            ch.waitForConfirmsOrDie(30_000);
        }
        List<Path> segments = segments(dir);
        assertThat(segments).hasSize(2);
        List<long[]> first = recordExtents(Files.readAllBytes(segments.get(0)));
        // A flipped byte in record 50, and the older segment's tail cut in the middle of record 120.
        flipByte(segments.get(0), (first.get(50)[0] + first.get(50)[1]) / 2);
        try (RandomAccessFile f = new RandomAccessFile(segments.get(0).toFile(), "rw")) {
            f.setLength((first.get(120)[0] + first.get(120)[1]) / 2);
        }
        List<String> expected = new ArrayList<>(big.subList(0, 120));
        expected.remove(50);
        expected.addAll(big.subList(first.size(), big.size()));
        try (Warren broker = start(dir)) {
            assertThat(drain(broker)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void corruptDefinitionsFileStopsTheBrokerFromStartingAndKeepsTheData() throws Exception {
        Path dir = copyOf(original);
        Path definitions = dir.resolve("definitions.json");
        byte[] good = Files.readAllBytes(definitions);
        Files.write(definitions, java.util.Arrays.copyOf(good, good.length / 2));
        // Starting with no definitions would drop every queue's log as an orphan: refusing is the safe answer.
        assertThatThrownBy(() -> start(dir)).hasMessageContaining("definitions.json");
        assertThat(segment(dir)).exists();
        // Once the file is put right (and the failed start let go of the data directory), all is there.
        Files.write(definitions, good);
        try (Warren broker = start(dir)) {
            assertThat(drain(broker)).containsExactlyElementsOf(sent);
        }
    }

    private Warren start(Path dir) throws Exception {
        return new Warren(new BrokerConfig().amqpPort(0).bindAddress("127.0.0.1").dataDir(dir)).start();
    }

    private static Connection connect(Warren broker) throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setPort(broker.amqpPort());
        f.setAutomaticRecoveryEnabled(false);
        return f.newConnection();
    }

    private static List<String> drain(Warren broker) throws Exception {
        List<String> got = new ArrayList<>();
        try (Connection c = connect(broker)) {
            Channel ch = c.createChannel();
            GetResponse r;
            while ((r = ch.basicGet(QUEUE, true)) != null) {
                got.add(new String(r.getBody(), StandardCharsets.UTF_8));
            }
        }
        return got;
    }

    /** Walks the records the way their header describes them: magic (2), type (1), payload length (4), CRC (4), id (8). */
    private static List<long[]> recordExtents(byte[] segment) {
        ByteBuffer buf = ByteBuffer.wrap(segment);
        List<long[]> out = new ArrayList<>();
        int pos = 0;
        while (pos < segment.length) {
            assertThat(buf.getShort(pos)).as("magic at %d", pos).isEqualTo((short) 0x5752);
            int end = pos + 19 + buf.getInt(pos + 3);
            out.add(new long[] {pos, end});
            pos = end;
        }
        return out;
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0xFF);
        }
    }

    private static Path segment(Path dataDir) throws IOException {
        List<Path> segments = segments(dataDir);
        assertThat(segments).hasSize(1);
        return segments.get(0);
    }

    private static List<Path> segments(Path dataDir) throws IOException {
        try (Stream<Path> files = Files.walk(dataDir.resolve("queues"))) {
            return files.filter(p -> p.toString().endsWith(".seg")).sorted(Comparator.naturalOrder()).toList();
        }
    }

    private Path newDir() throws IOException {
        Path d = Files.createTempDirectory("warren-corrupt");
        dirs.add(d);
        return d;
    }

    private Path copyOf(Path source) throws IOException {
        Path target = newDir();
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.getFileName().toString().equals(".lock")) {
                    Files.copy(p, to);
                }
            }
        }
        return target;
    }
}
