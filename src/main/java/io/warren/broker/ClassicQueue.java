package io.warren.broker;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.Properties;
import io.warren.protocol.ReplyCode;
import io.warren.store.Persister;
import io.warren.store.QueueLog;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RabbitMQ's classic queue, an actor owned by one queue thread: the shell that takes messages in,
 * hands them to consumers and settles them. Its ready messages are kept by a {@link MessageIndex}
 * (priorities, paging to disk, expiry), its consumers by a {@link ConsumerSet}, publishers are
 * held back by a {@link PublisherGate}, and what it gives up goes through a {@link DeadLetterer}.
 * Requeued messages go back to their original place. Arguments: TTLs, x-expires, length limits
 * with x-overflow, dead-lettering, x-max-priority, single active consumer, and x-delivery-limit
 * (beyond RabbitMQ, whose classic queues have none).
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
    /** Expired messages dropped per task before the queue lets others run. */
    private static final int EXPIRE_LIMIT = 4096;
    /** How long log records not waited for (acks, unconfirmed publishes) may stay buffered before they are written. */
    private static final long WRITE_DELAY_MILLIS = 5;

    private final QueueType.Spec spec;
    /** The arguments in effect: the declared ones under the current policies (changed on the queue's thread). */
    private volatile QueueArguments args;
    private final EventExecutor executor;
    private final Consumer<Queue> onDeleted;
    /** The message log of a durable queue (persistent messages only); null for a transient queue. */
    private final QueueLog store;
    private final PublisherGate gate = new PublisherGate();

    // Queue thread only from here on.
    private final MessageIndex index;
    private final ConsumerSet consumers;
    private final DeadLetterer deadLetters;
    private final MessageIndex.Expiry expiry = this::expiresAt;
    private boolean storeFailed;
    private boolean writeScheduled;
    private final LongObjectHashMap<QueueEntry> unacked = new LongObjectHashMap<>();
    private final IdentityHashMap<ConsumerChannel, List<Delivery>> batches = new IdentityHashMap<>();
    private long nextId;
    private boolean hadConsumer;
    private boolean dispatchScheduled;
    private volatile boolean deleted;
    /** When the next expiry check runs (monotonic ms), and its timer. */
    private long expiryCheckAt = QueueEntry.NEVER;
    private ScheduledFuture<?> expiryTimer;
    /** x-expires: when the queue was last used (monotonic ms). */
    private long lastUsed = Clock.millis();

    ClassicQueue(QueueType.Spec spec, QueueType.Home home) {
        this.spec = spec;
        this.args = spec.arguments();
        this.executor = home.executor();
        this.onDeleted = home.onDeleted();
        this.store = home.log();
        this.index = new MessageIndex(args.maxPriority, home.memoryBudget(), store, home.spillLogs(),
                this::writeFailed, toString());
        this.consumers = new ConsumerSet(args.singleActiveConsumer);
        this.deadLetters = new DeadLetterer(home.vhost(), spec.name(), executor, this::forget);
        if (args.expires > 0) {
            executor.execute(this::scheduleQueueExpiry);
        }
    }

    @Override public String name() { return spec.name(); }
    @Override public String vhost() { return spec.vhost(); }
    @Override public boolean durable() { return spec.durable(); }
    @Override public boolean exclusive() { return spec.exclusive(); }
    @Override public boolean autoDelete() { return spec.autoDelete(); }
    @Override public Map<String, Object> arguments() { return args.raw(); }
    @Override public QueueArguments queueArguments() { return args; }
    @Override public Object owner() { return spec.owner(); }
    @Override public EventExecutor executor() { return executor; }
    @Override public boolean isDeleted() { return deleted; }

    @Override
    public boolean rejectsWhenFull() {
        return args.hasLengthLimit() && args.overflow != QueueArguments.Overflow.DROP_HEAD;
    }

    // ---------------------------------------------------------------- taking messages in

    @Override
    public void enqueue(List<Message> messages, EventExecutor replyTo, Persister.SyncCallback stored) {
        long batchBytes = gate.posted(messages);
        executor.execute(() -> {
            gate.arrived(messages.size(), batchBytes);
            if (deleted) {
                for (Message m : messages) {
                    discard(m);
                }
                if (stored != null) {
                    replyTo.execute(() -> stored.synced(true));
                }
                return;
            }
            long now = Clock.millis();
            boolean refused = false;
            for (Message m : messages) {
                refused |= !take(nextId++, m, now);
            }
            dispatch(now);
            enforceLimits();
            // A message with a TTL of 0 that no consumer took at once goes now.
            expireDue(now + 1);
            afterTask();
            if (stored != null) {
                whenDurable(replyTo, stored, refused);
            }
        });
    }

    /** Takes one published message in; false when x-overflow refused it (the queue is full). */
    private boolean take(long id, Message m, long now) {
        if (rejectsWhenFull() && wouldOverflow(m)) {
            if (args.overflow == QueueArguments.Overflow.REJECT_PUBLISH_DLX) {
                releaseStoredBody(m);
                deadLetter(new QueueEntry(id, m, 0, QueueEntry.NEVER), DeadLetterer.MAXLEN);
            } else {
                discard(m);
            }
            return false;
        }
        long ttl = ttlOf(m);
        long expiresAt = ttl < 0 ? QueueEntry.NEVER : now + ttl;
        index.add(id, m, expiresAt, ttl >= 0 && ttl != args.messageTtl);
        return true;
    }

    private boolean wouldOverflow(Message m) {
        return args.maxLength >= 0 && index.count() >= args.maxLength
                || args.maxLengthBytes >= 0 && index.bytes() + m.bodySize() > args.maxLengthBytes;
    }

    private boolean overLimit() {
        return args.maxLength >= 0 && index.count() > args.maxLength
                || args.maxLengthBytes >= 0 && index.bytes() > args.maxLengthBytes;
    }

    /** x-overflow drop-head: the oldest ready messages go (dead-lettered as maxlen) until the queue fits. */
    private void enforceLimits() {
        if (!args.hasLengthLimit() || rejectsWhenFull()) {
            return;
        }
        while (overLimit()) {
            QueueEntry e = index.poll(expiry);
            if (e == null) {
                break;
            }
            deadLetter(e, DeadLetterer.MAXLEN);
        }
    }

    /** A message's time to live in ms: the lower of the queue's and its own {@code expiration}; -1 for none. */
    private long ttlOf(Message m) {
        long ttl = args.messageTtl;
        if (m.header().hasExpiration()) {
            long own = Expiration.millis(m.header().properties().expiration);
            if (own >= 0 && (ttl < 0 || own < ttl)) {
                ttl = own;
            }
        }
        return ttl;
    }

    /** For messages read back after a restart: their expiry counted from now. */
    private long expiresAt(Message m, long now) {
        long ttl = ttlOf(m);
        return ttl < 0 ? QueueEntry.NEVER : now + ttl;
    }

    /** Drops a message the queue does not keep (deleted queue, refused publish). */
    private void discard(Message m) {
        releaseStoredBody(m);
        m.release();
    }

    /** Gives back this queue's share of a body written once for several durable queues. */
    private void releaseStoredBody(Message m) {
        if (store != null && m.storedBody() != null && m.header().persistent()) {
            store.releaseBody(m.storedBody());
        }
    }

    // ---------------------------------------------------------------- expiry

    /** Drops (dead-letters) the ready messages whose expiry is before {@code now}, then sets the timer for the next. */
    private void expireDue(long now) {
        if (args.messageTtl < 0 && !index.mayHaveExpiry()) {
            return;
        }
        int n = 0;
        for (QueueEntry e; n < EXPIRE_LIMIT && (e = index.pollExpired(now, expiry)) != null; n++) {
            deadLetter(e, DeadLetterer.EXPIRED);
        }
        if (n == EXPIRE_LIMIT) {
            executor.execute(() -> {
                expireDue(Clock.millis());
                afterTask();
            });
            return;
        }
        scheduleExpiryCheck(index.nextExpiry());
    }

    private void scheduleExpiryCheck(long at) {
        if (at == QueueEntry.NEVER || deleted || at >= expiryCheckAt) {
            return;
        }
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
        expiryCheckAt = at;
        long delay = Math.max(0, at + 1 - Clock.millis());
        expiryTimer = executor.schedule(() -> {
            expiryCheckAt = QueueEntry.NEVER;
            expiryTimer = null;
            long now = Clock.millis();
            expireDue(now);
            dispatch(now);
            afterTask();
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** x-expires: the queue deletes itself once unused (no consumers, get or redeclare) for that long. */
    private void scheduleQueueExpiry() {
        if (deleted) {
            return;
        }
        long idle = Clock.millis() - lastUsed;
        if (args.expires <= 0) {
            return; // a policy took it away
        }
        if (consumers.isEmpty() && idle >= args.expires) {
            log.info("{}: deleted after {} ms unused (x-expires)", this, args.expires);
            notifyCancelled(deleteNow());
            return;
        }
        long wait = consumers.isEmpty() ? args.expires - idle : args.expires;
        executor.schedule(this::scheduleQueueExpiry, Math.max(1, wait), TimeUnit.MILLISECONDS);
    }

    @Override
    public void applyArguments(QueueArguments effective) {
        executor.execute(() -> {
            if (deleted) {
                return;
            }
            boolean expiresBefore = args.expires > 0;
            args = effective;
            if (!expiresBefore && args.expires > 0) {
                lastUsed = Clock.millis();
                scheduleQueueExpiry();
            }
            long now = Clock.millis();
            expireDue(now);
            enforceLimits();
            dispatch(now);
            afterTask();
        });
    }

    @Override
    public void redeclared() {
        executor.execute(() -> lastUsed = Clock.millis());
    }

    // ---------------------------------------------------------------- giving messages up

    /** Dead-letters a message that left the queue (or drops it without a dead-letter exchange). */
    private void deadLetter(QueueEntry e, String reason) {
        deadLetters.deadLetter(e, reason, args.deadLetterExchange, args.deadLetterRoutingKey);
    }

    /** Settles a stored message in the log (acked, dropped or purged) and lets go of it. */
    private void forget(QueueEntry e) {
        settleRecord(e);
        e.message.release();
    }

    /** Writes the ack record of a stored message and releases its shared body; the message itself stays. */
    private void settleRecord(QueueEntry e) {
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
    }

    /** The end of every task that changed messages: copies to dead-letter queues go, log records get written. */
    private void afterTask() {
        deadLetters.flush();
        flushStore();
    }

    // ---------------------------------------------------------------- the log

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
                index.forEachInMemory(e -> relocate(e, segment));
                for (QueueEntry e : unacked.values()) {
                    relocate(e, segment);
                }
                index.replacePagedPositions(p -> QueueLog.segmentOf(p) == segment ? store.relocate(p) : p);
            } catch (UncheckedIOException failure) {
                log.warn("{}: compaction of its log failed: {}", this, failure.getMessage());
                return;
            }
        }
    }

    private void relocate(QueueEntry e, long segment) {
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
        QueueLog spill = index.spill();
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
            QueueLog spill = index.spill();
            if (spill != null) {
                spill.flushWrites();
            }
        } catch (UncheckedIOException failure) {
            writeFailed(failure);
        }
    }

    /** Puts messages found in the log back, as they were, before the queue serves anyone. */
    void restore(QueueLog.Recovery recovery) {
        index.restore(recovery.positions(), args.messageTtl < 0 ? QueueEntry.NEVER : Clock.millis() + args.messageTtl);
        nextId = recovery.nextId();
        if (args.messageTtl >= 0) {
            executor.execute(() -> scheduleExpiryCheck(index.nextExpiry()));
        }
    }

    /** Messages recovered or waiting on disk (for recovery's log line and tests). */
    long messageCount() {
        return index.count();
    }

    @Override
    public void whenDurable(EventExecutor replyTo, Persister.SyncCallback done) {
        executor.execute(() -> whenDurable(replyTo, done, false));
    }

    private void whenDurable(EventExecutor replyTo, Persister.SyncCallback done, boolean refused) {
        if (store == null) {
            replyTo.execute(() -> done.synced(!refused));
            return;
        }
        boolean failed = storeFailed || refused;
        storeFailed = false;
        try {
            store.whenSynced(ok -> replyTo.execute(() -> done.synced(ok && !failed)));
        } catch (UncheckedIOException failure) {
            writeFailed(failure);
            storeFailed = false;
            replyTo.execute(() -> done.synced(false));
        }
    }

    @Override
    public boolean overloaded() {
        return gate.overloaded();
    }

    @Override
    public void onRelief(Runnable resume) {
        gate.pause(resume);
        if (gate.caughtUp() || deleted) {
            executor.execute(gate::resumeAll);
        }
    }

    // ---------------------------------------------------------------- consumers

    @Override
    public void counts(EventExecutor replyTo, Consumer<long[]> reply) {
        executor.execute(() -> {
            expireDue(Clock.millis());
            afterTask();
            long[] counts = {index.count(), consumers.size()};
            replyTo.execute(() -> reply.accept(counts));
        });
    }

    @Override
    public void consume(QueueConsumer consumer, EventExecutor replyTo, Consumer<RuntimeException> reply) {
        executor.execute(() -> {
            RuntimeException error = null;
            if (deleted) {
                error = new AmqpException(ReplyCode.NOT_FOUND, "no " + this);
            } else if (consumers.exclusiveConflict(consumer)) {
                error = new AmqpException(ReplyCode.ACCESS_REFUSED, this + " in exclusive use");
            } else {
                consumers.add(consumer);
                hadConsumer = true;
                lastUsed = Clock.millis();
            }
            RuntimeException result = error;
            replyTo.execute(() -> reply.accept(result));
            if (error == null) {
                dispatch(Clock.millis());
                afterTask();
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
            if (!deleted) {
                dispatch(Clock.millis()); // a single active consumer's successor takes over
                afterTask();
            }
        });
    }

    private void removeConsumer(QueueConsumer consumer) {
        consumers.remove(consumer);
        lastUsed = Clock.millis();
    }

    private void deleteIfUnused() {
        if (spec.autoDelete() && hadConsumer && consumers.isEmpty() && !deleted) {
            notifyCancelled(deleteNow());
        }
    }

    @Override
    public void get(ConsumerChannel channel, boolean noAck, EventExecutor replyTo, Consumer<Delivery> reply) {
        executor.execute(() -> {
            lastUsed = Clock.millis();
            QueueEntry e = null;
            if (!deleted) {
                expireDue(lastUsed);
                e = index.poll(expiry);
            }
            Delivery delivery = null;
            if (e != null) {
                delivery = new Delivery(this, null, outgoing(e), e.id, e.redelivered,
                        (int) Math.min(Integer.MAX_VALUE, index.count()));
                handedOut(e, noAck, null);
            }
            Delivery result = delivery;
            replyTo.execute(() -> reply.accept(result));
            afterTask();
        });
    }

    /** A message leaves the ready ones for a consumer: unacked until settled, or settled at once with no-ack. */
    private void handedOut(QueueEntry e, boolean noAck, QueueConsumer c) {
        e.redelivered = true;
        if (noAck) {
            settleRecord(e); // the channel releases the message once written
        } else {
            unacked.put(e.id, e);
            if (c != null) {
                c.unacked++;
            }
        }
    }

    /**
     * The message as it goes out: with x-delivery-limit, redeliveries carry an {@code x-delivery-count}
     * header (the number of times it came back), as RabbitMQ's quorum queues do. The caller's delivery
     * owns one reference for a no-ack consumer.
     */
    private Message outgoing(QueueEntry e) {
        if (args.deliveryLimit >= 0 && e.returns > 0) {
            Properties p = e.message.header().decodeCopy();
            Map<String, Object> headers = p.headers == null ? new LinkedHashMap<>() : new LinkedHashMap<>(p.headers);
            headers.put("x-delivery-count", (long) e.returns);
            p.headers = headers;
            Message copy = e.message.withHeader(ContentHeader.of(e.message.header().bodySize(), p, PooledByteBufAllocator.DEFAULT));
            copy.storedBody(e.message.storedBody());
            e.message.release();
            e.message = copy;
        }
        return e.message;
    }

    @Override
    public void ack(QueueConsumer consumer, long[] ids, int count) {
        executor.execute(() -> {
            for (int i = 0; i < count; i++) {
                QueueEntry e = unacked.remove(ids[i]);
                if (e != null) {
                    forget(e);
                    if (consumer != null) {
                        consumer.unacked--;
                    }
                }
            }
            compactIfNeeded();
            dispatch(Clock.millis());
            afterTask();
        });
    }

    @Override
    public void reject(QueueConsumer consumer, long[] ids, int count, boolean requeue) {
        executor.execute(() -> {
            for (int i = 0; i < count; i++) {
                QueueEntry e = unacked.remove(ids[i]);
                if (e == null) {
                    continue;
                }
                if (consumer != null) {
                    consumer.unacked--;
                }
                if (requeue && !deleted) {
                    returned(e);
                } else if (deleted) {
                    forget(e);
                } else {
                    deadLetter(e, DeadLetterer.REJECTED);
                }
            }
            long now = Clock.millis();
            dispatch(now);
            enforceLimits();
            afterTask();
        });
    }

    /** A delivered message came back unsettled: to its old place, or dead-lettered past x-delivery-limit. */
    private void returned(QueueEntry e) {
        e.returns++;
        if (args.deliveryLimit >= 0 && e.returns > args.deliveryLimit) {
            deadLetter(e, DeadLetterer.DELIVERY_LIMIT);
            return;
        }
        index.requeue(e);
    }

    @Override
    public void purge(EventExecutor replyTo, Consumer<Long> reply) {
        executor.execute(() -> {
            long count = index.drain(this::forget, true);
            flushStore();
            replyTo.execute(() -> reply.accept(count));
        });
    }

    @Override
    public void delete(boolean ifUnused, boolean ifEmpty, EventExecutor replyTo, Consumer<Object> reply) {
        executor.execute(() -> {
            Object result;
            if (ifUnused && !consumers.isEmpty()) {
                result = new AmqpException(ReplyCode.PRECONDITION_FAILED, this + " in use");
            } else if (ifEmpty && index.count() > 0) {
                result = new AmqpException(ReplyCode.PRECONDITION_FAILED, this + " not empty");
            } else if (deleted) {
                result = 0L;
            } else {
                // As RabbitMQ: delete-ok first, then the consumers' basic.cancel.
                long count = index.count();
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
        gate.resumeAll();
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
        index.drain(this::forget, store != null);
        if (store != null) {
            store.delete();
        }
        index.deleteSpill();
        List<QueueConsumer> cancelled = consumers.clear();
        onDeleted.accept(this);
        return cancelled;
    }

    private static void notifyCancelled(List<QueueConsumer> cancelled) {
        for (QueueConsumer c : cancelled) {
            c.channel().executor().execute(() -> c.channel().consumerCancelledByServer(c));
        }
    }

    @Override
    public void wakeUp() {
        executor.execute(() -> {
            dispatch(Clock.millis());
            afterTask();
        });
    }

    /** Hands ready messages to consumers with credit, one batch per channel, then yields. */
    private void dispatch(long now) {
        dispatchScheduled = false;
        if (deleted || consumers.isEmpty() || index.isEmpty()) {
            return;
        }
        expireDue(now);
        int delivered = 0;
        long bytes = 0;
        while (delivered < ROUND_LIMIT && bytes < ROUND_BYTES && !index.isEmpty()) {
            QueueConsumer c = consumers.pick();
            if (c == null) {
                break;
            }
            QueueEntry e = index.poll(expiry);
            if (e == null) {
                consumers.giveBack(c);
                break;
            }
            if (e.expiredAt(now)) {
                consumers.giveBack(c);
                deadLetter(e, DeadLetterer.EXPIRED);
                continue;
            }
            batches.computeIfAbsent(c.channel(), k -> new ArrayList<>())
                    .add(new Delivery(this, c, outgoing(e), e.id, e.redelivered, 0));
            handedOut(e, c.noAck(), c);
            delivered++;
            bytes += e.message.bodySize();
        }
        for (Map.Entry<ConsumerChannel, List<Delivery>> b : batches.entrySet()) {
            b.getKey().hand(b.getValue());
        }
        batches.clear();
        if ((delivered == ROUND_LIMIT || bytes >= ROUND_BYTES) && !index.isEmpty() && !dispatchScheduled) {
            dispatchScheduled = true;
            executor.execute(() -> {
                dispatch(Clock.millis());
                afterTask();
            });
        }
    }

    @Override
    public void channelClosed(List<QueueConsumer> channelConsumers, long[] unackedIds, int count) {
        executor.execute(() -> {
            for (QueueConsumer c : channelConsumers) {
                removeConsumer(c);
            }
            for (int i = 0; i < count; i++) {
                QueueEntry e = unacked.remove(unackedIds[i]);
                if (e == null) {
                    continue;
                }
                if (deleted) {
                    forget(e);
                } else {
                    returned(e);
                }
            }
            deleteIfUnused();
            if (!deleted) {
                dispatch(Clock.millis());
                enforceLimits();
            }
            afterTask();
        });
    }

    @Override
    public Future<?> shutdown() {
        return executor.submit(() -> {
            if (store != null && !deleted) {
                store.close();
            }
            if (expiryTimer != null) {
                expiryTimer.cancel(false);
            }
            // Release what memory holds; the log (if any) keeps the persistent messages.
            index.releaseAll();
            unacked.values().forEach(e -> e.message.release());
            unacked.clear();
            consumers.clear();
        });
    }

    @Override
    public String toString() {
        return "queue '" + spec.name() + "' in vhost '" + spec.vhost() + "'";
    }
}
