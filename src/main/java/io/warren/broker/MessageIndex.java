package io.warren.broker;

import io.warren.store.QueueLog;
import io.warren.util.LongRing;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;

/**
 * The ready messages of a classic queue, in the order it serves them: one lane per priority (one
 * lane without x-max-priority), highest first; in each lane the requeued messages at their old
 * places, then those in memory, then those only on disk (positions in the log, 8 bytes each).
 * Messages beyond the memory budget wait on disk, with their expiry kept here so that expiring
 * them needs no read until they go. Owned by the queue's thread.
 *
 * <p>Expiry: messages that expire in the order they arrived (a queue's x-message-ttl) are found at
 * the heads of the lanes; a message with an earlier expiry of its own ({@code expiration}) is also
 * kept in a heap by expiry, so that it goes on time even behind messages that live longer
 * (RabbitMQ drops such a message only once it reaches the head).
 */
final class MessageIndex {
    static final long REDELIVERED_BIT = 1L << 62;
    /** On a position found by recovery: its body bytes are not counted in {@link #bytes} yet (known once read). */
    private static final long RESTORED_BIT = 1L << 61;
    private static final long FLAGS = REDELIVERED_BIT | RESTORED_BIT;
    /** Expiry of a paged message that expires out of arrival order (kept negated in {@link Lane#pagedExpiry}). */
    private static final long NO_EXPIRY = 0;

    /** How a queue decides a message's expiry (when it comes back from disk after a restart). */
    interface Expiry {
        long of(io.warren.broker.Message message, long now);
    }

    private static final class Lane {
        final int number;
        final ArrayDeque<QueueEntry> memory = new ArrayDeque<>();
        final TreeMap<Long, QueueEntry> requeued = new TreeMap<>();
        /** Log positions (bit 62: redelivered) of the messages after those in memory. */
        final LongRing paged = new LongRing();
        /** Aligned with {@link #paged} once any paged message expires: its expiry, negated when out of order, 0 none. */
        LongRing pagedExpiry;

        Lane(int number) {
            this.number = number;
        }
    }

    private final Lane[] lanes;
    private final QueueLog store;
    private final Supplier<QueueLog> spillLogs;
    private QueueLog spill;
    private final long memoryBudget;
    private final Consumer<UncheckedIOException> writeFailed;
    private final String description;
    private final PriorityQueue<QueueEntry> expiryHeap = new PriorityQueue<>(Comparator.comparingLong(e -> e.expiresAt));
    /** Ready messages (expired and dropped ones no longer count) and their body bytes. */
    private long count;
    private long bytes;
    /** Set once any message with an expiry came in (until then expiry checks cost nothing). */
    private boolean expiring;
    /** What the ready messages held in memory cost. */
    private long memoryBytes;

