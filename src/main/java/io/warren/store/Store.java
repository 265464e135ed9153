package io.warren.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The data directory: a lock so that only one broker uses it, the definitions document, one
 * message log directory per durable queue ({@code queues/<hash of vhost and name>}), and the
 * group-commit thread they share.
 */
public final class Store implements AutoCloseable {
    private final Path dataDir;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Persister persister;
    private final DefinitionsFile definitions;
    private final BodyStore bodies;

    public Store(Path dataDir, long flushIntervalMillis, Supplier<DefinitionsFile.Definitions> snapshot) {
        this.dataDir = dataDir;
        try {
            Files.createDirectories(dataDir.resolve("queues"));
            lockFile = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = lockFile.tryLock();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use data directory " + dataDir + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            throw new IllegalStateException("data directory " + dataDir + " is in use by another Warren process "
                    + "(stop it, or choose another directory with --data-dir)");
        }
        // Spilled transient messages of the previous run are gone with it.
        deleteRecursively(dataDir.resolve("spill"));
        this.persister = new Persister(flushIntervalMillis);
        this.definitions = new DefinitionsFile(dataDir, snapshot);
        this.bodies = new BodyStore(dataDir.resolve("bodies"), persister);
    }

    public DefinitionsFile.Definitions loadDefinitions() {
        return definitions.load();
    }

    public CompletableFuture<Void> saveDefinitions() {
        return definitions.save();
    }

    /**
     * The message log of a durable queue. {@code fresh} for a newly declared queue: anything left
     * in its directory (from a queue of the same name deleted while the broker was down) goes.
     */
    public QueueLog openQueueLog(String vhost, String queue, boolean fresh) {
        Path dir = queueDir(vhost, queue);
        if (fresh) {
            deleteRecursively(dir);
        }
        return QueueLog.open(dir, "queue '" + queue + "' in vhost '" + vhost + "'", persister, bodies, true);
    }

    /** A scratch log for a non-durable queue's messages that do not fit in memory; gone at restart. */
    public QueueLog openSpillLog(String vhost, String queue) {
        Path dir = dataDir.resolve("spill").resolve(java.util.UUID.randomUUID().toString());
        return QueueLog.open(dir, "queue '" + queue + "' in vhost '" + vhost + "' (spill)", persister, bodies, false);
    }

    /** Removes logs of queues that are no longer defined (deleted while the broker was down). */
    public void removeLogsExcept(java.util.Set<Path> keep) {
        try (Stream<Path> dirs = Files.list(dataDir.resolve("queues"))) {
            dirs.filter(d -> !keep.contains(d)).forEach(Store::deleteRecursively);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bodies shared by several durable queues. */
    public BodyStore bodies() {
        return bodies;
    }

    public Path queueDir(String vhost, String queue) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((vhost + "\u0000" + queue).getBytes(StandardCharsets.UTF_8));
            return dataDir.resolve("queues").resolve(HexFormat.of().formatHex(hash, 0, 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    @Override
    public void close() {
        definitions.close();
        persister.close();
        bodies.close();
        try {
            lock.release();
            lockFile.close();
        } catch (IOException e) {
            // Released when the process exits anyway.
        }
    }
}
