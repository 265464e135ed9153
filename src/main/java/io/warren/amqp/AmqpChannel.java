package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.warren.broker.ConsumerChannel;
import io.warren.broker.Delivery;
import io.warren.broker.Exchange;
import io.warren.broker.Message;
import io.warren.broker.Queue;
import io.warren.broker.QueueConsumer;
import io.warren.broker.RouteResult;
import io.warren.broker.VirtualHost;
import io.warren.protocol.AmqpException;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldValues;
import io.warren.protocol.Frame;
import io.warren.protocol.Method;
import io.warren.protocol.MethodCodec;
import io.warren.protocol.MethodFrame;
import io.warren.protocol.ReplyCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AMQP channel: its frames and method dispatch, publishing (routed by the virtual host, handed
 * to queues once per read), consumers and deliveries, and its ending. The parts with state of their
 * own live beside it: {@link ContentAssembly} (frames into a message), {@link DefinitionMethods}
 * (the exchange and queue classes), {@link Settlement} (unacked deliveries, ack/reject/nack),
 * {@link PublishedMessage} (publish checks), {@link PublisherConfirms}, {@link ChannelTransaction} with
 * {@link TransactionMethods}, and {@link DirectReplyConsumer}. Runs on its
 * connection's event loop. Methods that need a queue's answer (declare-ok counts, consume, get,
 * purge, delete) suspend the channel: later frames for it wait, in order, until the answer comes
 * back, so replies keep the order of requests; a server-sent basic.cancel waits behind the reply
 * pending then. A channel the broker closed drops every frame but close and close-ok until close-ok.
 */
final class AmqpChannel implements ConsumerChannel {

    private final AmqpConnection connection;
    private final int id;
    private final VirtualHost vhost;
    private final RouteResult routeResult = new RouteResult();

    /** The message being assembled from its frames; made by the first publish (most channels never publish). */
    private ContentAssembly content;

    /**
     * Routed messages per queue, handed to the queues once per read batch. Sized for the usual one
     * or two queues (it grows if need be): an idle channel should not hold a 64-slot table.
     */
    private final Map<Queue, List<Message>> pendingByQueue = new IdentityHashMap<>(2);
    private boolean dirty;

    private final Map<String, QueueConsumer> consumers = new LinkedHashMap<>();
    private final Settlement settlement = new Settlement(this);
    private long deliveryTag;
    private int consumerPrefetch;
    private volatile int channelPrefetch;
    private final AtomicInteger channelUnacked = new AtomicInteger();
    private volatile boolean flowActive = true;

    /** Set by confirm.select (null: no confirms). */
    private PublisherConfirms confirms;
    /** Set by tx.select (null: not transactional). */
    private ChannelTransaction tx;

    private String lastQueue;
    /** The exchange and queue methods; made by the first of them (many channels only publish or consume). */
    private DefinitionMethods definitions;
    /** The tx class's methods; made by the first of them. */
    private TransactionMethods transactions;
    /** Direct reply-to; made by the first request or reply consumer that uses it. */
    private DirectReplyConsumer directReplies;

    private boolean suspended;
    /** Frames that arrived while suspended; rarely more than a few, so it starts with one slot. */
    private final ArrayDeque<Frame> held = new ArrayDeque<>(1);
    /** Consumers the server cancelled while a reply was pending; told right after it. */
    private final List<QueueConsumer> cancelledWhileSuspended = new ArrayList<>(0);
    /** Set once channel.close was sent or received: only close/close-ok matter from then on. */
    private boolean closing;
    private boolean closed;

    AmqpChannel(AmqpConnection connection, int id, VirtualHost vhost) {
        this.connection = connection;
        this.id = id;
        this.vhost = vhost;
    }

    int id() {
        return id;
    }

    ByteBufAllocator alloc() {
        return connection.alloc();
    }

    boolean closing() {
        return closing;
    }

    // ---------------------------------------------------------------- frames in

    /** Takes one frame for this channel (ownership of its payload passes here). */
    void frame(Frame frame) {
        if (closing) {
            if (frame.type() == Frame.METHOD) {
                closingMethod(frame);
            }
            frame.release();
            return;
        }
        if (suspended) {
            held.add(frame);
            return;
        }
        process(frame);
    }

