package io.warren.amqp;

import io.warren.broker.Queue;
import io.warren.protocol.AmqpException;
import io.warren.protocol.Method;
import io.warren.protocol.ReplyCode;
import java.util.List;

/**
 * The tx class for one channel: select, and commit and rollback of its {@link ChannelTransaction}.
 * A commit routes the transaction's publishes, settles its acks, and answers commit-ok once every
 * durable queue it wrote to has the messages on disk. Runs on the channel's connection loop.
 */
final class TransactionMethods {
    private final AmqpChannel channel;

    TransactionMethods(AmqpChannel channel) {
        this.channel = channel;
    }

    void select() {
        channel.startTransaction();
        channel.send(Method.TX_SELECT_OK);
    }

    void commit() {
        ChannelTransaction tx = open();
        channel.settlement().commit(tx.takeSettlements());
        List<ChannelTransaction.Publish> publishes = tx.takePublishes();
        for (int i = 0; i < publishes.size(); i++) {
            ChannelTransaction.Publish p = publishes.get(i);
            try {
                channel.route(p.exchange(), p.message(), p.mandatory());
            } catch (RuntimeException e) {
                // The channel closes on this error: the publishes not routed yet are dropped.
                for (int k = i + 1; k < publishes.size(); k++) {
                    publishes.get(k).message().release();
                }
                throw e;
            } finally {
                p.message().release();
            }
        }
        List<Queue> durable = channel.queuesStoringPending();
        channel.flushPublishes();
        if (durable.isEmpty()) {
            channel.send(Method.TX_COMMIT_OK);
            return;
        }
        channel.suspend();
        int[] waiting = {durable.size()};
        boolean[] failed = {false};
        for (Queue q : durable) {
            q.whenDurable(channel.executor(), ok -> {
                failed[0] |= !ok;
                if (--waiting[0] == 0) {
                    channel.resume(() -> {
                        if (failed[0]) {
                            throw new AmqpException(ReplyCode.INTERNAL_ERROR, "could not write the transaction to disk");
                        }
                        channel.send(Method.TX_COMMIT_OK);
                    });
                }
            });
        }
    }

    void rollback() {
        ChannelTransaction tx = open();
        channel.settlement().restore(tx.takeSettlements());
        tx.rollback();
        channel.send(Method.TX_ROLLBACK_OK);
    }

    private ChannelTransaction open() {
        ChannelTransaction tx = channel.transaction();
        if (tx == null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "channel is not transactional");
        }
        return tx;
    }
}
