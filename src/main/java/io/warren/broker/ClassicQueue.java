package io.warren.broker;

import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ReplyCode;
import io.warren.store.Persister;
import io.warren.store.QueueLog;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RabbitMQ's classic queue: FIFO, in memory, owned by one queue thread. Requeued messages go back
 * to their original place (they are served before anything published after them). Dispatch picks
 * the highest-priority consumer with credit, round robin among equals, and hands each channel one
 * batch per round.
 */
public final class ClassicQueue implements Queue {
    private static final Logger log = LoggerFactory.getLogger(ClassicQueue.class);
    /** Deliveries per dispatch round before yielding the thread to other queues. */
    private static final int ROUND_LIMIT = 256;
    /**
     * Body bytes per dispatch round: a consumer's connection is checked for room
     * ({@link ConsumerChannel#canReceive}) once per message, so a round may overshoot its bound by this much.
     */
    private static final long ROUND_BYTES = 256 * 1024;
    /**
     * Messages (or body bytes) handed to the queue but not yet taken in, above which publishers stop
     * being read: the queue's thread cannot keep up with what arrives...
     */
    private static final int INBOX_HIGH = 20_000;
    private static final long INBOX_HIGH_BYTES = 16L * 1024 * 1024;
    /** ...until it falls below these. */
    private static final int INBOX_LOW = 5_000;
    private static final long INBOX_LOW_BYTES = 4L * 1024 * 1024;
    /** How long log records not waited for (acks, unconfirmed publishes) may stay buffered before they are written. */
    private static final long WRITE_DELAY_MILLIS = 5;

    private final String vhost;
    private final String name;
    private final boolean durable;
    private final boolean exclusive;
    private final boolean autoDelete;
    private final Map<String, Object> arguments;
    private final Object owner;
    private final EventExecutor executor;
    private final Consumer<ClassicQueue> onDeleted;
    /** The message log of a durable queue (persistent messages only); null for a transient queue. */
    private final QueueLog store;
    private boolean storeFailed;
    private boolean writeScheduled;
    /** Where transient messages of a non-durable queue go when it outgrows its memory budget (opened on first use). */
    private final java.util.function.Supplier<QueueLog> spillLogs;
    private QueueLog spill;
    /** Bytes of ready messages held in memory, past which new messages stay only on disk. */
    private final long memoryBudget;

    // Queue thread only from here on.
    /** Ready messages in memory (the head of the queue)... */
    private final ArrayDeque<Entry> ready = new ArrayDeque<>();
    /** ...and after them, those only on disk: log positions, 8 bytes each (bit 62: redelivered). */
    private final io.warren.util.LongRing paged = new io.warren.util.LongRing();
    private long readyBytes;
    private final TreeMap<Long, Entry> requeued = new TreeMap<>();
    private final LongObjectHashMap<Entry> unacked = new LongObjectHashMap<>();
    private final List<QueueConsumer> consumers = new ArrayList<>();
    private final IdentityHashMap<ConsumerChannel, List<Delivery>> batches = new IdentityHashMap<>();
    private long nextId;
    private int roundRobin;
    private boolean hadConsumer;
    private boolean dispatchScheduled;
    private volatile boolean deleted;
    /** Any thread: messages posted by publishers that the queue thread has not taken in yet, and their body bytes. */
    private final AtomicInteger inbox = new AtomicInteger();
    private final AtomicLong inboxBytes = new AtomicLong();
    /** Any thread adds; the queue thread runs them once the inbox is low again. */
    private final ConcurrentLinkedQueue<Runnable> pausedPublishers = new ConcurrentLinkedQueue<>();

    /** One message in the queue: its number in publish order, and whether it was delivered before. */
    private static final class Entry {
        final long id;
        final Message message;
        boolean redelivered;
        /** Position of this message's persistent record in the log, or -1 when it has none. */
        long position = -1;

        Entry(long id, Message message) {
            this.id = id;
            this.message = message;
        }
    }

