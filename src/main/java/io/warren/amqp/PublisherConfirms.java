package io.warren.amqp;

import io.warren.protocol.Method;
import java.util.ArrayDeque;

/**
 * Publisher confirms of one channel in confirm mode. Publishes are numbered as they come; the
 * publishes of one read form a {@link Batch}, confirmed once every durable queue they went to has
 * synced them ({@code waiting} counts those). Confirms go out in publish order, neighbouring
 * batches with the same outcome merged into one {@code basic.ack} (or nack) with multiple. Made by
 * confirm.select; owned by the connection's event loop.
 */
final class PublisherConfirms {
    /** The publishes of one read: confirmed once every durable queue they went to has synced. */
    static final class Batch {
        final long lastSeq;
        int waiting;
        boolean failed;

        Batch(long lastSeq) {
            this.lastSeq = lastSeq;
        }
    }

    private final AmqpChannel channel;
    private long publishSeq;
    private long confirmedUpTo;
    private long batchedUpTo;
    /** Batches not confirmed yet, oldest first. */
    private final ArrayDeque<Batch> batches = new ArrayDeque<>(4);

    PublisherConfirms(AmqpChannel channel) {
        this.channel = channel;
    }

    /** Numbers one more publish. */
    void published() {
        publishSeq++;
    }

    /** The batch of the publishes numbered since the last one (null when there were none). */
    Batch openBatch() {
        if (publishSeq == batchedUpTo) {
            return null;
        }
        Batch batch = new Batch(publishSeq);
        batchedUpTo = publishSeq;
        batches.add(batch);
        return batch;
    }

    /** A queue the batch waited for has synced it (or failed to). */
    void synced(Batch batch, boolean ok) {
        batch.waiting--;
        batch.failed |= !ok;
    }

    /** Sends acks (or nacks) for the oldest batches that are settled, merging neighbours with one outcome. */
    void send() {
        while (!batches.isEmpty() && batches.peek().waiting == 0) {
            Batch b = batches.poll();
            while (!batches.isEmpty() && batches.peek().waiting == 0 && batches.peek().failed == b.failed) {
                b = batches.poll();
            }
            boolean multiple = b.lastSeq - confirmedUpTo > 1;
            if (b.failed) {
                channel.send(Method.BASIC_NACK, b.lastSeq, multiple, false);
            } else {
                channel.send(Method.BASIC_ACK, b.lastSeq, multiple);
            }
            confirmedUpTo = b.lastSeq;
        }
    }
}