    private void closingMethod(Frame frame) {
        if (frame.payload().readableBytes() < 4) {
            return;
        }
        int classId = frame.payload().getUnsignedShort(frame.payload().readerIndex());
        int methodId = frame.payload().getUnsignedShort(frame.payload().readerIndex() + 2);
        if (classId == Method.CHANNEL_CLOSE_OK.classId() && methodId == Method.CHANNEL_CLOSE_OK.methodId()) {
            connection.removeChannel(this);
        } else if (classId == Method.CHANNEL_CLOSE.classId() && methodId == Method.CHANNEL_CLOSE.methodId()) {
            // Both sides closed the channel at once: answer the client's close; the channel ends
            // with the client's close-ok for ours, as in RabbitMQ (until then it drops the rest).
            send(Method.CHANNEL_CLOSE_OK);
        }
    }

    private void process(Frame frame) {
        try {
            switch (frame.type()) {
                case Frame.METHOD -> {
                    if (content != null && content.inProgress()) {
                        throw content.contentExpected();
                    }
                    if (ContentAssembly.isPublish(frame.payload())) {
                        if (content == null) {
                            content = new ContentAssembly(this);
                        }
                        content.start(frame.payload(), vhost);
                    } else {
                        method(MethodCodec.decode(id, frame.payload()));
                    }
                }
                case Frame.HEADER -> {
                    if (content == null) {
                        throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
                    }
                    content.header(frame.payload(), connection.broker().config().maxMessageSize());
                }
                case Frame.BODY -> {
                    if (content == null) {
                        frame.payload().release();
                        throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
                    }
                    content.body(frame.payload());
                    return; // the payload was taken over
                }
                default -> throw new AmqpException(ReplyCode.FRAME_ERROR, "heartbeat frame on channel " + id);
            }
        } finally {
            if (frame.type() != Frame.BODY) {
                frame.release();
            }
        }
    }

    // ---------------------------------------------------------------- methods

    private void method(MethodFrame m) {
        if (m.method() != Method.BASIC_PUBLISH) {
            flushPublishes();
        }
        if (definitions == null && (m.method().classId() == 40 || m.method().classId() == 50)) {
            definitions = new DefinitionMethods(this, connection, vhost);
        }
        try {
            switch (m.method()) {
                case CHANNEL_OPEN -> throw new AmqpException(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen");
                case CHANNEL_CLOSE -> clientClose();
                case CHANNEL_CLOSE_OK -> throw new AmqpException(ReplyCode.COMMAND_INVALID, "unimplemented method");
                case CHANNEL_FLOW -> flow(m.bool("active"));
                case CHANNEL_FLOW_OK -> { }
                case ACCESS_REQUEST -> send(Method.ACCESS_REQUEST_OK, 1);
                case EXCHANGE_DECLARE -> definitions.exchangeDeclare(m);
                case EXCHANGE_DELETE -> definitions.exchangeDelete(m);
                case EXCHANGE_BIND -> definitions.exchangeBind(m, true);
                case EXCHANGE_UNBIND -> definitions.exchangeBind(m, false);
                case QUEUE_DECLARE -> definitions.queueDeclare(m);
                case QUEUE_BIND -> definitions.queueBind(m, true);
                case QUEUE_UNBIND -> definitions.queueBind(m, false);
                case QUEUE_PURGE -> definitions.queuePurge(m);
                case QUEUE_DELETE -> definitions.queueDelete(m);
                case BASIC_QOS -> qos(m);
                case BASIC_CONSUME -> consume(m);
                case BASIC_CANCEL -> cancel(m.string("consumer-tag"), m.bool("nowait"));
                case BASIC_GET -> get(m);
                case BASIC_ACK -> settle(m.longValue("delivery-tag"), m.bool("multiple"), Settlement.ACK);
                case BASIC_REJECT -> settle(m.longValue("delivery-tag"), false, m.bool("requeue") ? Settlement.REQUEUE : Settlement.DROP);
                case BASIC_NACK -> settle(m.longValue("delivery-tag"), m.bool("multiple"), m.bool("requeue") ? Settlement.REQUEUE : Settlement.DROP);
                case BASIC_RECOVER, BASIC_RECOVER_ASYNC -> recover(m.bool("requeue"), m.method() == Method.BASIC_RECOVER);
                case CONFIRM_SELECT -> confirmSelect(m.bool("nowait"));
                case TX_SELECT -> transactions().select();
                case TX_COMMIT -> transactions().commit();
                case TX_ROLLBACK -> transactions().rollback();
                default -> throw new AmqpException(ReplyCode.COMMAND_INVALID,
                        "method " + m.method().amqpName() + " is not valid on a channel from a client");
            }
        } catch (AmqpException e) {
            throw e.attributedTo(m.method());
        }
    }

    private void flow(boolean active) {
        flowActive = active;
        send(Method.CHANNEL_FLOW_OK, active);
        if (active) {
            wakeQueues();
        }
    }

    // ---------------------------------------------------------------- queues

    /** The queue a method names; "" means the last queue declared on this channel, as in RabbitMQ. */
    String queueName(String name) {
        if (!name.isEmpty()) {
            return name;
        }
        if (lastQueue == null) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no previously declared queue");
        }
        return lastQueue;
    }

