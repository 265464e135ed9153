package io.warren.store;

import io.netty.buffer.ByteBuf;
import io.warren.util.LongLongMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bodies shared by several durable queues, written once (as RabbitMQ's shared message store does
 * for bodies of 4 KiB and more) so that fan-out does not multiply disk writes. Each queue's log
 * holds a {@link BodyRef}, the body's <em>key</em>: where it was first written. Every body has a
 * count of the queues that refer to it, kept in memory only: at start each queue log's recovery
 * adds one for every live message that refers to a body, and {@link #finishRecovery} acts on the
 * totals.
 *
 * <p>Files: {@code <n>.bdy}, up to 64 MiB of records (layouts in {@link BodySegment}). A number
 * that keys name is never used again, so that a key found in a log can never name another body:
 * keys name the files {@link #write} writes to, numbers only grow while the store runs, every
 * start begins a new file above the highest on disk, and the file being written is only deleted
 * once its successor exists.
 *
 * <p>Reclaiming space: a file none of whose bodies is referenced is deleted. A retired file whose
 * referenced bodies fill a quarter of it or less is compacted on the {@code warren-body-compactor}
 * thread: each such body is copied, with its key, as a <em>moved</em> record into compaction's own
 * file, that file is fsynced, and only then the old one is deleted. Queue logs are never
 * rewritten: keys stay as they are and resolve through an in-memory forwarding map (key to the
 * copy's place), rebuilt at start by reading the moved records. Copies go to a file of their own,
 * never to the one {@link #write} appends to: writers there finish out of order, so a crash can
 * leave a gap before records that were synced, and the start-up reading of records stops at the
 * first one that is not whole.
 *
 * <p>What a crash leaves behind: records never synced (no confirm was sent for them; a reader
 * finds the CRC wrong), perhaps before others that were; a compaction file with copies whose
 * originals still exist (a crash before the old file was deleted: the copies win, the originals
 * get no counts and go) or with a torn tail (before the fsync: the originals are used).
 *
 * <p>Threads: any thread may write, read and release; all state is guarded by one lock, file I/O
 * runs outside it (a write reserves its offset under the lock). Compaction and the deletion of
 * files run on the compactor thread.
 */
public final class BodyStore {
    private static final Logger log = LoggerFactory.getLogger(BodyStore.class);
    /** Bodies at least this large, routed to two or more durable queues, are stored here. */
    public static final int SHARED_FROM = 4096;
    static final long SEGMENT_SIZE = 64L << 20;

    /** Where one body was first written: segment number, record offset, body length. */
    public record BodyRef(long segment, long offset, int length) {
    }

    private final Path dir;
    private final Persister persister;
    private final long segmentSize;
    private final Thread compactor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    // Guarded by lock.
    private final Map<Long, BodySegment> segments = new HashMap<>();
    /** Key of a moved body to where its copy is now. */
    private final LongLongMap forwarding = new LongLongMap();
    private final ArrayDeque<BodySegment> toCompact = new ArrayDeque<>();
    /** Releases while queues are being recovered (counts are only complete once all are). */
    private final List<BodyRef> releasedWhileRecovering = new ArrayList<>();
    private BodySegment current;
    /** Where compaction copies bodies to (written by the compactor thread only). */
    private BodySegment target;
    private long nextNumber;
    private boolean recovering = true;
    private boolean stopping;

    BodyStore(Path dir, Persister persister) {
        this(dir, persister, SEGMENT_SIZE);
    }

    /** {@code segmentSize}: the size of a file (smaller in tests). */
    BodyStore(Path dir, Persister persister, long segmentSize) {
        this.dir = dir;
        this.persister = persister;
        this.segmentSize = segmentSize;
        try {
            Files.createDirectories(dir);
            List<Path> files;
            try (Stream<Path> list = Files.list(dir)) {
                files = list.filter(f -> f.getFileName().toString().endsWith(".bdy"))
                        .sorted(Comparator.comparingLong(BodyStore::number)).toList();
            }
            for (Path p : files) {
                FileChannel channel = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
                BodySegment s = new BodySegment(number(p), p, channel, channel.size());
                s.retired = true;
                segments.put(s.number, s);
                s.scanMoved(forwarding);
                nextNumber = s.number + 1;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the body store in " + dir, e);
        }
        current = create();
        compactor = new Thread(this::compactLoop, "warren-body-compactor");
        compactor.setDaemon(true);
        compactor.start();
    }

    private static long number(Path file) {
        return Long.parseLong(file.getFileName().toString().replace(".bdy", ""));
    }

    static long key(long segment, long offset) {
        return segment << 32 | offset;
    }

    static long segmentOf(long key) {
        return key >>> 32;
    }

    static int offsetOf(long key) {
        return (int) key;
    }

    private static long key(BodyRef ref) {
        return key(ref.segment(), ref.offset());
    }

    /** Where the body with this key is now (its key itself unless compaction moved it). Under the lock. */
    private long resolve(long key) {
        long at = forwarding.get(key);
        return at == LongLongMap.MISSING ? key : at;
    }

    // ---------------------------------------------------------------- writing

    /** Writes a body that {@code references} queues will refer to; the file is synced with the next group commit. */
    public BodyRef write(ByteBuf body, int references) {
        ByteBuf record = BodySegment.record(body, BodySegment.NO_ORIGIN);
        try {
            int size = record.readableBytes();
            BodySegment segment;
            int offset;
            lock.lock();
            try {
                if (current.size + size > segmentSize && current.size > 0) {
                    BodySegment full = current;
                    current = create();
                    retire(full);
                }
                segment = current;
                offset = (int) segment.size;
                segment.size += size;
                segment.add(offset, size, references, BodySegment.NO_ORIGIN);
                segment.writing++;
            } finally {
                lock.unlock();
            }
            boolean written = false;
            try {
                segment.write(record, offset);
                persister.written(segment.channel);
                written = true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write to the body store " + segment.path, e);
            } finally {
                writeDone(segment, offset, written);
            }
            return new BodyRef(segment.number, offset, body.readableBytes());
        } finally {
            record.release();
        }
    }

    private void writeDone(BodySegment segment, int offset, boolean written) {
        lock.lock();
        try {
            if (!written) {
                segment.releaseAll(segment.find(offset));
            }
            if (--segment.writing == 0) {
                consider(segment);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A new, empty file with the next number (under the lock; the directory is synced so that the number sticks). */
    private BodySegment create() {
        long number = nextNumber++;
        Path path = dir.resolve(String.format("%020d.bdy", number));
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            BodySegment s = new BodySegment(number, path, channel, 0);
            segments.put(number, s);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + path, e);
        }
    }

    /** Under the lock: a file that is no longer written to. */
    private void retire(BodySegment s) {
        s.retired = true;
        consider(s);
    }

    /**
     * Under the lock, after a count or write in {@code s} changed: hands it to the compactor when
     * it is worth deleting or compacting. The file being written goes only when nothing in it is
     * referenced and it holds a sixteenth of a full one (4 MiB): copying its live bodies would
     * mostly copy those that queues are about to take, and a new file for every body, when each is
     * taken at once, would be waste. Compaction's own file, once that large, is compacted as soon
     * as it is sparse (bodies copied while their last queues were taking them die there soon after).
     */
    private void consider(BodySegment s) {
        if (recovering || stopping || s.queued || s.writing > 0 || s.uncompactable && s.liveBytes > 0) {
            return;
        }
        boolean worth;
        if (s.retired) {
            worth = sparse(s);
        } else if (s == target) {
            worth = s.size >= segmentSize / 16 && sparse(s);
        } else {
            worth = s.liveBytes == 0 && s.size >= segmentSize / 16;
        }
        if (worth) {
            s.queued = true;
            toCompact.add(s);
            work.signal();
        }
    }

    /** What is still referenced fills a quarter of the file or less. */
    private static boolean sparse(BodySegment s) {
        return s.liveBytes * 4 <= s.size;
    }

    // ---------------------------------------------------------------- reading and counting

    /** Reads a body back (paged-out messages, recovery), checking its CRC; null when it is missing or damaged. */
    public ByteBuf read(BodyRef ref) {
        long key = key(ref);
        while (true) {
            long at;
            BodySegment s;
            lock.lock();
            try {
                at = resolve(key);
                s = segments.get(segmentOf(at));
            } finally {
                lock.unlock();
            }
            if (s == null) {
                return null;
            }
            try {
                return s.readBody(offsetOf(at), at != key, ref.length());
            } catch (ClosedChannelException e) {
                if (!compactedAway(s)) {
                    log.warn("Cannot read a shared body from {}: it is closed", s.path);
                    return null;
                }
                // Moved meanwhile: look again.
            } catch (IOException e) {
                log.warn("Cannot read a shared body from {}: {}", s.path, e.toString());
                return null;
            }
        }
    }

    private boolean compactedAway(BodySegment s) {
        lock.lock();
        try {
            return segments.get(s.number) != s;
        } finally {
            lock.unlock();
        }
    }

    /** Recovery: one more queue refers to this body. */
    public void recovered(BodyRef ref) {
        lock.lock();
        try {
            if (!recovering) {
                throw new IllegalStateException("recovery is over");
            }
            long key = key(ref);
            long at = resolve(key);
            BodySegment s = segments.get(segmentOf(at));
            if (s != null) {
                boolean moved = at != key;
                int header = moved ? BodySegment.MOVED_HEADER : BodySegment.HEADER;
                s.add(offsetOf(at), header + ref.length(), 1, moved ? key : BodySegment.NO_ORIGIN);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A queue no longer refers to the body (acked, dropped, or the queue went). */
    public void release(BodyRef ref) {
        lock.lock();
        try {
            if (recovering) {
                releasedWhileRecovering.add(ref);
            } else {
                releaseLocked(key(ref));
            }
        } finally {
            lock.unlock();
        }
    }

    private void releaseLocked(long key) {
        long at = resolve(key);
        BodySegment s = segments.get(segmentOf(at));
        int i = s == null ? -1 : s.find(offsetOf(at));
        if (i >= 0 && s.release(i)) {
            if (at != key) {
                forwarding.remove(key);
            }
            consider(s);
        }
    }

    /**
     * After every durable queue was recovered: the counts are complete, so files nobody refers to
     * go, sparse ones are compacted, and copies nobody refers to are forgotten.
     */
    public void finishRecovery() {
        lock.lock();
        try {
            forwarding.clear();
            for (BodySegment s : segments.values()) {
                s.mergeRecovered();
                for (int i = 0; i < s.entries(); i++) {
                    if (s.origin(i) != BodySegment.NO_ORIGIN) {
                        forwarding.put(s.origin(i), key(s.number, s.offset(i)));
                    }
                }
            }
            recovering = false;
            for (BodyRef ref : releasedWhileRecovering) {
                releaseLocked(key(ref));
            }
            releasedWhileRecovering.clear();
            for (BodySegment s : segments.values()) {
                consider(s);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- compaction

    private void compactLoop() {
        while (true) {
            BodySegment s;
            lock.lock();
            try {
                while (toCompact.isEmpty() && !stopping) {
                    work.awaitUninterruptibly();
                }
                if (stopping) {
                    return;
                }
                s = toCompact.poll();
            } finally {
                lock.unlock();
            }
            try {
                compact(s);
            } catch (IOException | RuntimeException e) {
                log.warn("Could not compact shared body segment {}: {}. It stays on disk until nothing in it is "
                        + "referenced; check the disk", s.path.getFileName(), e.toString());
                lock.lock();
                try {
                    // Not tried again at once (the next release to zero in it brings it back, to be deleted).
                    s.uncompactable = true;
                    s.queued = false;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** A body compaction copies: its entry in the old file, and its key. */
    private record Move(int entry, int offset, int bodyLength, boolean moved, long key) {
    }

    /**
     * Compactor thread: deletes {@code s}, after copying what is still referenced in it elsewhere
     * (when that is still little: counts may have changed since it was queued).
     */
    private void compact(BodySegment s) throws IOException {
        long start = System.nanoTime();
        List<Move> moves = new ArrayList<>();
        lock.lock();
        try {
            if (s == current && s.liveBytes == 0 && s.writing == 0) {
                current = create();
                s.retired = true;
            } else if (s == target && sparse(s)) {
                target = null;
                s.retired = true;
            }
            if (!s.retired || s.writing > 0 || !sparse(s) || s.uncompactable && s.liveBytes > 0) {
                // Not (or no longer) worth it: consider() runs again when a write is done or a count drops.
                s.queued = false;
                return;
            }
            for (int i = 0; i < s.entries(); i++) {
                if (s.count(i) > 0) {
                    boolean moved = s.origin(i) != BodySegment.NO_ORIGIN;
                    int header = moved ? BodySegment.MOVED_HEADER : BodySegment.HEADER;
                    moves.add(new Move(i, s.offset(i), s.recordSize(i) - header, moved,
                            moved ? s.origin(i) : key(s.number, s.offset(i))));
                }
            }
            if (moves.isEmpty()) {
                segments.remove(s.number);
            }
        } finally {
            lock.unlock();
        }
        if (moves.isEmpty()) {
            s.delete();
            return;
        }
        long[] copies = copy(s, moves);
        long movedBytes = 0;
        lock.lock();
        try {
            // Counts as they are now (queues may have released some while the copies were written).
            for (int m = 0; m < moves.size(); m++) {
                Move move = moves.get(m);
                int count = s.count(move.entry());
                s.releaseAll(move.entry());
                BodySegment to = segments.get(segmentOf(copies[m]));
                int size = BodySegment.MOVED_HEADER + move.bodyLength();
                movedBytes += size;
                if (count > 0) {
                    to.add(offsetOf(copies[m]), size, count, move.key());
                    forwarding.put(move.key(), copies[m]);
                }
            }
            segments.remove(s.number);
            if (target != null) {
                consider(target);
            }
        } finally {
            lock.unlock();
        }
        s.delete();
        log.info("Compacted shared body segment {}: moved {} bodies ({} bytes) to segment {}, reclaimed {} bytes in {} ms",
                s.number, moves.size(), movedBytes, segmentOf(copies[copies.length - 1]), s.size - movedBytes,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /**
     * Writes a moved copy of each body (checking its CRC) to compaction's target file and syncs it;
     * returns where each copy is. Nothing refers to the copies until the caller says so.
     */
    private long[] copy(BodySegment s, List<Move> moves) throws IOException {
        long[] copies = new long[moves.size()];
        List<BodySegment> written = new ArrayList<>();
        for (int m = 0; m < moves.size(); m++) {
            Move move = moves.get(m);
            ByteBuf body = s.readBody(move.offset(), move.moved(), move.bodyLength());
            if (body == null) {
                throw new IOException("the body at offset " + move.offset() + " is damaged");
            }
            ByteBuf record = BodySegment.record(body, move.key());
            try {
                BodySegment to = reserveInTarget(record.readableBytes());
                copies[m] = key(to.number, to.size - record.readableBytes());
                to.write(record, offsetOf(copies[m]));
                if (!written.contains(to)) {
                    written.add(to);
                }
            } finally {
                record.release();
                body.release();
            }
        }
        for (BodySegment to : written) {
            to.channel.force(false);
        }
        return copies;
    }

    /** Room for a record at the end of compaction's target file (a new one when it is full). */
    private BodySegment reserveInTarget(int size) {
        lock.lock();
        try {
            if (target == null || target.size + size > segmentSize && target.size > 0) {
                BodySegment full = target;
                target = create();
                if (full != null) {
                    // Copies of this compaction in it are not counted yet: compact() checks again before acting.
                    retire(full);
                }
            }
            target.size += size;
            return target;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the compactor (letting a compaction in progress finish), then syncs and closes every file. */
    void close() {
        lock.lock();
        try {
            stopping = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            compactor.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (compactor.isAlive()) {
            log.warn("The shared body compactor did not stop within 30 s; closing its files under it "
                    + "(what it was copying is still in the original file)");
        }
        lock.lock();
        try {
            for (BodySegment s : segments.values()) {
                s.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
