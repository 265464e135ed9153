package io.warren.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.collection.LongObjectHashMap;
import io.warren.broker.Message;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldTableCodec;
import io.warren.util.LongRing;
import io.warren.util.LongSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queue's message log: append-only segment files holding publish records (the whole message),
 * ack records (its id), and transient records (messages moved out of memory, which a restart
 * ignores). Owned by the queue's thread; fsyncs happen on the {@link Persister}. A message is
 * found again by its <em>position</em>: segment number and offset packed in a long. A segment is
 * deleted once every message in it is settled and every older segment is gone (so an ack record
 * is never lost while the message it settles is kept).
 *
 * <p>Record layout: magic (2), type (1), payload length (4), CRC32C of type, id and payload (4),
 * message id (8), payload. A publish payload is exchange and routing key (short strings), the raw
 * content properties (length-prefixed), then the body, or a reference into the {@link BodyStore}.
 *
 * <p>A durable queue's segment is filled with zeros a little ahead of its records (see {@link
 * #preallocate}), so that the fsync after an append writes data only: appending to the end of a
 * file also changes its size, which costs the fsync a journal commit (0.15-0.18 ms instead of
 * 0.09-0.11 ms here). Recovery takes a run of zeros after the last record for the end of the log.
 */
public final class QueueLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueLog.class);
    static final int MAGIC = 0x5752;
    static final int HEADER = 19;
    static final byte PUBLISH = 1;
    static final byte ACK = 2;
    /** A publish whose body is in the shared {@link BodyStore}: the record holds a reference. */
    static final byte PUBLISH_REF = 3;
    /** A transient message moved out of memory: read back while running, ignored by recovery. */
    static final byte TRANSIENT = 4;
    /**
     * Flag on a publish record written again by compaction: recovery keeps it instead of the
     * original (if that still exists) and puts it back in id order.
     */
    static final byte MOVED = 0x10;
    static final long SEGMENT_SIZE = 16L << 20;
    private static final int READ_CHUNK = 1 << 20;
    /** Zeros written ahead of the records: at least this much, and at most {@link #PREALLOCATE_MAX}. */
    private static final int PREALLOCATE_MIN = 64 * 1024;
    private static final int PREALLOCATE_MAX = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PREALLOCATE_MAX).asReadOnlyBuffer();
    private static final long[] NONE = new long[0];

    private final Path dir;
    private final String description;
    private final Persister persister;
    private final BodyStore bodies;
    /** Whether segments are zero-filled ahead of their records (durable queues, whose appends are fsynced). */
    private final boolean preallocate;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();
    private Segment current;
    private boolean unsynced;
    /** Records appended but not yet written (see {@link #write}). */
    private ByteBuf pending;
    /** Read-ahead for paging messages back in: a chunk of one segment. */
    private ByteBuf chunk;
    private long chunkSegment = -1;
    private long chunkStart;

    /** One segment file and the number of its messages not yet settled. */
    private static final class Segment {
        final long number;
        final Path path;
        FileChannel channel;
        FileChannel reader;
        long size;
        /** Where the file ends: records up to {@link #size}, zeros after them (preallocated). */
        long allocated;
        int live;
        /** Message records (publish and transient) in this segment, for telling when it is sparse. */
        int records;
        /** Segments holding messages that this segment's ack records settle (small: acks follow publishes). */
        long[] ackTargets = new long[0];

        void addAckTarget(long target) {
            if (target == number) {
                return;
            }
            for (long t : ackTargets) {
                if (t == target) {
                    return;
                }
            }
            ackTargets = java.util.Arrays.copyOf(ackTargets, ackTargets.length + 1);
            ackTargets[ackTargets.length - 1] = target;
        }

        Segment(long number, Path path) {
            this.number = number;
            this.path = path;
        }
    }

    /** What recovery found: positions of the messages still to deliver, in order, and the next free id. */
    public record Recovery(LongRing positions, long nextId) {
    }

    /** A message read back from the log; {@code persistent} is false for a transient record. */
    public record Record(long id, Message message, boolean persistent) {
    }

    private QueueLog(Path dir, String description, Persister persister, BodyStore bodies, boolean preallocate) {
        this.dir = dir;
        this.description = description;
        this.persister = persister;
        this.bodies = bodies;
        this.preallocate = preallocate;
    }

    /**
     * Opens (creating if needed) the log in {@code dir}; a durable queue calls {@link #recover} next.
     * {@code preallocate} for a log whose appends are fsynced (see the class comment).
     */
    public static QueueLog open(Path dir, String description, Persister persister, BodyStore bodies,
                                boolean preallocate) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        return new QueueLog(dir, description, persister, bodies, preallocate);
    }

    public static long position(long segment, long offset) {
        return segment << 32 | offset;
    }

    public static long segmentOf(long position) {
        return position >>> 32;
    }

    private static int offsetOf(long position) {
        return (int) position;
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Reads every segment, checking CRCs, and returns where the unsettled persistent messages are,
     * in publish order (nothing is loaded into memory). A torn tail of the last segment is cut off
     * with a warning; a damaged record elsewhere is skipped and reported.
     */
    public Recovery recover() {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(".seg"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        Scan scan = new Scan();
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            Segment segment = new Segment(Long.parseLong(file.getFileName().toString().replace(".seg", "")), file);
            segments.add(segment);
            segment.size = scan(segment, scan, i == files.size() - 1);
            segment.allocated = segment.size;
        }
        LongRing live = new LongRing();
        // Moved records (compaction) replace their originals and go back to their place by id.
        java.util.Iterator<java.util.Map.Entry<Long, Long>> moved = scan.moved.entrySet().iterator();
        java.util.Map.Entry<Long, Long> nextMoved = nextUnacked(moved, scan);
        while (!scan.ids.isEmpty()) {
            long id = scan.ids.poll();
            long position = scan.positions.poll();
            if (scan.acked.contains(id) || scan.moved.containsKey(id)) {
                continue;
            }
            while (nextMoved != null && nextMoved.getKey() < id) {
                keep(nextMoved.getKey(), nextMoved.getValue(), live, scan);
                nextMoved = nextUnacked(moved, scan);
            }
            keep(id, position, live, scan);
        }
        while (nextMoved != null) {
            keep(nextMoved.getKey(), nextMoved.getValue(), live, scan);
            nextMoved = nextUnacked(moved, scan);
        }
        if (!segments.isEmpty()) {
            current = segments.peekLast();
            openForAppend(current);
        }
        trimHead();
        return new Recovery(live, scan.maxId + 1);
    }

    private static java.util.Map.Entry<Long, Long> nextUnacked(java.util.Iterator<java.util.Map.Entry<Long, Long>> it, Scan scan) {
        while (it.hasNext()) {
            java.util.Map.Entry<Long, Long> e = it.next();
            if (!scan.acked.contains(e.getKey())) {
                return e;
            }
        }
        return null;
    }

    private void keep(long id, long position, LongRing live, Scan scan) {
        live.add(position);
        Segment s = segment(segmentOf(position));
        if (s != null) {
            s.live++;
        }
        // Only what is still live holds a shared body (counting acked ones could let a body
        // segment reach zero, and be deleted, before other queues were read).
        BodyStore.BodyRef ref = scan.refs.get(id);
        if (ref != null) {
            bodies.recovered(ref);
        }
    }

    /** Publishes in log order, acked ids, and the shared-body references seen while scanning. */
    private static final class Scan {
        final LongRing ids = new LongRing();
        final LongRing positions = new LongRing();
        final LongSet acked = new LongSet();
        final LongObjectHashMap<BodyStore.BodyRef> refs = new LongObjectHashMap<>();
        /** Records moved by compaction, by id (a later move of the same message wins). */
        final java.util.TreeMap<Long, Long> moved = new java.util.TreeMap<>();
        long maxId = -1;
    }

    private long scan(Segment segment, Scan scan, boolean last) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(segment.path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + segment.path, e);
        }
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        int pos = 0;
        int validEnd = 0;
        while (pos < bytes.length) {
            if (checkRecord(buf, pos, bytes.length) == 0) {
                int length = buf.getInt(pos + 3);
                note(buf, pos, segment, scan);
                pos += HEADER + length;
                validEnd = pos;
                continue;
            }
            if (zerosFrom(buf, pos, bytes.length)) {
                break; // preallocated space after the last record: the clean end of the log
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
    }

    /** Whether the bytes from {@code pos} to {@code end} are all zero. */
    private static boolean zerosFrom(ByteBuf buf, int pos, int end) {
        int p = pos;
        for (; p + 8 <= end; p += 8) {
            if (buf.getLong(p) != 0) {
                return false;
            }
        }
        for (; p < end; p++) {
            if (buf.getByte(p) != 0) {
                return false;
            }
        }
        return true;
    }

    private static void note(ByteBuf buf, int pos, Segment segment, Scan scan) {
        byte type = buf.getByte(pos + 2);
        long id = buf.getLong(pos + 11);
        scan.maxId = Math.max(scan.maxId, id);
        if (type != ACK) {
            segment.records++;
        }
        if ((type & MOVED) != 0) {
            scan.moved.put(id, position(segment.number, pos));
            if ((type & ~MOVED) == PUBLISH_REF) {
                ByteBuf in = buf.slice(pos + HEADER, buf.getInt(pos + 3));
                skipToBody(in);
                scan.refs.put(id, new BodyStore.BodyRef(in.readLong(), in.readLong(), in.readInt()));
            }
            return;
        }
        switch (type) {
            case ACK -> {
                scan.acked.add(id);
                if (buf.getInt(pos + 3) >= 8) {
                    segment.addAckTarget(buf.getLong(pos + HEADER));
                }
            }
            case PUBLISH, PUBLISH_REF -> {
                scan.ids.add(id);
                scan.positions.add(position(segment.number, pos));
                if (type == PUBLISH_REF) {
                    ByteBuf in = buf.slice(pos + HEADER, buf.getInt(pos + 3));
                    skipToBody(in);
                    scan.refs.put(id, new BodyStore.BodyRef(in.readLong(), in.readLong(), in.readInt()));
                }
            }
            default -> { } // transient: gone with the restart
        }
    }

    private static void skipToBody(ByteBuf in) {
        in.skipBytes(in.readUnsignedByte());
        in.skipBytes(in.readUnsignedByte());
        in.skipBytes(in.readInt());
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
        int base = type & ~MOVED;
        boolean known = base == PUBLISH || base == PUBLISH_REF || (type == ACK || type == TRANSIENT);
        if (!known) {
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
        crc.update(buf.internalNioBuffer(pos + 11, 8 + length));
        return (int) crc.getValue();
    }

    private static void truncate(Path path, long size) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + path, e);
        }
    }

    // ---------------------------------------------------------------- reading back

    /**
     * Reads the message at a position (paging it back into memory); null when the record is
     * missing or damaged, which is reported.
     */
    public Record read(long position) {
        flushWrites();
        long segmentNumber = segmentOf(position);
        int offset = offsetOf(position);
        Segment segment = segment(segmentNumber);
        if (segment == null || !ensureChunk(segment, offset, HEADER)) {
            log.warn("{}: no record at offset {} of segment {}; message skipped", description, offset, segmentNumber);
            return null;
        }
        int at = (int) (offset - chunkStart);
        int length = chunk.getInt(at + 3);
        if (!ensureChunk(segment, offset, HEADER + length)) {
            log.warn("{}: record at offset {} of segment {} is cut short; message skipped", description, offset, segmentNumber);
            return null;
        }
        at = (int) (offset - chunkStart);
        if (checkRecord(chunk, at, chunk.writerIndex()) != 0) {
            log.warn("{}: damaged record at offset {} of segment {}; message skipped", description, offset, segmentNumber);
            return null;
        }
        byte type = (byte) (chunk.getByte(at + 2) & ~MOVED);
        long id = chunk.getLong(at + 11);
        ByteBuf in = chunk.slice(at + HEADER, length);
        String exchange = FieldTableCodec.readShortString(in);
        String routingKey = FieldTableCodec.readShortString(in);
        int propsLength = in.readInt();
        ByteBuf props = Unpooled.copiedBuffer(in.readSlice(propsLength));
        ByteBuf body;
        BodyStore.BodyRef ref = null;
        if (type == PUBLISH_REF) {
            ref = new BodyStore.BodyRef(in.readLong(), in.readLong(), in.readInt());
            body = bodies.read(ref);
            if (body == null) {
                props.release();
                log.warn("{}: message {} refers to a shared body that is missing or damaged; skipped", description, id);
                return null;
            }
        } else {
            body = Unpooled.copiedBuffer(in);
        }
        Message message = new Message(exchange, routingKey, new ContentHeader(body.readableBytes(), props), body);
        message.storedBody(ref);
        return new Record(id, message, type != TRANSIENT);
    }

    /** Makes the read-ahead chunk cover {@code length} bytes at {@code offset}; false past the end of the file. */
    private boolean ensureChunk(Segment segment, int offset, int length) {
        if (chunk != null && chunkSegment == segment.number && offset >= chunkStart
                && offset + length <= chunkStart + chunk.writerIndex()) {
            return true;
        }
        try {
            if (segment.reader == null) {
                segment.reader = FileChannel.open(segment.path, StandardOpenOption.READ);
            }
            int size = Math.max(READ_CHUNK, length);
            if (chunk == null || chunk.capacity() < size) {
                if (chunk != null) {
                    chunk.release();
                }
                chunk = Unpooled.buffer(size, size);
            }
            chunk.clear();
            ByteBuffer nio = chunk.nioBuffer(0, size);
            long at = offset;
            int n;
            while (nio.hasRemaining() && (n = segment.reader.read(nio, at)) > 0) {
                at += n;
            }
            chunk.writerIndex(nio.position());
            chunkSegment = segment.number;
            chunkStart = offset;
            return chunk.writerIndex() >= length;
        } catch (IOException e) {
            throw new UncheckedIOException(description + ": cannot read " + segment.path, e);
        }
    }

    private Segment segment(long number) {
        for (Segment s : segments) {
            if (s.number == number) {
                return s;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- appending

    /** Appends a persistent message; returns its position, to settle it by later. */
    public long appendPublish(long id, Message message) {
        return appendMessage(id, message, message.storedBody() != null ? PUBLISH_REF : PUBLISH);
    }

    /** Moves a transient message out of memory; a restart ignores it. */
    public long appendTransient(long id, Message message) {
        return appendMessage(id, message, TRANSIENT);
    }

    private long appendMessage(long id, Message message, byte type) {
        ByteBuf props = message.header().rawProperties();
        ByteBuf body = message.body();
        BodyStore.BodyRef ref = (type & ~MOVED) == PUBLISH_REF ? message.storedBody() : null;
        ByteBuf out = beginRecord(type, id);
        int start = out.writerIndex() - HEADER;
        writeShortString(out, message.exchange());
        writeShortString(out, message.routingKey());
        out.writeInt(props.readableBytes()).writeBytes(props, props.readerIndex(), props.readableBytes());
        if (ref != null) {
            out.writeLong(ref.segment()).writeLong(ref.offset()).writeInt(ref.length());
        } else {
            out.writeBytes(body, body.readerIndex(), body.readableBytes());
        }
        int size = out.writerIndex() - start;
        Segment segment = endRecord(start);
        segment.live++;
        segment.records++;
        return position(segment.number, segment.size - size);
    }

    private static void writeShortString(ByteBuf out, String s) {
        int at = out.writerIndex();
        out.writeByte(0);
        out.setByte(at, ByteBufUtil.writeUtf8(out, s));
    }

    /**
     * Segments worth compacting: not the one being written, and holding few live messages among
     * many settled ones (a long-unacked message would otherwise keep a whole segment on disk).
     */
    public long[] sparseSegments() {
        long[] out = NONE;
        for (Segment s : segments) {
            if (s != current && s.live > 0 && s.records >= 64 && s.live * 8L <= s.records) {
                out = java.util.Arrays.copyOf(out, out.length + 1);
                out[out.length - 1] = s.number;
            }
        }
        return out;
    }

    /**
     * Compaction: writes the message at {@code position} again at the end of the log and settles
     * the old record; returns the new position, or the old one when it could not be read.
     */
    public long relocate(long position) {
        Record r = read(position);
        if (r == null) {
            return position;
        }
        try {
            byte type = r.persistent()
                    ? (byte) ((r.message().storedBody() != null ? PUBLISH_REF : PUBLISH) | MOVED)
                    : TRANSIENT;
            long moved = appendMessage(r.id(), r.message(), type);
            settled(position);
            return moved;
        } finally {
            r.message().release();
        }
    }

    /** Appends an ack record for a persistent message (not synced on its own: a lost ack only means a redelivery). */
    public void appendAck(long id, long position) {
        ByteBuf out = beginRecord(ACK, id);
        int start = out.writerIndex() - HEADER;
        // The payload names the segment of the message settled, so that this segment may be
        // deleted as soon as that one is gone (not only once every older segment is).
        out.writeLong(segmentOf(position));
        endRecord(start).addAckTarget(segmentOf(position));
        settled(position);
    }

    /** A transient message read back or dropped: its record is no longer needed. */
    public void releaseTransient(long position) {
        settled(position);
    }

    private void settled(long position) {
        Segment s = segment(segmentOf(position));
        if (s != null) {
            s.live--;
            trimHead();
        }
    }

    /**
     * Starts a record in the current segment's write buffer (rolling to a new segment when this one
     * is full) and returns the buffer, its header written but for length and CRC; the caller
     * writes the payload and calls {@link #endRecord}. {@link #flushWrites} writes the buffer with
     * one system call (the records of several queue tasks go out together).
     */
    private ByteBuf beginRecord(byte type, long id) {
        if (current == null || current.size >= SEGMENT_SIZE) {
            flushWrites();
            roll();
        }
        if (pending == null) {
            pending = PooledByteBufAllocator.DEFAULT.directBuffer(64 * 1024);
        }
        return pending.writeShort(MAGIC).writeByte(type).writeInt(0).writeInt(0).writeLong(id);
    }

    /** Completes the record begun at {@code start} in the write buffer; returns its segment. */
    private Segment endRecord(int start) {
        int size = pending.writerIndex() - start;
        pending.setInt(start + 3, size - HEADER);
        pending.setInt(start + 7, crc(pending, start, size - HEADER));
        Segment segment = current;
        segment.size += size;
        unsynced = true;
        if (pending.readableBytes() >= 1 << 20) {
            flushWrites();
        }
        return segment;
    }

    /** Writes what {@link #write} buffered; the persister syncs it within its flush interval. */
    public void flushWrites() {
        if (pending == null || !pending.isReadable()) {
            return;
        }
        try {
            long at = current.size - pending.readableBytes();
            if (preallocate) {
                preallocate(current);
            }
            ByteBuffer nio = pending.nioBuffer();
            while (nio.hasRemaining()) {
                at += current.channel.write(nio, at);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(description + ": cannot write to " + current.path, e);
        } finally {
            pending.clear();
        }
        persister.written(current.channel);
    }

    /**
     * Makes the file reach past the records about to be written, with zeros: as far ahead as the
     * segment is long already, between {@link #PREALLOCATE_MIN} and {@link #PREALLOCATE_MAX} (a
     * queue holding a few messages keeps a small file). One size change per extension, not per
     * append, so most fsyncs write data only.
     */
    private void preallocate(Segment segment) throws IOException {
        if (segment.allocated >= segment.size) {
            return;
        }
        long ahead = Math.max(PREALLOCATE_MIN, Math.min(PREALLOCATE_MAX, segment.size));
        long end = segment.size + ahead;
        long at = segment.allocated;
        while (at < end) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), end - at));
            while (zeros.hasRemaining()) {
                at += segment.channel.write(zeros, at);
            }
        }
        segment.allocated = at;
    }

    /** A retired segment gives back its preallocated zeros before its last fsync. */
    private void trimPreallocated(Segment segment) {
        if (segment.allocated > segment.size) {
            try {
                segment.channel.truncate(segment.size);
            } catch (IOException e) {
                log.warn("{}: could not cut the preallocated end off {}: {}", description, segment.path, e.toString());
            }
            segment.allocated = segment.size;
        }
    }

    private void roll() {
        long number = current == null ? 0 : current.number + 1;
        if (current != null) {
            trimPreallocated(current);
            persister.syncAndClose(current.channel);
            current.channel = null;
        }
        Segment segment = new Segment(number, dir.resolve(String.format("%020d.seg", number)));
        openForAppend(segment);
        segments.add(segment);
        current = segment;
        trimHead();
    }

    private void openForAppend(Segment segment) {
        try {
            segment.channel = FileChannel.open(segment.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(description + ": cannot open " + segment.path, e);
        }
    }

    /**
     * Deletes settled segments: those whose messages are all settled and whose ack records only
     * settle messages in segments already gone (never the one being written).
     */
    private void trimHead() {
        boolean deleted = true;
        while (deleted) {
            deleted = false;
            for (java.util.Iterator<Segment> it = segments.iterator(); it.hasNext(); ) {
                Segment s = it.next();
                if (s == current || s.live != 0 || refersToLiveSegment(s)) {
                    continue;
                }
                it.remove();
                deleteFile(s);
                deleted = true;
            }
        }
    }

    private boolean refersToLiveSegment(Segment s) {
        for (long target : s.ackTargets) {
            if (segment(target) != null) {
                return true;
            }
        }
        return false;
    }

    private void deleteFile(Segment s) {
        closeReader(s);
        if (chunkSegment == s.number) {
            chunkSegment = -1;
        }
        try {
            Files.deleteIfExists(s.path);
        } catch (IOException e) {
            log.warn("{}: could not delete settled segment {}: {}", description, s.path, e.toString());
        }
    }

    private static void closeReader(Segment s) {
        if (s.reader != null) {
            try {
                s.reader.close();
            } catch (IOException e) {
                // nothing left to do with it
            }
            s.reader = null;
        }
    }

    /**
     * Runs {@code done} once everything appended so far is on disk: at once when nothing is pending
     * (on this thread), else after the persister's next fsync (on its thread).
     */
    public void whenSynced(Persister.SyncCallback done) {
        flushWrites();
        if (!unsynced) {
            done.synced(true);
            return;
        }
        unsynced = false;
        persister.afterSync(done);
    }

    /** Whether records are buffered that {@link #flushWrites} has yet to write. */
    public boolean hasUnwritten() {
        return pending != null && pending.isReadable();
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
            flushWrites();
        }
        if (pending != null) {
            pending.release();
            pending = null;
        }
        for (Segment s : segments) {
            closeReader(s);
        }
        if (chunk != null) {
            chunk.release();
            chunk = null;
            chunkSegment = -1;
        }
        if (current != null && current.channel != null) {
            trimPreallocated(current);
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