    public ClassicQueue(String vhost, String name, boolean durable, boolean exclusive, boolean autoDelete,
                        Map<String, Object> arguments, Object owner, EventExecutor executor,
                        Consumer<ClassicQueue> onDeleted) {
        this(vhost, name, durable, exclusive, autoDelete, arguments, owner, executor, onDeleted, null, null, Long.MAX_VALUE);
    }

    public ClassicQueue(String vhost, String name, boolean durable, boolean exclusive, boolean autoDelete,
                        Map<String, Object> arguments, Object owner, EventExecutor executor,
                        Consumer<ClassicQueue> onDeleted, QueueLog store,
                        java.util.function.Supplier<QueueLog> spillLogs, long memoryBudget) {
        this.store = store;
        this.spillLogs = spillLogs;
        this.memoryBudget = memoryBudget;
        this.vhost = vhost;
        this.name = name;
        this.durable = durable;
        this.exclusive = exclusive;
        this.autoDelete = autoDelete;
        this.arguments = arguments == null ? Map.of() : arguments;
        this.owner = owner;
        this.executor = executor;
        this.onDeleted = onDeleted;
    }

    @Override public String name() { return name; }
    @Override public String vhost() { return vhost; }
    @Override public boolean durable() { return durable; }
    @Override public boolean exclusive() { return exclusive; }
    @Override public boolean autoDelete() { return autoDelete; }
    @Override public Map<String, Object> arguments() { return arguments; }
    @Override public Object owner() { return owner; }
    @Override public EventExecutor executor() { return executor; }
    @Override public boolean isDeleted() { return deleted; }

    @Override
    public void enqueue(List<Message> messages) {
        long bytes = 0;
        for (int i = 0; i < messages.size(); i++) {
            bytes += messages.get(i).bodySize();
        }
        long batchBytes = bytes;
        inbox.addAndGet(messages.size());
        inboxBytes.addAndGet(batchBytes);
        executor.execute(() -> {
            inbox.addAndGet(-messages.size());
            inboxBytes.addAndGet(-batchBytes);
            if (!pausedPublishers.isEmpty() && caughtUp()) {
                resumePublishers();
            }
            if (deleted) {
                for (Message m : messages) {
                    if (store != null && m.storedBody() != null && m.header().persistent()) {
                        store.releaseBody(m.storedBody());
                    }
                    m.release();
                }
                return;
            }
            for (Message m : messages) {
                take(nextId++, m);
            }
            flushStore();
            dispatch();
        });
    }

    /**
     * Takes one published message in: into memory while the queue is within its budget and nothing
     * is waiting on disk before it, else onto disk only (written if it is not already).
     */
    private void take(long id, Message m) {
        boolean persistent = store != null && m.header().persistent();
        int cost = cost(m);
        if (paged.isEmpty() && readyBytes + cost <= memoryBudget) {
            Entry e = new Entry(id, m);
            if (persistent) {
                persist(e);
            }
            ready.add(e);
            readyBytes += cost;
            return;
        }
        try {
            long position = persistent ? store.appendPublish(id, m) : pagingLog().appendTransient(id, m);
            paged.add(position);
            m.release();
        } catch (UncheckedIOException failure) {
            log.error("{}: cannot move a message out of memory: {}; keeping it in memory", this, failure.getMessage());
            storeFailed |= persistent;
            ready.add(new Entry(id, m));
            readyBytes += cost;
        }
    }

    /**
     * Moves the few live messages out of sparse log segments (see {@link QueueLog#sparseSegments})
     * so that those segments can go: a long-unacked message must not keep 16 MiB on disk.
     */
    private void compactIfNeeded() {
        if (store == null || deleted) {
            return;
        }
        for (long segment : store.sparseSegments()) {
            try {
                relocateSegment(segment);
            } catch (UncheckedIOException failure) {
                log.warn("{}: compaction of its log failed: {}", this, failure.getMessage());
                return;
            }
        }
    }