    /** The queue "" stands for in the methods that follow (the last one declared on this channel). */
    void lastQueue(String name) {
        lastQueue = name;
    }

    Queue accessibleQueue(String name) {
        Queue q = vhost.existingQueue(queueName(name));
        vhost.checkExclusiveAccess(q, connection);
        return q;
    }

    // ---------------------------------------------------------------- consumers

    private void qos(MethodFrame m) {
        long size = m.longValue("prefetch-size");
        if (size != 0) {
            throw new AmqpException(ReplyCode.NOT_IMPLEMENTED, "prefetch_size!=0 (" + size + ")");
        }
        int count = m.integer("prefetch-count");
        if (m.bool("global")) {
            channelPrefetch = count;
            wakeQueues();
        } else {
            // As in RabbitMQ 3.8+: a per-consumer prefetch lifts any channel-wide limit set before it.
            consumerPrefetch = count;
            if (channelPrefetch != 0) {
                channelPrefetch = 0;
                wakeQueues();
            }
        }
        send(Method.BASIC_QOS_OK);
    }

    private void consume(MethodFrame m) {
        String tag = m.string("consumer-tag");
        if (tag.isEmpty()) {
            tag = "amq.ctag-" + DirectReplyConsumer.randomToken();
        } else if (consumers.containsKey(tag) || directReplies != null && directReplies.isConsumer(tag)) {
            throw new AmqpException(ReplyCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + tag + "'");
        }
        boolean nowait = m.bool("nowait");
        String queueName = queueName(m.string("queue"));
        if (queueName.equals(DirectReplyConsumer.PSEUDO_QUEUE)) {
            directReplies().consume(tag, m.bool("no-ack"), nowait);
            return;
        }
        Queue q = accessibleQueue(queueName);
        Map<String, Object> args = m.table("arguments");
        QueueConsumer consumer = new QueueConsumer(q, tag, this, m.bool("no-ack"), m.bool("exclusive"),
                consumerPrefetch, consumerPriority(q, args), args);
        consumers.put(tag, consumer);
        String consumerTag = tag;
        suspend();
        q.consume(consumer, executor(), error -> resume(() -> {
            if (error != null) {
                consumers.remove(consumerTag);
                throw error instanceof AmqpException e ? e.attributedTo(Method.BASIC_CONSUME) : error;
            }
            if (!nowait) {
                send(Method.BASIC_CONSUME_OK, consumerTag);
            }
        }));
    }

