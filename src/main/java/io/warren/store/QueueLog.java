package io.warren.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.warren.broker.Message;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldTableCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable queue's message log: append-only segment files holding publish records (the whole
 * message) and ack records (its id). Owned by the queue's thread; fsyncs happen on the
 * {@link Persister}. A segment is deleted once every message published into it is acked and every
 * older segment is gone (so an ack record is never lost while the message it settles is kept).
 *
 * <p>Record layout: magic (2), type (1), payload length (4), CRC32C of type, id and payload (4),
 * message id (8), payload. A publish payload is exchange and routing key (short strings), the raw
 * content properties (length-prefixed), then the body.
 */
public final class QueueLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueLog.class);
    static final int MAGIC = 0x5752;
    static final int HEADER = 19;
    static final byte PUBLISH = 1;
    static final byte ACK = 2;
    /** A publish whose body is in the shared {@link BodyStore}: the record holds a reference. */
    static final byte PUBLISH_REF = 3;
    static final long SEGMENT_SIZE = 16L << 20;

    private final Path dir;
    private final String description;
    private final Persister persister;
    private final BodyStore bodies;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();
    private Segment current;
    private boolean unsynced;

    /** One segment file and the number of its published messages not yet acked. */
    private static final class Segment {
        final long number;
        final Path path;
        FileChannel channel;
        long size;
        int live;

        Segment(long number, Path path) {
            this.number = number;
            this.path = path;
        }
    }

    /** A message found in the log at recovery. */
    public record Recovered(long id, Message message, long segment) {
    }

    private QueueLog(Path dir, String description, Persister persister, BodyStore bodies) {
        this.bodies = bodies;
        this.dir = dir;
        this.description = description;
        this.persister = persister;
    }

    /** Opens (creating if needed) the log in {@code dir}; call {@link #recover} next. */
    public static QueueLog open(Path dir, String description, Persister persister, BodyStore bodies) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        return new QueueLog(dir, description, persister, bodies);
    }

    /**
     * Reads every segment, checking CRCs: returns the messages published and not acked, in publish
     * order. A torn tail of the last segment is cut off with a warning; a damaged record elsewhere
     * is skipped and reported.
     */
    public List<Recovered> recover() {
        Map<Long, Recovered> live = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(".seg"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        Map<Long, Segment> byNumber = new LinkedHashMap<>();
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            long number = Long.parseLong(file.getFileName().toString().replace(".seg", ""));
            Segment segment = new Segment(number, file);
            byNumber.put(number, segment);
            segments.add(segment);
            long validEnd = scan(segment, live, i == files.size() - 1);
            segment.size = validEnd;
        }
        for (Recovered r : live.values()) {
            byNumber.get(r.segment()).live++;
            // Only what is still live holds a shared body: counting during the scan and releasing on
            // acks let a body segment reach zero (and be deleted) before other queues were read.
            if (r.message().storedBody() != null) {
                bodies.recovered(r.message().storedBody());
            }
        }
        if (!segments.isEmpty()) {
            Segment last = segments.peekLast();
            openForAppend(last);
            current = last;
        }
        trimHead();
        return new ArrayList<>(live.values());
    }

    private long scan(Segment segment, Map<Long, Recovered> live, boolean last) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(segment.path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + segment.path, e);
        }
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            int pos = 0;
            int validEnd = 0;
            while (pos < bytes.length) {
                int problem = checkRecord(buf, pos, bytes.length);
                if (problem == 0) {
                    int length = buf.getInt(pos + 3);
                    readRecord(buf, pos, length, segment.number, live, segment.path);
                    pos += HEADER + length;
                    validEnd = pos;
                    continue;
                }
                int next = resync(buf, pos + 1, bytes.length);
                if (next < 0) {
                    if (last) {
                        log.warn("{}: cut off a torn tail of {} bytes at offset {} of {} (the end of a write "
                                + "interrupted by a crash; nothing confirmed is lost)", description,
                                bytes.length - pos, pos, segment.path.getFileName());
                    } else {
                        log.warn("{}: skipped {} damaged bytes at the end of {}", description,
                                bytes.length - pos, segment.path.getFileName());
                    }
                    break;
                }
                log.warn("{}: skipped a damaged record ({} bytes at offset {} of {}); the messages around it were kept",
                        description, next - pos, pos, segment.path.getFileName());
                pos = next;
            }
            if (last && validEnd < bytes.length) {
                truncate(segment.path, validEnd);
            }
            return last ? validEnd : bytes.length;
        } finally {
            buf.release();
        }
    }

    /** 0 when a valid record starts at pos; otherwise why not (non-zero). */
    private static int checkRecord(ByteBuf buf, int pos, int end) {
        if (end - pos < HEADER) {
            return 1;
        }
        if (buf.getUnsignedShort(pos) != MAGIC) {
            return 2;
        }
        byte type = buf.getByte(pos + 2);
        if (type != PUBLISH && type != ACK && type != PUBLISH_REF) {
            return 3;
        }
        long length = buf.getUnsignedInt(pos + 3);
        if (length > end - pos - HEADER) {
            return 4;
        }
        int crc = buf.getInt(pos + 7);
        return crc(buf, pos, (int) length) == crc ? 0 : 5;
    }

    private static int resync(ByteBuf buf, int from, int end) {
        for (int p = from; p + HEADER <= end; p++) {
            if (buf.getUnsignedShort(p) == MAGIC && checkRecord(buf, p, end) == 0) {
                return p;
            }
        }
        return -1;
    }

    private static int crc(ByteBuf buf, int pos, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.getByte(pos + 2));
        crc.update(buf.nioBuffer(pos + 11, 8 + length));
        return (int) crc.getValue();
    }

    private void readRecord(ByteBuf buf, int pos, int length, long segment, Map<Long, Recovered> live, Path file) {
        byte type = buf.getByte(pos + 2);
        long id = buf.getLong(pos + 11);
        if (type == ACK) {
            Recovered r = live.remove(id);
            if (r != null) {
                r.message().release();
            }
            return;
        }
        ByteBuf in = buf.slice(pos + HEADER, length);
        String exchange = FieldTableCodec.readShortString(in);
        String routingKey = FieldTableCodec.readShortString(in);
        int propsLength = in.readInt();
        ByteBuf props = in.readRetainedSlice(propsLength);
        ByteBuf body;
        BodyStore.BodyRef ref = null;
        if (type == PUBLISH_REF) {
            ref = new BodyStore.BodyRef(in.readLong(), in.readLong(), in.readInt());
            body = bodies.read(ref);
            if (body == null) {
                props.release();
                log.warn("{}: message {} in {} refers to a shared body that is missing or damaged; skipped",
                        description, id, file.getFileName());
                return;
            }
        } else {
            body = in.readRetainedSlice(in.readableBytes());
        }
        ContentHeader header = new ContentHeader(body.readableBytes(), props);
        Message message = new Message(exchange, routingKey, header, body);
        message.storedBody(ref);
        Recovered previous = live.put(id, new Recovered(id, message, segment));
        if (previous != null) {
            previous.message().release();
        }
    }

    private static void truncate(Path path, long size) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + path, e);
        }
    }

    /** Appends a publish record; returns the segment it went to, to pass to {@link #appendAck}. */
    public long appendPublish(long id, Message message) {
        ByteBuf props = message.header().rawProperties();
        ByteBuf body = message.body();
        BodyStore.BodyRef ref = message.storedBody();
        byte[] exchange = message.exchange().getBytes(StandardCharsets.UTF_8);
        byte[] key = message.routingKey().getBytes(StandardCharsets.UTF_8);
        int bodyPart = ref != null ? 20 : body.readableBytes();
        int payload = 1 + exchange.length + 1 + key.length + 4 + props.readableBytes() + bodyPart;
        ByteBuf record = PooledByteBufAllocator.DEFAULT.directBuffer(HEADER + payload);
        try {
            record.writeShort(MAGIC).writeByte(ref != null ? PUBLISH_REF : PUBLISH).writeInt(payload).writeInt(0).writeLong(id);
            record.writeByte(exchange.length).writeBytes(exchange).writeByte(key.length).writeBytes(key);
            record.writeInt(props.readableBytes()).writeBytes(props, props.readerIndex(), props.readableBytes());
            if (ref != null) {
                record.writeLong(ref.segment()).writeLong(ref.offset()).writeInt(ref.length());
            } else {
                record.writeBytes(body, body.readerIndex(), body.readableBytes());
            }
            record.setInt(7, crc(record, 0, payload));
            Segment segment = write(record);
            segment.live++;
            return segment.number;
        } finally {
            record.release();
        }
    }

    /** Appends an ack record (not synced on its own: a lost ack only means a redelivery). */
    public void appendAck(long id, long segmentNumber) {
        ByteBuf record = PooledByteBufAllocator.DEFAULT.directBuffer(HEADER);
        try {
            record.writeShort(MAGIC).writeByte(ACK).writeInt(0).writeInt(0).writeLong(id);
            record.setInt(7, crc(record, 0, 0));
            write(record);
        } finally {
            record.release();
        }
        for (Segment s : segments) {
            if (s.number == segmentNumber) {
                s.live--;
                break;
            }
        }
        trimHead();
    }

    private Segment write(ByteBuf record) {
        if (current == null || current.size >= SEGMENT_SIZE) {
            roll();
        }
        try {
            ByteBuffer nio = record.nioBuffer();
            while (nio.hasRemaining()) {
                current.size += current.channel.write(nio, current.size);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(description + ": cannot write to " + current.path, e);
        }
        unsynced = true;
        return current;
    }

    private void roll() {
        long number = current == null ? 0 : current.number + 1;
        if (current != null) {
            persister.syncAndClose(current.channel);
            current.channel = null;
        }
        Segment segment = new Segment(number, dir.resolve(String.format("%020d.seg", number)));
        openForAppend(segment);
        segments.add(segment);
        current = segment;
    }

    private void openForAppend(Segment segment) {
        try {
            segment.channel = FileChannel.open(segment.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(description + ": cannot open " + segment.path, e);
        }
    }

    /** Deletes fully acked segments from the oldest on (never the one being written). */
    private void trimHead() {
        while (segments.size() > 1 && segments.peekFirst().live == 0) {
            Segment s = segments.pollFirst();
            try {
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("{}: could not delete acked segment {}: {}", description, s.path, e.toString());
            }
        }
    }

    /**
     * Runs {@code done} once everything appended so far is on disk: at once when nothing is pending
     * (on this thread), else after the persister's next fsync (on its thread).
     */
    public void whenSynced(Persister.SyncCallback done) {
        if (!unsynced) {
            done.synced(true);
            return;
        }
        unsynced = false;
        persister.written(current.channel);
        persister.afterSync(done);
    }

    /** Everything appended since the last barrier must reach disk within the flush interval. */
    public void flushLater() {
        if (unsynced && current != null && current.channel != null) {
            persister.written(current.channel);
        }
    }

    /** The queue no longer refers to a shared body. */
    public void releaseBody(BodyStore.BodyRef ref) {
        bodies.release(ref);
    }

    /** Removes the log and its files (the queue was deleted). */
    public void delete() {
        close();
        for (Segment s : segments) {
            try {
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("{}: could not delete {}: {}", description, s.path, e.toString());
            }
        }
        segments.clear();
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            log.warn("{}: could not delete {}: {}", description, dir, e.toString());
        }
    }

    @Override
    public void close() {
        if (current != null && current.channel != null) {
            try {
                current.channel.force(false);
                current.channel.close();
            } catch (IOException e) {
                log.warn("{}: error closing {}: {}", description, current.path, e.toString());
            }
            current.channel = null;
        }
    }
}
