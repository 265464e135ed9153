package io.warren.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.warren.util.LongLongMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One file of the {@link BodyStore} and the index of the bodies in it: per record its offset,
 * size, how many queue references it has, and (for a copy written by compaction) the key of the
 * body it is a copy of. The index is a set of parallel primitive arrays sorted by offset, since
 * records are appended in offset order; a record whose count reaches zero stays in the arrays
 * (as dead bytes) until the whole file goes.
 *
 * <p>Record layouts (see {@link BodyStore} for when each is written):
 * <pre>
 *   body:  magic 0x5742 (2) | CRC32C (4) | body length (4) | body
 *   moved: magic 0x574d (2) | CRC32C (4) | body length (4) | origin segment (8) | origin offset (8) | body
 * </pre>
 * The CRC covers everything after the length field (for a moved record, the origin too).
 *
 * <p>Index and flags are guarded by the {@link BodyStore}'s lock; the file is read and written
 * with positional I/O outside it.
 */
final class BodySegment {
    private static final Logger log = LoggerFactory.getLogger(BodySegment.class);
    static final int MAGIC = 0x5742;
    static final int MOVED_MAGIC = 0x574d;
    static final int HEADER = 10;
    static final int MOVED_HEADER = 26;
    /** Origin of a record that is not a moved copy. */
    static final long NO_ORIGIN = -1;

    final long number;
    final Path path;
    final FileChannel channel;
    /** Bytes in the file (for an open segment: reserved so far, some perhaps still being written). */
    long size;
    /** Bytes of the records that queues still refer to. */
    long liveBytes;
    /** Writes reserved in this file and not finished yet; a file is not compacted while any are. */
    int writing;
    /** Not written to any more (neither the current segment nor compaction's target). */
    boolean retired;
    /** Waiting for, or in, the compactor's hands. */
    boolean queued;
    /** Compaction failed once (a damaged body, an I/O error); then only deleted, once nothing in it is referenced. */
    boolean uncompactable;

    private int entries;
    private int[] offsets = new int[16];
    private int[] sizes = new int[16];
    private int[] counts = new int[16];
    private long[] origins = new long[16];