    /**
     * The x-priority argument of basic.consume (0 without one). As RabbitMQ, it must be one of the
     * integer types, else 406 in RabbitMQ's words; values beyond an int are taken as its limits.
     */
    private int consumerPriority(Queue q, Map<String, Object> args) {
        if (!args.containsKey("x-priority")) {
            return 0;
        }
        Object value = args.get("x-priority");
        if (!FieldValues.isInteger(value)) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "invalid arg 'x-priority' for queue '" + q.name()
                    + "' in vhost '" + vhost.name() + "': \"expected integer, got " + FieldValues.typeName(value) + "\"");
        }
        long priority = FieldValues.integer(value);
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, priority));
    }

    private void cancel(String tag, boolean nowait) {
        if (directReplies != null && directReplies.isConsumer(tag)) {
            directReplies.cancel();
            if (!nowait) {
                send(Method.BASIC_CANCEL_OK, tag);
            }
            return;
        }
        QueueConsumer consumer = consumers.get(tag);
        if (consumer == null) {
            if (!nowait) {
                send(Method.BASIC_CANCEL_OK, tag);
            }
            return;
        }
        suspend();
        consumer.queue().cancel(consumer, executor(), () -> resume(() -> {
            consumers.remove(tag);
            if (!nowait) {
                send(Method.BASIC_CANCEL_OK, tag);
            }
        }));
    }

    @Override
    public void consumerCancelledByServer(QueueConsumer consumer) {
        if (suspended) {
            // A reply is pending (e.g. this channel's own queue.delete-ok): the notice goes after it.
            cancelledWhileSuspended.add(consumer);
            return;
        }
        if (closing || consumers.get(consumer.tag()) != consumer) {
            return;
        }
        consumers.remove(consumer.tag());
        if (connection.consumerCancelNotify()) {
            send(Method.BASIC_CANCEL, consumer.tag(), true);
            connection.flush();
        }
    }

    // ---------------------------------------------------------------- publishing

    /** A whole message came in (from {@link ContentAssembly}): it is routed, or kept for the transaction. */
    void completePublish(Exchange exchange, String routingKey, boolean mandatory, ContentHeader header, ByteBuf content) {
        Message message = PublishedMessage.accept(exchange, routingKey, header, content, connection.user(), connection.alloc());
        if (tx != null) {
            tx.publish(exchange, message, mandatory);
            return;
        }
        if (confirms != null) {
            confirms.published();
        }
        boolean routed;
        try {
            routed = route(exchange, message, mandatory);
        } finally {
            message.release();
        }
        markDirty();
        if (confirms != null && !routed) {
            // As RabbitMQ: a message no queue takes is confirmed at once, right after its basic.return.
            flushPublishes();
        }
    }

    /**
     * Routes one message: to queues (batched until the end of the read), a direct reply, or back.
     * False when nothing took it (returned if mandatory, else dropped).
     */
    boolean route(Exchange exchange, Message message, boolean mandatory) {
        ContentHeader header = message.header();
        if (header.hasReplyTo() && DirectReplyConsumer.PSEUDO_QUEUE.equals(header.properties().replyTo)) {
            message = directReplies().withReplyAddress(message);
        }
        String key = message.routingKey();
        try {
            if (exchange.name().isEmpty() && key.startsWith(DirectReplyConsumer.ADDRESS_PREFIX)) {
                AmqpChannel target = connection.directReplies().find(key.substring(DirectReplyConsumer.ADDRESS_PREFIX.length()));
                if (target != null) {
                    Message reply = message.retain();
                    target.executor().execute(() -> target.directReply(reply));
                    return true;
                }
            } else {
                List<Queue> queues = vhost.route(exchange, message, routeResult);
                if (!queues.isEmpty()) {
                    boolean confirmAlone = false;
                    for (int i = 0; i < queues.size(); i++) {
                        Queue q = queues.get(i);
                        pendingByQueue.computeIfAbsent(q, k -> new ArrayList<>()).add(message.retain());
                        confirmAlone |= q.rejectsWhenFull();
                    }
                    if (confirmAlone && confirms != null) {
                        // A queue that may refuse it: its own confirm, so that a basic.nack names just this message.
                        flushPublishes();
                    }
                    return true;
                }
            }
            if (mandatory) {
                ByteBuf out = connection.alloc().buffer(128);
                FrameWriter.writeMethod(out, id, Method.BASIC_RETURN, ReplyCode.NO_ROUTE, "NO_ROUTE",
                        exchange.name(), key);
                FrameWriter.writeContent(connection.channel(), out, id, message.header(), message.body(),
                        connection.frameMax());
            }
            return false;
        } finally {
            if (message.header() != header) {
                message.release();
            }
        }
    }

    private TransactionMethods transactions() {
        if (transactions == null) {
            transactions = new TransactionMethods(this);
        }
        return transactions;
    }

    private DirectReplyConsumer directReplies() {
        if (directReplies == null) {
            directReplies = new DirectReplyConsumer(this, connection);
        }
        return directReplies;
    }

    /** A reply published to this channel's direct reply-to address (on this channel's thread). */
    void directReply(Message message) {
        if (closing || directReplies == null || !directReplies.consuming()) {
            message.release();
            return;
        }
        directReplies.deliver(message, ++deliveryTag);
    }

    private void markDirty() {
        if (!dirty) {
            dirty = true;
            connection.markDirty(this);
        }
    }

    /** Hands the batch of routed messages to their queues and confirms it. Called at the end of each read. */
    void flushPublishes() {
        dirty = false;
        settlement.flushAcks();
        PublisherConfirms.Batch batch = confirms == null ? null : confirms.openBatch();
        if (!pendingByQueue.isEmpty()) {
            for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
                Queue q = e.getKey();
                boolean mustSync = batch != null && (storesAny(q, e.getValue()) || q.rejectsWhenFull());
                if (mustSync) {
                    PublisherConfirms.Batch waiting = batch;
                    waiting.waiting++;
                    q.enqueue(e.getValue(), executor(), ok -> batchSynced(waiting, ok));
                } else {
                    q.enqueue(e.getValue());
                }
                if (q.overloaded()) {
                    connection.pauseReadingFor(q);
                }
            }
            pendingByQueue.clear();
        }
        if (batch != null) {
            confirms.send();
        }
    }

    /** True when the queue writes some of these messages to disk (persistent messages, durable queue). */
    private static boolean storesAny(Queue q, List<Message> messages) {
        if (!q.durable() || q.exclusive()) {
            return false;
        }
        for (Message m : messages) {
            if (m.header().persistent()) {
                return true;
            }
        }
        return false;
    }

    private void batchSynced(PublisherConfirms.Batch batch, boolean ok) {
        confirms.synced(batch, ok);
        if (!closing) {
            confirms.send();
            // Callbacks of one fsync for several batches arrive together: one write for their confirms.
            connection.flushSoon();
        }
    }

    private void confirmSelect(boolean nowait) {
        if (tx != null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
        }
        if (confirms == null) {
            confirms = new PublisherConfirms(this);
        }
        if (!nowait) {
            send(Method.CONFIRM_SELECT_OK);
        }
    }

    // ---------------------------------------------------------------- transactions (see TransactionMethods)

    ChannelTransaction transaction() {
        return tx;
    }

    /** tx.select: 406 once in confirm mode, as RabbitMQ. */
    ChannelTransaction startTransaction() {
        if (confirms != null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
        }
        if (tx == null) {
            tx = new ChannelTransaction();
        }
        return tx;
    }

    Settlement settlement() {
        return settlement;
    }

    /** The queues among those with publishes waiting to be handed over that will write some to disk. */
    List<Queue> queuesStoringPending() {
        List<Queue> durable = new ArrayList<>();
        for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
            if (storesAny(e.getKey(), e.getValue())) {
                durable.add(e.getKey());
            }
        }
        return durable;
    }

    // ---------------------------------------------------------------- delivery

    @Override
    public EventExecutor executor() {
        return connection.executor();
    }

    @Override
    public boolean canReceive() {
        return flowActive && connection.canTakeDeliveries();
    }

    @Override
    public boolean tryTakeChannelCredit() {
        int limit = channelPrefetch;
        while (true) {
            int now = channelUnacked.get();
            if (limit != 0 && now >= limit) {
                return false;
            }
            if (channelUnacked.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    @Override
    public void returnChannelCredit() {
        channelUnacked.decrementAndGet();
    }

    @Override
    public void hand(List<Delivery> deliveries) {
        long bytes = 0;
        for (int i = 0; i < deliveries.size(); i++) {
            bytes += deliveries.get(i).message().bodySize() + DeliveryCredit.OVERHEAD;
        }
        long handed = bytes;
        connection.deliveriesHanded(handed);
        executor().execute(() -> {
            try {
                deliver(deliveries);
            } finally {
                connection.deliveriesWritten(handed);
            }
        });
    }

    private void deliver(List<Delivery> deliveries) {
        if (closing) {
            requeueUndeliverable(deliveries);
            return;
        }
        OutboundBatch out = new OutboundBatch(connection.channel());
        int frameMax = connection.frameMax();
        for (Delivery d : deliveries) {
            QueueConsumer c = d.consumer();
            long tag = ++deliveryTag;
            Message m = d.message();
            FrameWriter.writeDeliver(out.buffer(128 + c.tag().length() * 3 + m.routingKey().length() * 3
                    + m.exchange().length() * 3), id, c.tag(), tag, d.redelivered(), m.exchange(), m.routingKey());
            FrameWriter.writeContent(out, id, m.header(), m.body(), frameMax);
            if (c.noAck()) {
                m.release();
            } else {
                settlement.delivered(tag, d.queue(), d.id(), c);
            }
        }
        out.finish();
        connection.flushSoon();
    }

    private void requeueUndeliverable(List<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            if (d.consumer() != null && d.consumer().noAck()) {
                d.message().release();
            } else {
                d.queue().reject(d.consumer(), new long[] {d.id()}, 1, true);
            }
        }
    }

    private void get(MethodFrame m) {
        Queue q = accessibleQueue(m.string("queue"));
        boolean noAck = m.bool("no-ack");
        suspend();
        q.get(this, noAck, executor(), d -> resume(() -> {
            if (d == null) {
                send(Method.BASIC_GET_EMPTY, "");
                return;
            }
            if (closing) {
                requeueUndeliverable(List.of(d));
                return;
            }
            long tag = ++deliveryTag;
            Message msg = d.message();
            ByteBuf out = connection.alloc().buffer(256);
            FrameWriter.writeMethod(out, id, Method.BASIC_GET_OK, tag, d.redelivered(), msg.exchange(),
                    msg.routingKey(), d.messageCount());
            FrameWriter.writeContent(connection.channel(), out, id, msg.header(), msg.body(), connection.frameMax());
            if (noAck) {
                msg.release();
            } else {
                settlement.delivered(tag, q, d.id(), null);
            }
        }));
    }

    // ---------------------------------------------------------------- acks

    private void settle(long tag, boolean multiple, int how) {
        if (tx != null) {
            settlement.hold(tag, multiple, how, tx);
            return;
        }
        settlement.settle(tag, multiple, how);
    }

    private void recover(boolean requeue, boolean reply) {
        if (!requeue) {
            // As RabbitMQ: a connection error, whichever of the two methods asked.
            throw new AmqpException(ReplyCode.NOT_IMPLEMENTED, "requeue=false");
        }
        settlement.recover();
        if (reply) {
            send(Method.BASIC_RECOVER_OK);
        }
    }

    /** Acks came in this read: they go to their queues with its publishes ({@link #flushPublishes}). */
    void acksPending() {
        markDirty();
    }

    /** {@code settled} deliveries of consumers were settled: their share of the channel-wide prefetch is free again. */
    void creditBack(int settled) {
        if (settled > 0) {
            channelUnacked.addAndGet(-settled);
            if (channelPrefetch != 0) {
                wakeQueues();
            }
        }
    }

    private void wakeQueues() {
        for (QueueConsumer c : consumers.values()) {
            c.queue().wakeUp();
        }
    }

    /** The socket became writable again: queues holding back deliveries may go on. */
    void writable() {
        if (!closing) {
            wakeQueues();
        }
    }

    // ---------------------------------------------------------------- suspend / resume

    void suspend() {
        suspended = true;
    }

    /** Runs a queue's answer on this channel's thread, then the frames that waited for it. */
    void resume(Runnable answer) {
        connection.runForChannel(this, () -> {
            suspended = false;
            if (closing) {
                return;
            }
            answer.run();
        });
        while (!suspended && !cancelledWhileSuspended.isEmpty()) {
            consumerCancelledByServer(cancelledWhileSuspended.remove(0));
        }
        while (!suspended && !closing && !held.isEmpty()) {
            Frame next = held.poll();
            connection.runForChannel(this, () -> process(next));
        }
        connection.afterTask();
    }

    // ---------------------------------------------------------------- closing

    private void clientClose() {
        release();
        send(Method.CHANNEL_CLOSE_OK);
        connection.removeChannel(this);
    }

    /** Sends channel.close for a soft error; frames other than close/close-ok are ignored until the reply. */
    void closeWithError(AmqpException error) {
        release();
        ByteBuf out = FrameWriter.method(connection.alloc(), id, Method.CHANNEL_CLOSE, error.replyCode(),
                error.getMessage(), error.classId(), error.methodId());
        connection.channel().write(out, connection.channel().voidPromise());
    }

    /**
     * Gives everything back: consumers are cancelled, unacked messages return to their queues as
     * redelivered, half-assembled content and uncommitted transactions are dropped.
     */
    void release() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        suspended = false;
        for (Frame f; (f = held.poll()) != null; ) {
            f.release();
        }
        settlement.flushAcks();
        flushPublishesQuietly();
        if (content != null) {
            content.release();
        }
        if (tx != null) {
            // Deliveries acked in the open transaction go back to their queues with the unacked ones.
            settlement.restore(tx.takeSettlements());
            tx.rollback();
        }
        if (directReplies != null) {
            directReplies.release();
        }
        if (consumers.isEmpty() && settlement.isEmpty()) {
            return; // nothing to give back to any queue: spare the maps below (most channels close so)
        }
        List<QueueConsumer> cancelled = new ArrayList<>(consumers.values());
        consumers.clear();
        settlement.giveBack(cancelled);
    }

    private void flushPublishesQuietly() {
        for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
            e.getKey().enqueue(e.getValue());
        }
        pendingByQueue.clear();
    }

    // ---------------------------------------------------------------- helpers

    void send(Method method, Object... args) {
        connection.channel().write(FrameWriter.method(connection.alloc(), id, method, args), connection.channel().voidPromise());
    }

    @Override
    public String toString() {
        return "channel " + id + " of " + connection;
    }
}