    MessageIndex(int maxPriority, long memoryBudget, QueueLog store, Supplier<QueueLog> spillLogs,
                 Consumer<UncheckedIOException> writeFailed, String description) {
        this.lanes = new Lane[maxPriority + 1];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(i);
        }
        this.memoryBudget = memoryBudget;
        this.store = store;
        this.spillLogs = spillLogs;
        this.writeFailed = writeFailed;
        this.description = description;
    }

    long count() {
        return count;
    }

    long bytes() {
        return bytes;
    }

    boolean mayHaveExpiry() {
        return expiring;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** The lane for a message's priority property: above the queue's maximum counts as the maximum. */
    int laneOf(Message m) {
        if (lanes.length == 1 || !m.header().hasPriority()) {
            return 0;
        }
        Integer p = m.header().properties().priority;
        return p == null ? 0 : Math.min(p, lanes.length - 1);
    }

    static int cost(Message m) {
        return m.bodySize() + 256;
    }

    /**
     * Takes a new message in: into memory while within the budget and nothing of its lane waits on
     * disk, else onto disk only. {@code ownExpiry} is true when its expiry is its own (not the
     * queue's, which runs in arrival order). Returns the entry when kept in memory, else null (the
     * message was released).
     */
    QueueEntry add(long id, Message m, long expiresAt, boolean ownExpiry) {
        int laneIndex = laneOf(m);
        Lane lane = lanes[laneIndex];
        boolean persistent = store != null && m.header().persistent();
        int cost = cost(m);
        expiring |= expiresAt != QueueEntry.NEVER;
        count++;
        bytes += m.bodySize();
        if (lane.paged.isEmpty() && memoryBytes + cost <= memoryBudget) {
            QueueEntry e = new QueueEntry(id, m, laneIndex, expiresAt);
            if (persistent) {
                try {
                    e.position = store.appendPublish(id, m);
                } catch (UncheckedIOException failure) {
                    writeFailed.accept(failure);
                }
            }
            keep(lane, e, ownExpiry);
            return e;
        }
        try {
            long position = persistent ? store.appendPublish(id, m) : pagingLog().appendTransient(id, m);
            if (expiresAt != QueueEntry.NEVER || lane.pagedExpiry != null) {
                pagedExpiry(lane).add(expiresAt == QueueEntry.NEVER ? NO_EXPIRY : ownExpiry ? -expiresAt : expiresAt);
            }
            lane.paged.add(position);
            m.release();
            return null;
        } catch (UncheckedIOException failure) {
            QueueEntry e = new QueueEntry(id, m, laneIndex, expiresAt);
            writeFailed.accept(failure);
            keep(lane, e, ownExpiry);
            return e;
        }
    }

    private void keep(Lane lane, QueueEntry e, boolean ownExpiry) {
        e.ready = true;
        lane.memory.add(e);
        memoryBytes += cost(e.message);
        if (ownExpiry && e.expiresAt != QueueEntry.NEVER) {
            e.inHeap = true;
            expiryHeap.add(e);
        }
    }

    /** The expiry ring of a lane, made on first use with "none" for the messages already paged. */
    private static LongRing pagedExpiry(Lane lane) {
        if (lane.pagedExpiry == null) {
            lane.pagedExpiry = new LongRing();
            for (long i = 0; i < lane.paged.size(); i++) {
                lane.pagedExpiry.add(NO_EXPIRY);
            }
        }
        return lane.pagedExpiry;
    }

    /** A delivered message back at its old place (before everything published after it). */
    void requeue(QueueEntry e) {
        e.ready = true;
        e.redelivered = true;
        lanes[e.lane].requeued.put(e.id, e);
        count++;
        bytes += e.message.bodySize();
        if (e.expiresAt != QueueEntry.NEVER && !e.inHeap) {
            e.inHeap = true;
            expiryHeap.add(e);
        }
    }

    /** Messages found in the log at start, in order; they may have been delivered before the crash. */
    void restore(LongRing positions, long expiresAt) {
        Lane lane = lanes[0];
        expiring |= expiresAt != QueueEntry.NEVER;
        while (!positions.isEmpty()) {
            if (expiresAt != QueueEntry.NEVER) {
                pagedExpiry(lane).add(expiresAt);
            }
            lane.paged.add(positions.poll() | REDELIVERED_BIT | RESTORED_BIT);
            count++;
        }
    }

    /** The next message to serve (highest priority first), or null when there is none. */
    QueueEntry poll(Expiry expiry) {
        for (int i = lanes.length - 1; i >= 0; i--) {
            QueueEntry e = pollLane(lanes[i], expiry);
            if (e != null) {
                taken(e);
                return e;
            }
        }
        return null;
    }

    /**
     * A ready message whose expiry is before {@code now}, taken out of the index, or null when none
     * is due. Reads it from disk when it waits there (the queue dead-letters or settles it).
     */
    QueueEntry pollExpired(long now, Expiry expiry) {
        while (!expiryHeap.isEmpty() && expiryHeap.peek().expiresAt < now) {
            QueueEntry e = expiryHeap.poll();
            e.inHeap = false;
            if (e.ready) {
                removeFromLane(e);
                taken(e);
                return e;
            }
        }
        for (Lane lane : lanes) {
            QueueEntry head = peekMemoryHead(lane);
            if (!lane.requeued.isEmpty()) {
                head = lane.requeued.firstEntry().getValue();
            }
            if (head != null) {
                if (head.expiredAt(now)) {
                    removeFromLane(head);
                    taken(head);
                    return head;
                }
                continue;
            }
            if (!lane.paged.isEmpty() && lane.pagedExpiry != null) {
                long at = Math.abs(lane.pagedExpiry.peek());
                if (at != NO_EXPIRY && at < now) {
                    QueueEntry e = pollLane(lane, expiry);
                    if (e != null) {
                        taken(e);
                        return e;
                    }
                }
            }
        }
        return null;
    }

    /** The earliest expiry among the messages that can be due first, or {@link QueueEntry#NEVER}. */
    long nextExpiry() {
        long next = QueueEntry.NEVER;
        while (!expiryHeap.isEmpty() && !expiryHeap.peek().ready) {
            expiryHeap.poll().inHeap = false;
        }
        if (!expiryHeap.isEmpty()) {
            next = expiryHeap.peek().expiresAt;
        }
        for (Lane lane : lanes) {
            QueueEntry head = !lane.requeued.isEmpty() ? lane.requeued.firstEntry().getValue() : peekMemoryHead(lane);
            if (head != null) {
                next = Math.min(next, head.expiresAt);
            } else if (!lane.paged.isEmpty() && lane.pagedExpiry != null && lane.pagedExpiry.peek() != NO_EXPIRY) {
                next = Math.min(next, Math.abs(lane.pagedExpiry.peek()));
            }
        }
        return next;
    }

    private static QueueEntry peekMemoryHead(Lane lane) {
        QueueEntry e;
        while ((e = lane.memory.peek()) != null && !e.ready) {
            lane.memory.poll();
        }
        return e;
    }

    /** Takes an entry out of its lane's requeued map; one in the memory deque stays there as not ready. */
    private void removeFromLane(QueueEntry e) {
        Lane lane = lanes[e.lane];
        if (lane.requeued.remove(e.id) == null) {
            if (lane.memory.peek() == e) {
                lane.memory.poll();
            }
            memoryBytes -= cost(e.message);
        }
    }

    private void taken(QueueEntry e) {
        e.ready = false;
        count--;
        bytes -= e.message.bodySize();
    }

    private QueueEntry pollLane(Lane lane, Expiry expiry) {
        if (!lane.requeued.isEmpty()) {
            return lane.requeued.pollFirstEntry().getValue();
        }
        QueueEntry e = peekMemoryHead(lane);
        if (e == null && !lane.paged.isEmpty()) {
            pageIn(lane, expiry);
            e = peekMemoryHead(lane);
        }
        if (e != null) {
            lane.memory.poll();
            memoryBytes -= cost(e.message);
        }
        return e;
    }

    /** Brings messages of a lane back from disk into memory, in order, up to half the budget. */
    private void pageIn(Lane lane, Expiry expiry) {
        int n = 0;
        long now = Clock.millis();
        while (!lane.paged.isEmpty() && (n == 0 || n < 1024 && memoryBytes < memoryBudget / 2)) {
            long p = lane.paged.poll();
            long expiresAt = lane.pagedExpiry == null ? NO_EXPIRY : lane.pagedExpiry.poll();
            long position = p & ~FLAGS;
            QueueLog.Record r;
            try {
                r = pagingLog().read(position);
            } catch (UncheckedIOException failure) {
                r = null;
            }
            if (r == null) {
                count--; // reported by the log; nothing to deliver
                continue;
            }
            if ((p & RESTORED_BIT) != 0) {
                bytes += r.message().bodySize();
            }
            boolean own = expiresAt < 0;
            long at = expiresAt == NO_EXPIRY ? expiry.of(r.message(), now) : Math.abs(expiresAt);
            QueueEntry e = new QueueEntry(r.id(), r.message(), lane.number, at);
            e.redelivered = (p & REDELIVERED_BIT) != 0;
            if (r.persistent()) {
                e.position = position;
            } else {
                pagingLog().releaseTransient(position);
            }
            keep(lane, e, own || expiresAt == NO_EXPIRY && at != QueueEntry.NEVER);
            n++;
        }
    }

    /** The log paged-out messages live in: the durable log, or this queue's spill log (opened on first use). */
    private QueueLog pagingLog() {
        if (store != null) {
            return store;
        }
        if (spill == null) {
            spill = spillLogs.get();
        }
        return spill;
    }

    QueueLog spill() {
        return spill;
    }

    /** Takes every ready message out (purge, delete), handing each to {@code drop}; returns how many there were. */
    long drain(Consumer<QueueEntry> drop, boolean readPaged) {
        long dropped = count;
        for (Lane lane : lanes) {
            for (QueueEntry e : lane.requeued.values()) {
                e.ready = false;
                drop.accept(e);
            }
            lane.requeued.clear();
            for (QueueEntry e; (e = lane.memory.poll()) != null; ) {
                if (e.ready) {
                    e.ready = false;
                    drop.accept(e);
                }
            }
            drainPaged(lane, drop, readPaged);
        }
        expiryHeap.clear();
        count = 0;
        bytes = 0;
        memoryBytes = 0;
        return dropped;
    }

    /** Settles what waits only on disk (read back for its id and shared body, unless the log goes anyway). */
    private void drainPaged(Lane lane, Consumer<QueueEntry> drop, boolean readPaged) {
        if (!readPaged) {
            lane.paged.clear();
            lane.pagedExpiry = null;
            return;
        }
        while (!lane.paged.isEmpty()) {
            long position = lane.paged.poll() & ~FLAGS;
            QueueLog.Record r = pagingLog().read(position);
            if (r == null) {
                continue;
            }
            QueueEntry e = new QueueEntry(r.id(), r.message(), 0, QueueEntry.NEVER);
            if (r.persistent()) {
                e.position = position;
            } else {
                pagingLog().releaseTransient(position);
            }
            drop.accept(e);
        }
        lane.pagedExpiry = null;
    }

    /** Every entry in memory (ready or requeued), for compaction. */
    void forEachInMemory(Consumer<QueueEntry> action) {
        for (Lane lane : lanes) {
            for (QueueEntry e : lane.memory) {
                if (e.ready) {
                    action.accept(e);
                }
            }
            lane.requeued.values().forEach(action);
        }
    }

    /** Rewrites the positions of paged messages (compaction moved their records). */
    void replacePagedPositions(LongUnaryOperator relocate) {
        for (Lane lane : lanes) {
            lane.paged.replaceAll(p -> relocate.applyAsLong(p & ~FLAGS) | (p & FLAGS));
        }
    }

    /** Releases what memory holds (broker shutdown: the log keeps the persistent messages). */
    void releaseAll() {
        for (Lane lane : lanes) {
            lane.requeued.values().forEach(e -> e.message.release());
            lane.requeued.clear();
            for (QueueEntry e; (e = lane.memory.poll()) != null; ) {
                if (e.ready) {
                    e.message.release();
                }
            }
            lane.paged.clear();
            lane.pagedExpiry = null;
        }
        expiryHeap.clear();
        if (spill != null) {
            spill.delete();
            spill = null;
        }
    }

    /** Deletes the spill log (queue deleted). */
    void deleteSpill() {
        if (spill != null) {
            spill.delete();
            spill = null;
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