    BodySegment(long number, Path path, FileChannel channel, long size) {
        this.number = number;
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    // ---------------------------------------------------------------- index

    /** Adds a record (in offset order, except during recovery: see {@link #mergeRecovered}). */
    void add(int offset, int recordSize, int count, long origin) {
        if (entries == offsets.length) {
            int n = entries * 2;
            offsets = Arrays.copyOf(offsets, n);
            sizes = Arrays.copyOf(sizes, n);
            counts = Arrays.copyOf(counts, n);
            origins = Arrays.copyOf(origins, n);
        }
        offsets[entries] = offset;
        sizes[entries] = recordSize;
        counts[entries] = count;
        origins[entries] = origin;
        entries++;
        if (count > 0) {
            liveBytes += recordSize;
        }
    }

    /**
     * Recovery added one entry per reference, in the order the queues were read: sorts them by
     * offset and folds the entries for one record into one with their count.
     */
    void mergeRecovered() {
        long[] order = new long[entries];
        for (int i = 0; i < entries; i++) {
            order[i] = (long) offsets[i] << 32 | i;
        }
        Arrays.sort(order);
        int[] o = new int[Math.max(16, entries)];
        int[] s = new int[o.length];
        int[] c = new int[o.length];
        long[] g = new long[o.length];
        int n = 0;
        for (long packed : order) {
            int i = (int) packed;
            if (n > 0 && o[n - 1] == offsets[i]) {
                c[n - 1] += counts[i];
                continue;
            }
            o[n] = offsets[i];
            s[n] = sizes[i];
            c[n] = counts[i];
            g[n] = origins[i];
            n++;
        }
        offsets = o;
        sizes = s;
        counts = c;
        origins = g;
        entries = n;
        liveBytes = 0;
        for (int i = 0; i < n; i++) {
            if (c[i] > 0) {
                liveBytes += s[i];
            }
        }
    }

    int entries() {
        return entries;
    }

    /** The entry of the record at {@code offset}, or -1. */
    int find(int offset) {
        return Math.max(-1, Arrays.binarySearch(offsets, 0, entries, offset));
    }

    int offset(int i) {
        return offsets[i];
    }

    int recordSize(int i) {
        return sizes[i];
    }

    int count(int i) {
        return counts[i];
    }

    long origin(int i) {
        return origins[i];
    }

    /** One reference fewer; true when it was the last. */
    boolean release(int i) {
        if (counts[i] <= 0) {
            return false;
        }
        if (--counts[i] == 0) {
            liveBytes -= sizes[i];
            return true;
        }
        return false;
    }

    /** Every reference gone at once (the write failed, or compaction moved the bodies elsewhere). */
    void releaseAll(int i) {
        if (counts[i] > 0) {
            counts[i] = 0;
            liveBytes -= sizes[i];
        }
    }

    // ---------------------------------------------------------------- records

    /** A record for {@code body}: a plain one, or a moved copy of the body first stored at {@code origin}. */
    static ByteBuf record(ByteBuf body, long origin) {
        int length = body.readableBytes();
        boolean moved = origin != NO_ORIGIN;
        ByteBuf record = PooledByteBufAllocator.DEFAULT.directBuffer((moved ? MOVED_HEADER : HEADER) + length);
        record.writeShort(moved ? MOVED_MAGIC : MAGIC).writeInt(0).writeInt(length);
        if (moved) {
            record.writeLong(BodyStore.segmentOf(origin)).writeLong(BodyStore.offsetOf(origin));
        }
        record.writeBytes(body, body.readerIndex(), length);
        CRC32C crc = new CRC32C();
        crc.update(record.nioBuffer(HEADER, record.readableBytes() - HEADER));
        record.setInt(2, (int) crc.getValue());
        return record;
    }

    /** Writes a record at {@code offset} (positional: writers of other offsets may run at the same time). */
    void write(ByteBuf record, long offset) throws IOException {
        ByteBuffer nio = record.nioBuffer();
        long at = offset;
        while (nio.hasRemaining()) {
            at += channel.write(nio, at);
        }
    }

    /**
     * The body of the record at {@code offset}, checked against its CRC; null when it is missing or
     * damaged. Throws {@link java.nio.channels.ClosedChannelException} if the file was closed
     * (compacted away) meanwhile.
     */
    ByteBuf readBody(int offset, boolean moved, int length) throws IOException {
        int header = moved ? MOVED_HEADER : HEADER;
        ByteBuffer buf = ByteBuffer.allocate(header + length);
        if (!readFully(buf, offset)) {
            return null;
        }
        if ((buf.getShort(0) & 0xffff) != (moved ? MOVED_MAGIC : MAGIC) || buf.getInt(6) != length
                || crc(buf) != buf.getInt(2)) {
            return null;
        }
        return Unpooled.wrappedBuffer(buf.position(header));
    }

    private boolean readFully(ByteBuffer buf, long offset) throws IOException {
        long at = offset;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        buf.flip();
        return true;
    }

    private static int crc(ByteBuffer record) {
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate().position(HEADER));
        return (int) crc.getValue();
    }

    /**
     * Recovery: when this file holds moved copies (compaction wrote it), maps the key of each body
     * to its copy here, checking every copy's CRC (a copy replaces the original, so it must be
     * whole). A later copy of the same body replaces an earlier one: files are read in number order.
     * Stops at a header that is not whole or runs past the end of the file (a crash during
     * compaction, before its fsync: the originals are still there).
     */
    void scanMoved(LongLongMap forwarding) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(MOVED_HEADER);
        long at = 0;
        int damaged = 0;
        while (at + MOVED_HEADER <= size) {
            if (!readFully(header.clear(), at) || (header.getShort(0) & 0xffff) != MOVED_MAGIC) {
                break;
            }
            int length = header.getInt(6);
            if (length < 0 || at + MOVED_HEADER + length > size) {
                break;
            }
            ByteBuffer record = ByteBuffer.allocate(MOVED_HEADER + length);
            if (!readFully(record, at)) {
                break;
            }
            if (crc(record) == record.getInt(2)) {
                forwarding.put(BodyStore.key(record.getLong(10), record.getLong(18)), BodyStore.key(number, at));
            } else {
                damaged++;
            }
            at += MOVED_HEADER + length;
        }
        if (damaged > 0) {
            log.warn("Shared body store: {} damaged moved copies in {}; the originals are used where they still exist",
                    damaged, path.getFileName());
        }
    }

    /** Syncs and closes the file (store shutdown). */
    void close() {
        try {
            channel.force(false);
            channel.close();
        } catch (IOException e) {
            log.warn("Error closing {}: {}", path, e.toString());
        }
    }

    /** Closes and deletes the file; readers still holding it get a ClosedChannelException. */
    void delete() {
        try {
            channel.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("Could not delete shared body segment {}: {}", path, e.toString());
        }
    }
}
