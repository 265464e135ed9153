package io.warren.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bodies shared by several durable queues, written once (as RabbitMQ's shared message store does
 * for bodies of 4 KiB and more) so that fan-out does not multiply disk writes. Each queue's log
 * holds a {@link BodyRef}; a segment is deleted once no queue refers to anything in it.
 *
 * <p>Any thread may write: the offset is reserved under a short lock, the write itself is
 * positional and runs outside it. Record: magic (2), CRC32C of the body (4), length (4), body.
 */
public final class BodyStore {
    private static final Logger log = LoggerFactory.getLogger(BodyStore.class);
    /** Bodies at least this large, routed to two or more durable queues, are stored here. */
    public static final int SHARED_FROM = 4096;
    static final int MAGIC = 0x5742;
    static final int HEADER = 10;
    static final long SEGMENT_SIZE = 64L << 20;

    /** Where one body is: segment number, record offset, body length. */
    public record BodyRef(long segment, long offset, int length) {
    }

    private static final class Segment {
        final long number;
        final Path path;
        final FileChannel channel;
        final AtomicInteger refs = new AtomicInteger();
        volatile boolean retired;

        Segment(long number, Path path, FileChannel channel) {
            this.number = number;
            this.path = path;
            this.channel = channel;
        }
    }

    private final Path dir;
    private final Persister persister;
    private final Map<Long, Segment> segments = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private Segment current;
    private long position;

    BodyStore(Path dir, Persister persister) {
        this.dir = dir;
        this.persister = persister;
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".bdy")).toList()) {
                    long number = Long.parseLong(p.getFileName().toString().replace(".bdy", ""));
                    Segment s = new Segment(number, p, FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE));
                    s.retired = true;
                    segments.put(number, s);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the body store in " + dir, e);
        }
    }

    /** Writes a body that {@code references} queues will refer to; the file is synced with the next group commit. */
    public BodyRef write(ByteBuf body, int references) {
        int length = body.readableBytes();
        int size = HEADER + length;
        Segment segment;
        long offset;
        lock.lock();
        try {
            if (current == null || position + size > SEGMENT_SIZE && position > 0) {
                roll();
            }
            segment = current;
            offset = position;
            position += size;
            segment.refs.addAndGet(references);
        } finally {
            lock.unlock();
        }
        ByteBuf record = PooledByteBufAllocator.DEFAULT.directBuffer(size);
        try {
            CRC32C crc = new CRC32C();
            crc.update(body.nioBuffer(body.readerIndex(), length));
            record.writeShort(MAGIC).writeInt((int) crc.getValue()).writeInt(length);
            record.writeBytes(body, body.readerIndex(), length);
            ByteBuffer nio = record.nioBuffer();
            long at = offset;
            while (nio.hasRemaining()) {
                at += segment.channel.write(nio, at);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the body store " + segment.path, e);
        } finally {
            record.release();
        }
        persister.written(segment.channel);
        return new BodyRef(segment.number, offset, length);
    }

    private void roll() {
        long number = segments.keySet().stream().mapToLong(Long::longValue).max().orElse(-1) + 1;
        Path path = dir.resolve(String.format("%020d.bdy", number));
        try {
            Segment s = new Segment(number, path, FileChannel.open(path, StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE));
            segments.put(number, s);
            if (current != null) {
                current.retired = true;
                deleteIfUnreferenced(current);
            }
            current = s;
            position = 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + path, e);
        }
    }

    /** Recovery: reads a body, checking its CRC; null when it is missing or damaged. */
    public ByteBuf read(BodyRef ref) {
        Segment s = segments.get(ref.segment());
        if (s == null) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate(HEADER + ref.length());
        try {
            long at = ref.offset();
            while (buf.hasRemaining()) {
                int n = s.channel.read(buf, at);
                if (n < 0) {
                    return null;
                }
                at += n;
            }
        } catch (IOException e) {
            log.warn("Cannot read a shared body from {}: {}", s.path, e.toString());
            return null;
        }
        buf.flip();
        if ((buf.getShort() & 0xffff) != MAGIC) {
            return null;
        }
        int crc = buf.getInt();
        if (buf.getInt() != ref.length()) {
            return null;
        }
        CRC32C check = new CRC32C();
        check.update(buf.duplicate());
        if ((int) check.getValue() != crc) {
            return null;
        }
        return Unpooled.wrappedBuffer(buf);
    }

    /** Recovery: one more queue refers to this body. */
    public void recovered(BodyRef ref) {
        Segment s = segments.get(ref.segment());
        if (s != null) {
            s.refs.incrementAndGet();
        }
    }

    /** A queue no longer refers to the body (acked, dropped, or the queue went). */
    public void release(BodyRef ref) {
        Segment s = segments.get(ref.segment());
        if (s != null && s.refs.decrementAndGet() == 0) {
            deleteIfUnreferenced(s);
        }
    }

    /** After recovery: segments nobody refers to go. */
    public void trimUnreferenced() {
        for (Segment s : segments.values()) {
            deleteIfUnreferenced(s);
        }
    }

    private void deleteIfUnreferenced(Segment s) {
        if (s.retired && s.refs.get() == 0 && segments.remove(s.number, s)) {
            try {
                s.channel.close();
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("Could not delete unreferenced body segment {}: {}", s.path, e.toString());
            }
        }
    }

    void close() {
        for (Segment s : segments.values()) {
            try {
                s.channel.force(false);
                s.channel.close();
            } catch (IOException e) {
                log.warn("Error closing {}: {}", s.path, e.toString());
            }
        }
    }
}