    private void relocateSegment(long segment) {
        for (Entry e : ready) {
            relocate(e, segment);
        }
        for (Entry e : requeued.values()) {
            relocate(e, segment);
        }
        for (Entry e : unacked.values()) {
            relocate(e, segment);
        }
        paged.replaceAll(p -> {
            long position = p & ~REDELIVERED_BIT;
            if (QueueLog.segmentOf(position) != segment) {
                return p;
            }
            return store.relocate(position) | (p & REDELIVERED_BIT);
        });
    }

    private void relocate(Entry e, long segment) {
        if (e.position >= 0 && QueueLog.segmentOf(e.position) == segment) {
            e.position = store.relocate(e.position);
        }
    }

    /**
     * Has the log records appended by this task (acks, publishes nobody waits a confirm for) written
     * a little later, together with those of the tasks that follow: one system call per few
     * milliseconds instead of one per task. A confirm or tx.commit writes at once ({@link #whenDurable}).
     */
    private void flushStore() {
        if (deleted || writeScheduled) {
            return;
        }
        if (store != null && store.hasUnwritten() || spill != null && spill.hasUnwritten()) {
            writeScheduled = true;
            executor.schedule(this::writeStore, WRITE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Logs the first of a run of write failures; publishers get basic.nack until a write works again. */
    private void writeFailed(UncheckedIOException failure) {
        if (!storeFailed) {
            log.error("{}: cannot write to its message log: {}. Publishers get basic.nack until it works again",
                    this, failure.getMessage());
        }
        storeFailed = true;
    }

    private void writeStore() {
        writeScheduled = false;
        if (deleted) {
            return;
        }
        try {
            if (store != null) {
                store.flushWrites();
            }
            if (spill != null) {
                spill.flushWrites();
            }
        } catch (UncheckedIOException failure) {
            writeFailed(failure);
        }
    }

    private static int cost(Message m) {
        return m.bodySize() + 256;
    }

    /** The log paged-out messages live in: the durable log, or this queue's spill log. */
    private QueueLog pagingLog() {
        if (store != null) {
            return store;
        }
        if (spill == null) {
            spill = spillLogs.get();
        }
        return spill;
    }

    /** Brings messages back from disk into memory, in order, up to half the budget. */
    private void pageIn() {
        int n = 0;
        while (!paged.isEmpty() && n < 1024 && readyBytes < memoryBudget / 2) {
            long p = paged.poll();
            long position = p & ~REDELIVERED_BIT;
            QueueLog.Record r = pagingLog().read(position);
            if (r == null) {
                continue;
            }
            Entry e = new Entry(r.id(), r.message());
            e.redelivered = (p & REDELIVERED_BIT) != 0;
            if (r.persistent()) {
                e.position = position;
            } else {
                pagingLog().releaseTransient(position);
            }
            ready.add(e);
            readyBytes += cost(r.message());
            n++;
        }
    }

    private static final long REDELIVERED_BIT = 1L << 62;

    private void persist(Entry e) {
        try {
            e.position = store.appendPublish(e.id, e.message);
        } catch (UncheckedIOException failure) {
            writeFailed(failure);
        }
    }

    /** Settles a stored message in the log (acked, dropped or purged). */
    private void forget(Entry e) {
        if (e.position >= 0 && store != null && !deleted) {
            try {
                store.appendAck(e.id, e.position);
            } catch (UncheckedIOException failure) {
                log.warn("{}: cannot record an ack: {} (the message may come back after a restart)", this, failure.getMessage());
            }
        }
        if (e.position >= 0 && store != null && e.message.storedBody() != null) {
            store.releaseBody(e.message.storedBody());
        }
        e.message.release();
    }

    /** Puts messages found in the log back, as they were, before the queue serves anyone. */
    public void restore(QueueLog.Recovery recovery) {
        io.warren.util.LongRing positions = recovery.positions();
        while (!positions.isEmpty()) {
            // It may have been delivered before the restart: say so, as RabbitMQ does.
            paged.add(positions.poll() | REDELIVERED_BIT);
        }
        nextId = recovery.nextId();
        pageIn();
    }

    /** Messages recovered or waiting on disk (for recovery's log line and tests). */
    public long messageCount() {
        return readyCount();
    }

    @Override
    public void whenDurable(EventExecutor replyTo, Persister.SyncCallback done) {
        executor.execute(() -> {
            if (store == null) {
                replyTo.execute(() -> done.synced(true));
                return;
            }
            boolean failed = storeFailed;
            storeFailed = false;
            try {
                store.whenSynced(ok -> replyTo.execute(() -> done.synced(ok && !failed)));
            } catch (UncheckedIOException failure) {
                writeFailed(failure);
                storeFailed = false;
                replyTo.execute(() -> done.synced(false));
            }
        });
    }

    /**
     * Credit flow, as RabbitMQ's between channel and queue: publishers wait only while this queue's
     * thread is behind with taking in what they sent. How fast consumers take messages never
     * matters here: what they do not take waits in the queue (on disk past its memory budget).
     */
    @Override
    public boolean overloaded() {
        return inbox.get() > INBOX_HIGH || inboxBytes.get() > INBOX_HIGH_BYTES;
    }

    private boolean caughtUp() {
        return inbox.get() < INBOX_LOW && inboxBytes.get() < INBOX_LOW_BYTES;
    }

    @Override
    public void onRelief(Runnable resume) {
        pausedPublishers.add(resume);
        if (caughtUp() || deleted) {
            executor.execute(this::resumePublishers);
        }
    }

    private void resumePublishers() {
        for (Runnable r; (r = pausedPublishers.poll()) != null; ) {
            r.run();
        }
    }

    @Override
    public void counts(EventExecutor replyTo, Consumer<long[]> reply) {
        executor.execute(() -> {
            long[] counts = {readyCount(), activeConsumers()};
            replyTo.execute(() -> reply.accept(counts));
        });
    }

    @Override
    public void consume(QueueConsumer consumer, EventExecutor replyTo, Consumer<RuntimeException> reply) {
        executor.execute(() -> {
            RuntimeException error = null;
            if (deleted) {
                error = new AmqpException(ReplyCode.NOT_FOUND, "no queue '" + name + "' in vhost '" + vhost + "'");
            } else if (!consumers.isEmpty() && (consumer.exclusive() || consumers.get(0).exclusive())) {
                error = new AmqpException(ReplyCode.ACCESS_REFUSED,
                        "queue '" + name + "' in vhost '" + vhost + "' in exclusive use");
            } else {
                consumers.add(consumer);
                hadConsumer = true;
            }
            RuntimeException result = error;
            replyTo.execute(() -> reply.accept(result));
            if (error == null) {
                dispatch();
            }
        });
    }

    @Override
    public void cancel(QueueConsumer consumer, EventExecutor replyTo, Runnable done) {
        executor.execute(() -> {
            removeConsumer(consumer);
            if (replyTo != null) {
                replyTo.execute(done);
            }
            deleteIfUnused();
        });
    }

    private void removeConsumer(QueueConsumer consumer) {
        consumer.cancelled = true;
        consumers.remove(consumer);
    }

    private void deleteIfUnused() {
        if (autoDelete && hadConsumer && consumers.isEmpty() && !deleted) {
            notifyCancelled(deleteNow());
        }
    }

    @Override
    public void get(ConsumerChannel channel, boolean noAck, EventExecutor replyTo, Consumer<Delivery> reply) {
        executor.execute(() -> {
            Entry e = deleted ? null : poll();
            Delivery delivery = null;
            if (e != null) {
                if (!noAck) {
                    unacked.put(e.id, e);
                }
                delivery = new Delivery(this, null, e.message, e.id, e.redelivered, (int) Math.min(Integer.MAX_VALUE, readyCount()));
                e.redelivered = true;
            }
            Delivery result = delivery;
            replyTo.execute(() -> reply.accept(result));
        });
    }

    @Override
    public void ack(QueueConsumer consumer, long[] ids, int count) {
        executor.execute(() -> {
            for (int i = 0; i < count; i++) {
                Entry e = unacked.remove(ids[i]);
                if (e != null) {
                    forget(e);
                    if (consumer != null) {
                        consumer.unacked--;
                    }
                }
            }
            compactIfNeeded();
            flushStore();
            dispatch();
        });
    }

    @Override
    public void reject(QueueConsumer consumer, long[] ids, int count, boolean requeue) {
        executor.execute(() -> {
            for (int i = 0; i < count; i++) {
                Entry e = unacked.remove(ids[i]);
                if (e == null) {
                    continue;
                }
                if (consumer != null) {
                    consumer.unacked--;
                }
                if (requeue && !deleted) {
                    e.redelivered = true;
                    requeued.put(e.id, e);
                } else {
                    forget(e);
                }
            }
            flushStore();
            dispatch();
        });
    }

    @Override
    public void purge(EventExecutor replyTo, Consumer<Long> reply) {
        executor.execute(() -> {
            long count = dropReady();
            flushStore();
            replyTo.execute(() -> reply.accept(count));
        });
    }

    @Override
    public void delete(boolean ifUnused, boolean ifEmpty, EventExecutor replyTo, Consumer<Object> reply) {
        executor.execute(() -> {
            Object result;
            if (ifUnused && !consumers.isEmpty()) {
                result = new AmqpException(ReplyCode.PRECONDITION_FAILED,
                        "queue '" + name + "' in vhost '" + vhost + "' in use");
            } else if (ifEmpty && readyCount() > 0) {
                result = new AmqpException(ReplyCode.PRECONDITION_FAILED,
                        "queue '" + name + "' in vhost '" + vhost + "' not empty");
            } else if (deleted) {
                result = 0L;
            } else {
                // As RabbitMQ: delete-ok first, then the consumers' basic.cancel.
                long count = readyCount();
                List<QueueConsumer> cancelled = deleteNow();
                replyTo.execute(() -> reply.accept(count));
                notifyCancelled(cancelled);
                return;
            }
            replyTo.execute(() -> reply.accept(result));
        });
    }

    /** Deletes the queue and its messages; returns the consumers it had, to be told (after any reply). */
    private List<QueueConsumer> deleteNow() {
        deleted = true;
        resumePublishers();
        dropReady();
        if (store != null) {
            store.delete();
        }
        if (spill != null) {
            spill.delete();
            spill = null;
        }
        List<QueueConsumer> cancelled = new ArrayList<>(consumers);
        for (QueueConsumer c : cancelled) {
            c.cancelled = true;
        }
        consumers.clear();
        onDeleted.accept(this);
        return cancelled;
    }

    private static void notifyCancelled(List<QueueConsumer> cancelled) {
        for (QueueConsumer c : cancelled) {
            c.channel().executor().execute(() -> c.channel().consumerCancelledByServer(c));
        }
    }

    private long dropReady() {
        long count = readyCount();
        for (Entry e : requeued.values()) {
            forget(e);
        }
        requeued.clear();
        for (Entry e; (e = ready.poll()) != null; ) {
            forget(e);
        }
        readyBytes = 0;
        dropPaged();
        return count;
    }

    /** Settles every message that is only on disk (read back for its id and shared body). */
    private void dropPaged() {
        if (paged.isEmpty()) {
            return;
        }
        if (deleted && store == null) {
            paged.clear();
            return;
        }
        while (!paged.isEmpty()) {
            long position = paged.poll() & ~REDELIVERED_BIT;
            QueueLog.Record r = pagingLog().read(position);
            if (r == null) {
                continue;
            }
            Entry e = new Entry(r.id(), r.message());
            if (r.persistent()) {
                e.position = position;
            } else {
                pagingLog().releaseTransient(position);
            }
            forget(e);
        }
    }

    @Override
    public void wakeUp() {
        executor.execute(this::dispatch);
    }

    private long readyCount() {
        return ready.size() + requeued.size() + paged.size();
    }

    private int activeConsumers() {
        return consumers.size();
    }

    private Entry poll() {
        if (!requeued.isEmpty()) {
            return requeued.pollFirstEntry().getValue();
        }
        if (ready.isEmpty() && !paged.isEmpty()) {
            pageIn();
        }
        Entry e = ready.poll();
        if (e != null) {
            readyBytes -= cost(e.message);
        }
        return e;
    }

    /** Hands ready messages to consumers with credit, one batch per channel, then yields. */
    private void dispatch() {
        dispatchScheduled = false;
        if (deleted || consumers.isEmpty() || readyCount() == 0) {
            return;
        }
        int delivered = 0;
        long bytes = 0;
        while (delivered < ROUND_LIMIT && bytes < ROUND_BYTES && readyCount() > 0) {
            QueueConsumer c = pickConsumer();
            if (c == null) {
                break;
            }
            Entry e = poll();
            if (!c.noAck()) {
                unacked.put(e.id, e);
                c.unacked++;
            }
            batches.computeIfAbsent(c.channel(), k -> new ArrayList<>())
                    .add(new Delivery(this, c, e.message, e.id, e.redelivered, 0));
            e.redelivered = true;
            delivered++;
            bytes += e.message.bodySize();
        }
        for (Map.Entry<ConsumerChannel, List<Delivery>> b : batches.entrySet()) {
            b.getKey().hand(b.getValue());
        }
        batches.clear();
        if ((delivered == ROUND_LIMIT || bytes >= ROUND_BYTES) && readyCount() > 0 && !dispatchScheduled) {
            dispatchScheduled = true;
            executor.execute(this::dispatch);
        }
    }

    /**
     * The next consumer to deliver to: the highest priority among those with credit, round robin
     * among equals. Takes one unit of the channel's shared prefetch when it has one.
     */
    private QueueConsumer pickConsumer() {
        int n = consumers.size();
        QueueConsumer best = null;
        int bestIndex = -1;
        for (int i = 0; i < n; i++) {
            int index = (roundRobin + i) % n;
            QueueConsumer c = consumers.get(index);
            if ((best == null || c.priority() > best.priority()) && c.hasCredit() && c.channel().canReceive()) {
                if (!c.noAck() && !c.channel().tryTakeChannelCredit()) {
                    continue;
                }
                if (best != null && !best.noAck()) {
                    best.channel().returnChannelCredit();
                }
                best = c;
                bestIndex = index;
            }
        }
        if (best != null) {
            roundRobin = bestIndex + 1;
        }
        return best;
    }

    @Override
    public void channelClosed(List<QueueConsumer> channelConsumers, long[] unackedIds, int count) {
        executor.execute(() -> {
            for (QueueConsumer c : channelConsumers) {
                removeConsumer(c);
            }
            for (int i = 0; i < count; i++) {
                Entry e = unacked.remove(unackedIds[i]);
                if (e == null) {
                    continue;
                }
                if (deleted) {
                    forget(e);
                } else {
                    e.redelivered = true;
                    requeued.put(e.id, e);
                }
            }
            deleteIfUnused();
            flushStore();
            dispatch();
        });
    }

    /** Broker shutdown: closes the message log (on the queue's thread). */
    public io.netty.util.concurrent.Future<?> shutdown() {
        return executor.submit(() -> {
            if (store != null && !deleted) {
                store.close();
            }
            if (spill != null) {
                spill.delete();
                spill = null;
            }
            paged.clear();
            // Release what memory holds; the log (if any) keeps the persistent messages.
            for (Entry e : requeued.values()) {
                e.message.release();
            }
            requeued.clear();
            for (Entry e; (e = ready.poll()) != null; ) {
                e.message.release();
            }
            unacked.values().forEach(e -> e.message.release());
            unacked.clear();
            consumers.clear();
        });
    }

    @Override
    public String toString() {
        return "queue '" + name + "' in vhost '" + vhost + "'";
    }
}
