package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
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
import io.warren.protocol.Properties;
import io.warren.protocol.ReplyCode;
import io.warren.store.BodyStore;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AMQP channel: the channel-level methods, content assembly, publishing, consumers, acks,
 * confirms and transactions. Runs on its connection's event loop. Methods that need a queue's
 * answer (declare-ok counts, consume, get, purge, delete) suspend the channel: later frames for it
 * wait, in order, until the answer comes back, so replies keep the order of requests.
 */
final class AmqpChannel implements ConsumerChannel {
    static final String DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";
    private static final String DIRECT_REPLY_PREFIX = DIRECT_REPLY_TO + ".";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final AmqpConnection connection;
    private final int id;
    private final VirtualHost vhost;
    private final RouteResult routeResult = new RouteResult();

    // Content being assembled: a basic.publish, then its header, then body frames.
    private boolean publishing;
    private String publishRoutingKey;
    private boolean publishMandatory;
    /** The last exchange and routing key names published to, reused while the bytes repeat. */
    private final ShortStringCache exchangeNames = new ShortStringCache();
    private final ShortStringCache routingKeys = new ShortStringCache();
    private Exchange publishExchange;
    private ContentHeader contentHeader;
    private ByteBuf body;
    private long bodyRemaining;

    /**
     * Routed messages per queue, handed to the queues once per read batch. Sized for the usual one
     * or two queues (it grows if need be): an idle channel should not hold a 64-slot table.
     */
    private final Map<Queue, List<Message>> pendingByQueue = new IdentityHashMap<>(2);
    private boolean dirty;

    private final Map<String, QueueConsumer> consumers = new LinkedHashMap<>();
    private final UnackedDeliveries unacked = new UnackedDeliveries();
    private final AckGroups ackGroups = new AckGroups();
    /** Acks received in this read, not yet handed to their queues. */
    private final AckGroups pendingAcks = new AckGroups();
    private long deliveryTag;
    private int consumerPrefetch;
    private volatile int channelPrefetch;
    private final AtomicInteger channelUnacked = new AtomicInteger();
    private volatile boolean flowActive = true;

    private boolean confirmMode;
    private long publishSeq;
    private long confirmedUpTo;
    private long batchedUpTo;
    /**
     * Publishes handed to queues and not yet confirmed, oldest first, one entry per read batch.
     * Starts with one slot (and grows): most channels never select confirms.
     */
    private final ArrayDeque<ConfirmBatch> confirmBatches = new ArrayDeque<>(1);

    /** The publishes of one read batch: confirmed once every durable queue they went to has synced. */
    private static final class ConfirmBatch {
        final long lastSeq;
        int waiting;
        boolean failed;

        ConfirmBatch(long lastSeq) {
            this.lastSeq = lastSeq;
        }
    }
    private boolean txMode;
    /** Publishes of the open transaction, routed at commit. */
    private final List<TxPublish> txPublishes = new ArrayList<>();

    private record TxPublish(Exchange exchange, Message message, boolean mandatory) {
    }
    private final List<long[]> txSettlements = new ArrayList<>();

    private String lastQueue;
    private String replyToken;
    private String replyConsumerTag;

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
                    if (publishing) {
                        throw contentExpected();
                    }
                    if (isPublish(frame.payload())) {
                        publish(frame.payload());
                    } else {
                        method(MethodCodec.decode(id, frame.payload()));
                    }
                }
                case Frame.HEADER -> header(frame.payload());
                case Frame.BODY -> {
                    body(frame.payload());
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

    /** RabbitMQ's words for a frame of the wrong kind in the middle of a publish. */
    private AmqpException contentExpected() {
        return new AmqpException(ReplyCode.UNEXPECTED_FRAME, contentHeader == null
                ? "expected content header for class 60, got non content header frame instead"
                : "expected content body, got non content body frame instead", Method.BASIC_PUBLISH);
    }

    private void header(ByteBuf payload) {
        if (!publishing) {
            throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
        }
        if (contentHeader != null) {
            throw contentExpected();
        }
        ContentHeader header = ContentHeader.decode(payload);
        long max = connection.broker().config().maxMessageSize();
        if (header.bodySize() > max) {
            header.release();
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "message size " + header.bodySize()
                    + " is larger than configured max size " + max, Method.BASIC_PUBLISH);
        }
        contentHeader = header;
        bodyRemaining = header.bodySize();
        if (bodyRemaining == 0) {
            completePublish(connection.alloc().buffer(0, 0));
        }
    }

    private void body(ByteBuf payload) {
        if (contentHeader == null) {
            payload.release();
            throw publishing ? contentExpected()
                    : new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
        }
        int size = payload.readableBytes();
        if (size > bodyRemaining) {
            payload.release();
            throw new AmqpException(ReplyCode.FRAME_ERROR, "body frames carry more than the "
                    + contentHeader.bodySize() + " bytes declared in the content header", Method.BASIC_PUBLISH);
        }
        bodyRemaining -= size;
        if (body == null && bodyRemaining == 0) {
            completePublish(payload);
            return;
        }
        if (body == null) {
            body = connection.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        ((CompositeByteBuf) body).addComponent(true, payload);
        if (bodyRemaining == 0) {
            ByteBuf whole = body;
            body = null;
            completePublish(whole);
        }
    }

    // ---------------------------------------------------------------- methods

    private void method(MethodFrame m) {
        if (m.method() != Method.BASIC_PUBLISH) {
            flushPublishes();
        }
        try {
            switch (m.method()) {
                case CHANNEL_OPEN -> throw new AmqpException(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen");
                case CHANNEL_CLOSE -> clientClose();
                case CHANNEL_CLOSE_OK -> throw new AmqpException(ReplyCode.COMMAND_INVALID, "unimplemented method");
                case CHANNEL_FLOW -> flow(m.bool("active"));
                case CHANNEL_FLOW_OK -> { }
                case ACCESS_REQUEST -> send(Method.ACCESS_REQUEST_OK, 1);
                case EXCHANGE_DECLARE -> exchangeDeclare(m);
                case EXCHANGE_DELETE -> exchangeDelete(m);
                case EXCHANGE_BIND -> exchangeBind(m, true);
                case EXCHANGE_UNBIND -> exchangeBind(m, false);
                case QUEUE_DECLARE -> queueDeclare(m);
                case QUEUE_BIND -> queueBind(m, true);
                case QUEUE_UNBIND -> queueBind(m, false);
                case QUEUE_PURGE -> queuePurge(m);
                case QUEUE_DELETE -> queueDelete(m);
                case BASIC_QOS -> qos(m);
                case BASIC_CONSUME -> consume(m);
                case BASIC_CANCEL -> cancel(m.string("consumer-tag"), m.bool("nowait"));
                case BASIC_GET -> get(m);
                case BASIC_ACK -> settle(m.longValue("delivery-tag"), m.bool("multiple"), SETTLE_ACK);
                case BASIC_REJECT -> settle(m.longValue("delivery-tag"), false, m.bool("requeue") ? SETTLE_REQUEUE : SETTLE_DROP);
                case BASIC_NACK -> settle(m.longValue("delivery-tag"), m.bool("multiple"), m.bool("requeue") ? SETTLE_REQUEUE : SETTLE_DROP);
                case BASIC_RECOVER, BASIC_RECOVER_ASYNC -> recover(m.method() == Method.BASIC_RECOVER);
                case CONFIRM_SELECT -> confirmSelect(m.bool("nowait"));
                case TX_SELECT -> txSelect();
                case TX_COMMIT -> txCommit();
                case TX_ROLLBACK -> txRollback();
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

    // ---------------------------------------------------------------- exchanges

    private void exchangeDeclare(MethodFrame m) {
        String name = m.string("exchange");
        if (name.isEmpty()) { // RabbitMQ refuses even a passive declare of the default exchange
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
        if (m.bool("passive")) {
            vhost.existingExchange(name);
        } else {
            vhost.declareExchange(name, m.string("type"), m.bool("durable"), m.bool("auto-delete"),
                    m.bool("internal"), m.table("arguments"));
        }
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> send(Method.EXCHANGE_DECLARE_OK));
        }
    }

    private void exchangeDelete(MethodFrame m) {
        String name = m.string("exchange");
        if (name.isEmpty()) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
        vhost.deleteExchange(name, m.bool("if-unused"));
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> send(Method.EXCHANGE_DELETE_OK));
        }
    }

    private void exchangeBind(MethodFrame m, boolean bind) {
        if (!bind && (vhost.exchange(m.string("destination")) == null || vhost.exchange(m.string("source")) == null)) {
            // As in RabbitMQ 3.x, unbinding an exchange that does not exist is a no-op.
            if (!m.bool("nowait")) {
                afterDefinitionsSaved(() -> send(Method.EXCHANGE_UNBIND_OK));
            }
            return;
        }
        Exchange destination = vhost.existingExchange(m.string("destination"));
        Exchange source = vhost.existingExchange(m.string("source"));
        if (bind) {
            vhost.bind(source, destination, m.string("routing-key"), m.table("arguments"));
        } else {
            vhost.unbind(source, destination, m.string("routing-key"), m.table("arguments"));
        }
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> send(bind ? Method.EXCHANGE_BIND_OK : Method.EXCHANGE_UNBIND_OK));
        }
    }

    // ---------------------------------------------------------------- queues

    /** The queue a method names; "" means the last queue declared on this channel, as in RabbitMQ. */
    private String queueName(String name) {
        if (!name.isEmpty()) {
            return name;
        }
        if (lastQueue == null) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no previously declared queue");
        }
        return lastQueue;
    }

    private Queue accessibleQueue(String name) {
        Queue q = vhost.existingQueue(queueName(name));
        vhost.checkExclusiveAccess(q, connection);
        return q;
    }

    private void queueDeclare(MethodFrame m) {
        String name = m.string("queue");
        boolean nowait = m.bool("nowait");
        if (name.equals(DIRECT_REPLY_TO) || name.startsWith(DIRECT_REPLY_PREFIX)) {
            if (!nowait) {
                send(Method.QUEUE_DECLARE_OK, name, 0, 0);
            }
            return;
        }
        Queue q;
        if (m.bool("passive")) {
            // As RabbitMQ: "" is not the last queue declared here, but a queue of that name (none).
            q = vhost.existingQueue(name);
            vhost.checkExclusiveAccess(q, connection);
        } else {
            q = vhost.declareQueue(name, m.bool("durable"), m.bool("exclusive"), m.bool("auto-delete"),
                    m.table("arguments"), connection, executor());
            if (q.exclusive() && q.owner() == connection) {
                connection.ownExclusiveQueue(q);
            }
        }
        lastQueue = q.name();
        if (nowait) {
            return;
        }
        suspend();
        q.counts(executor(), counts -> resume(() ->
                afterDefinitionsSaved(() -> send(Method.QUEUE_DECLARE_OK, q.name(), counts[0], counts[1]))));
    }

    private void queueBind(MethodFrame m, boolean bind) {
        if (!bind && (vhost.queue(queueName(m.string("queue"))) == null || vhost.exchange(m.string("exchange")) == null)) {
            // As in RabbitMQ 3.x, unbinding a queue or exchange that does not exist is a no-op.
            afterDefinitionsSaved(() -> send(Method.QUEUE_UNBIND_OK));
            return;
        }
        // RabbitMQ checks exclusivity on bind but not on unbind.
        Queue q = bind ? accessibleQueue(m.string("queue")) : vhost.existingQueue(queueName(m.string("queue")));
        Exchange source = vhost.existingExchange(m.string("exchange"));
        String key = m.string("routing-key");
        if (bind) {
            vhost.bind(source, q, key.isEmpty() && m.string("queue").isEmpty() ? q.name() : key, m.table("arguments"));
            if (!m.bool("nowait")) {
                afterDefinitionsSaved(() -> send(Method.QUEUE_BIND_OK));
            }
        } else {
            vhost.unbind(source, q, key, m.table("arguments"));
            afterDefinitionsSaved(() -> send(Method.QUEUE_UNBIND_OK));
        }
    }

    private void queuePurge(MethodFrame m) {
        Queue q = accessibleQueue(m.string("queue"));
        boolean nowait = m.bool("nowait");
        suspend();
        q.purge(executor(), count -> resume(() -> {
            if (!nowait) {
                send(Method.QUEUE_PURGE_OK, count);
            }
        }));
    }

    private void queueDelete(MethodFrame m) {
        boolean nowait = m.bool("nowait");
        Queue q = vhost.queue(queueName(m.string("queue")));
        if (q == null) {
            if (!nowait) {
                send(Method.QUEUE_DELETE_OK, 0);
            }
            return;
        }
        vhost.checkExclusiveAccess(q, connection);
        suspend();
        q.delete(m.bool("if-unused"), m.bool("if-empty"), executor(), result -> resume(() -> {
            if (result instanceof AmqpException e) {
                throw e.attributedTo(Method.QUEUE_DELETE);
            }
            if (!nowait) {
                afterDefinitionsSaved(() -> send(Method.QUEUE_DELETE_OK, result));
            }
        }));
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
            tag = "amq.ctag-" + randomToken();
        } else if (consumers.containsKey(tag) || tag.equals(replyConsumerTag)) {
            throw new AmqpException(ReplyCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + tag + "'");
        }
        boolean nowait = m.bool("nowait");
        String queueName = m.string("queue");
        if (queueName.equals(DIRECT_REPLY_TO)) {
            directReplyConsume(tag, m.bool("no-ack"), nowait);
            return;
        }
        Queue q = accessibleQueue(queueName);
        Map<String, Object> args = m.table("arguments");
        Long priority = FieldValues.integer(args.get("x-priority"));
        QueueConsumer consumer = new QueueConsumer(q, tag, this, m.bool("no-ack"), m.bool("exclusive"),
                consumerPrefetch, priority == null ? 0 : (int) (long) priority, args);
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

    private void directReplyConsume(String tag, boolean noAck, boolean nowait) {
        if (!noAck) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "reply consumer cannot acknowledge");
        }
        if (replyConsumerTag != null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "reply consumer already set");
        }
        replyConsumerTag = tag;
        if (replyToken == null) {
            replyToken = randomToken();
            connection.directReplies().register(replyToken, this);
        }
        if (!nowait) {
            send(Method.BASIC_CONSUME_OK, tag);
        }
    }

    private void cancel(String tag, boolean nowait) {
        if (tag.equals(replyConsumerTag)) {
            replyConsumerTag = null;
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

    private static boolean isPublish(ByteBuf payload) {
        return payload.readableBytes() >= 4
                && payload.getInt(payload.readerIndex()) == (Method.BASIC_PUBLISH.classId() << 16 | Method.BASIC_PUBLISH.methodId());
    }

    /**
     * basic.publish, decoded by hand: it is the one method that arrives once per message. Exchange
     * and routing key strings are reused while the client keeps publishing to the same ones.
     */
    private void publish(ByteBuf payload) {
        try {
            payload.skipBytes(6);
            String exchangeName = exchangeNames.read(payload);
            String routingKey = routingKeys.read(payload);
            int bits = payload.readUnsignedByte();
            if ((bits & 2) != 0) {
                throw new AmqpException(ReplyCode.NOT_IMPLEMENTED, "immediate=true", Method.BASIC_PUBLISH);
            }
            Exchange exchange = vhost.existingExchange(exchangeName);
            if (exchange.internal()) {
                throw new AmqpException(ReplyCode.ACCESS_REFUSED, "cannot publish to internal exchange '"
                        + exchangeName + "' in vhost '" + vhost.name() + "'", Method.BASIC_PUBLISH);
            }
            publishing = true;
            publishRoutingKey = routingKey;
            publishMandatory = (bits & 1) != 0;
            publishExchange = exchange;
        } catch (IndexOutOfBoundsException e) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "cannot decode basic.publish: arguments cut short",
                    Method.BASIC_PUBLISH);
        } catch (AmqpException e) {
            throw e.attributedTo(Method.BASIC_PUBLISH);
        }
    }

    private void completePublish(ByteBuf content) {
        Exchange exchange = publishExchange;
        ContentHeader header = contentHeader;
        String routingKey = publishRoutingKey;
        boolean mandatory = publishMandatory;
        publishing = false;
        publishRoutingKey = null;
        publishExchange = null;
        contentHeader = null;
        if (header.hasUserId() && !header.properties().userId.equals(connection.user())) {
            String userId = header.properties().userId;
            header.release();
            content.release();
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "user_id property set to '" + userId
                    + "' but authenticated user was '" + connection.user() + "'", Method.BASIC_PUBLISH);
        }
        Message message = new Message(exchange.name(), routingKey, header, content);
        if (txMode) {
            txPublishes.add(new TxPublish(exchange, message, mandatory));
            return;
        }
        if (confirmMode) {
            publishSeq++;
        }
        boolean routed;
        try {
            routed = route(exchange, message, mandatory);
        } finally {
            message.release();
        }
        markDirty();
        if (confirmMode && !routed) {
            // As RabbitMQ: a message no queue takes is confirmed at once, right after its basic.return.
            flushPublishes();
        }
    }

    /**
     * Routes one message: to queues (batched until the end of the read), a direct reply, or back.
     * False when nothing took it (returned if mandatory, else dropped).
     */
    private boolean route(Exchange exchange, Message message, boolean mandatory) {
        ContentHeader header = message.header();
        if (header.hasReplyTo() && DIRECT_REPLY_TO.equals(header.properties().replyTo)) {
            message = withReplyToken(message);
        }
        String key = message.routingKey();
        try {
            if (exchange.name().isEmpty()) {
                if (key.startsWith(DIRECT_REPLY_PREFIX)) {
                    AmqpChannel target = connection.directReplies().find(key.substring(DIRECT_REPLY_PREFIX.length()));
                    if (target != null) {
                        Message reply = message.retain();
                        target.executor().execute(() -> target.directReply(reply));
                        return true;
                    }
                } else {
                    Queue q = vhost.queue(key);
                    if (q != null) {
                        pendingByQueue.computeIfAbsent(q, k -> new ArrayList<>()).add(message.retain());
                        return true;
                    }
                }
            } else {
                List<Queue> queues = routeResult.route(exchange, key, header).queues();
                if (queues.isEmpty()) {
                    queues = routeToAlternates(exchange, key, header);
                }
                if (!queues.isEmpty()) {
                    if (queues.size() > 1 && message.bodySize() >= BodyStore.SHARED_FROM) {
                        storeBodyOnce(message, queues);
                    }
                    for (Queue q : queues) {
                        pendingByQueue.computeIfAbsent(q, k -> new ArrayList<>()).add(message.retain());
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

    /**
     * RabbitMQ's alternate exchanges: a message that its exchange cannot route goes to the exchange
     * named by its {@code alternate-exchange} argument, and on through that one's, if any.
     */
    private List<Queue> routeToAlternates(Exchange exchange, String key, ContentHeader header) {
        List<Queue> queues = routeResult.queues();
        Exchange current = exchange;
        for (int hops = 0; hops < 16 && queues.isEmpty(); hops++) {
            String name = FieldValues.string(current.arguments().get("alternate-exchange"));
            Exchange next = name == null ? null : vhost.exchange(name);
            if (next == null || next == current || next == exchange && hops > 0) {
                break;
            }
            current = next;
            queues = routeResult.route(current, key, header).queues();
        }
        return queues;
    }

    /**
     * A large persistent body going to several durable queues is written once to the shared body
     * store; each queue's log then holds only a reference to it.
     */
    private void storeBodyOnce(Message message, List<Queue> queues) {
        int durable = 0;
        for (Queue q : queues) {
            if (q.durable() && !q.exclusive()) {
                durable++;
            }
        }
        if (durable > 1 && message.header().persistent()) {
            message.storedBody(connection.broker().bodies().write(message.body(), durable));
        }
    }

    /** Rewrites reply-to amq.rabbitmq.reply-to into this channel's own reply address. */
    private Message withReplyToken(Message message) {
        if (replyConsumerTag == null) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "fast reply consumer does not exist",
                    Method.BASIC_PUBLISH);
        }
        Properties props = message.header().decodeCopy();
        props.replyTo = DIRECT_REPLY_PREFIX + replyToken;
        return message.withHeader(ContentHeader.of(message.header().bodySize(), props, connection.alloc()));
    }

    /** A reply published to this channel's direct reply-to address (on this channel's thread). */
    void directReply(Message message) {
        try {
            if (closing || replyConsumerTag == null) {
                return;
            }
            ByteBuf out = connection.alloc().buffer(128);
            FrameWriter.writeDeliver(out, id, replyConsumerTag, ++deliveryTag, false, message.exchange(),
                    message.routingKey());
            FrameWriter.writeContent(connection.channel(), out, id, message.header(), message.body(), connection.frameMax());
            connection.flush();
        } finally {
            message.release();
        }
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
        flushAcks();
        ConfirmBatch batch = null;
        if (confirmMode && publishSeq > batchedUpTo) {
            batch = new ConfirmBatch(publishSeq);
            batchedUpTo = publishSeq;
            confirmBatches.add(batch);
        }
        if (!pendingByQueue.isEmpty()) {
            for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
                Queue q = e.getKey();
                boolean mustSync = batch != null && storesAny(q, e.getValue());
                q.enqueue(e.getValue());
                if (q.overloaded()) {
                    connection.pauseReadingFor(q);
                }
                if (mustSync) {
                    ConfirmBatch waiting = batch;
                    waiting.waiting++;
                    q.whenDurable(executor(), ok -> batchSynced(waiting, ok));
                }
            }
            pendingByQueue.clear();
        }
        if (batch != null) {
            sendConfirms();
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

    private void batchSynced(ConfirmBatch batch, boolean ok) {
        batch.waiting--;
        batch.failed |= !ok;
        if (!closing) {
            sendConfirms();
            // Callbacks of one fsync for several batches arrive together: one write for their confirms.
            connection.flushSoon();
        }
    }

    /** Sends acks (or nacks) for the oldest batches that are settled, merging neighbours with one outcome. */
    private void sendConfirms() {
        while (!confirmBatches.isEmpty() && confirmBatches.peek().waiting == 0) {
            ConfirmBatch b = confirmBatches.poll();
            while (!confirmBatches.isEmpty() && confirmBatches.peek().waiting == 0 && confirmBatches.peek().failed == b.failed) {
                b = confirmBatches.poll();
            }
            boolean multiple = b.lastSeq - confirmedUpTo > 1;
            if (b.failed) {
                send(Method.BASIC_NACK, b.lastSeq, multiple, false);
            } else {
                send(Method.BASIC_ACK, b.lastSeq, multiple);
            }
            confirmedUpTo = b.lastSeq;
        }
    }

    /** Runs a reply once the definitions changed by the method being answered are on disk. */
    private void afterDefinitionsSaved(Runnable reply) {
        java.util.concurrent.CompletableFuture<Void> saved = vhost.saved();
        if (saved.isDone() && !saved.isCompletedExceptionally()) {
            reply.run();
            return;
        }
        suspend();
        saved.whenComplete((v, error) -> executor().execute(() -> resume(() -> {
            if (error != null) {
                throw new AmqpException(ReplyCode.INTERNAL_ERROR, "cannot save definitions: " + error.getMessage());
            }
            reply.run();
        })));
    }

    private void confirmSelect(boolean nowait) {
        if (txMode) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
        }
        confirmMode = true;
        if (!nowait) {
            send(Method.CONFIRM_SELECT_OK);
        }
    }

    // ---------------------------------------------------------------- transactions

    private void txSelect() {
        if (confirmMode) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
        }
        txMode = true;
        send(Method.TX_SELECT_OK);
    }

    private void txCommit() {
        if (!txMode) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "channel is not transactional");
        }
        List<long[]> settlements = new ArrayList<>(txSettlements);
        txSettlements.clear();
        for (long[] s : settlements) {
            settleNow(s[0], s[1] != 0, (int) s[2]);
        }
        List<TxPublish> publishes = new ArrayList<>(txPublishes);
        txPublishes.clear();
        for (int i = 0; i < publishes.size(); i++) {
            TxPublish p = publishes.get(i);
            try {
                route(p.exchange(), p.message(), p.mandatory());
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
        List<Queue> durable = new ArrayList<>();
        for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
            if (storesAny(e.getKey(), e.getValue())) {
                durable.add(e.getKey());
            }
        }
        flushPublishes();
        if (durable.isEmpty()) {
            send(Method.TX_COMMIT_OK);
            return;
        }
        suspend();
        int[] waiting = {durable.size()};
        boolean[] failed = {false};
        for (Queue q : durable) {
            q.whenDurable(executor(), ok -> {
                failed[0] |= !ok;
                if (--waiting[0] == 0) {
                    resume(() -> {
                        if (failed[0]) {
                            throw new AmqpException(ReplyCode.INTERNAL_ERROR, "could not write the transaction to disk");
                        }
                        send(Method.TX_COMMIT_OK);
                    });
                }
            });
        }
    }

    private void txRollback() {
        if (!txMode) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "channel is not transactional");
        }
        txPublishes.forEach(p -> p.message().release());
        txPublishes.clear();
        txSettlements.clear();
        send(Method.TX_ROLLBACK_OK);
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
                unacked.add(tag, d.queue(), d.id(), c);
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
                unacked.add(tag, q, d.id(), null);
            }
        }));
    }

    // ---------------------------------------------------------------- acks

    private static final int SETTLE_ACK = 0;
    private static final int SETTLE_REQUEUE = 1;
    private static final int SETTLE_DROP = 2;

    private void settle(long tag, boolean multiple, int how) {
        if (txMode) {
            checkTag(tag, multiple);
            txSettlements.add(new long[] {tag, multiple ? 1 : 0, how});
            return;
        }
        settleNow(tag, multiple, how);
    }

    private void checkTag(long tag, boolean multiple) {
        if (!(multiple && tag == 0) && !unacked.contains(tag) && !(multiple && tag <= deliveryTag)) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "unknown delivery tag " + tag);
        }
    }

    private void settleNow(long tag, boolean multiple, int how) {
        // Acks are handed to the queues once per read (like publishes), so that a consumer acking
        // message by message costs each queue one task, and one dispatch round, per read.
        AckGroups into = how == SETTLE_ACK ? pendingAcks : ackGroups;
        boolean found;
        if (multiple && tag == 0) {
            unacked.removeAll(into);
            found = true;
        } else if (multiple) {
            found = unacked.removeUpTo(tag, into) || tag <= deliveryTag && tag > 0;
        } else {
            found = unacked.remove(tag, into);
        }
        if (!found) {
            throw new AmqpException(ReplyCode.PRECONDITION_FAILED, "unknown delivery tag " + tag);
        }
        if (how == SETTLE_ACK) {
            markDirty();
            return;
        }
        ackGroups.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                channelUnacked.addAndGet(-count);
            }
            if (how == SETTLE_ACK) {
                queue.ack(consumer, ids, count);
            } else {
                queue.reject(consumer, ids, count, how == SETTLE_REQUEUE);
            }
        });
        if (channelPrefetch != 0) {
            wakeQueues();
        }
    }

    /** Hands the acks of this read to their queues. */
    private void flushAcks() {
        boolean[] any = {false};
        pendingAcks.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                channelUnacked.addAndGet(-count);
            }
            queue.ack(consumer, ids, count);
            any[0] = true;
        });
        if (any[0] && channelPrefetch != 0) {
            wakeQueues();
        }
    }

    private void recover(boolean reply) {
        unacked.removeAll(ackGroups);
        ackGroups.forEach((queue, consumer, ids, count) -> {
            if (consumer != null) {
                channelUnacked.addAndGet(-count);
            }
            queue.reject(consumer, ids, count, true);
        });
        if (reply) {
            send(Method.BASIC_RECOVER_OK);
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

    private void suspend() {
        suspended = true;
    }

    /** Runs a queue's answer on this channel's thread, then the frames that waited for it. */
    private void resume(Runnable answer) {
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
        flushAcks();
        flushPublishesQuietly();
        if (contentHeader != null) {
            contentHeader.release();
            contentHeader = null;
        }
        if (body != null) {
            body.release();
            body = null;
        }
        publishing = false;
        txPublishes.forEach(p -> p.message().release());
        txPublishes.clear();
        if (replyToken != null) {
            connection.directReplies().unregister(replyToken);
        }
        if (consumers.isEmpty() && unacked.size() == 0) {
            return; // nothing to give back to any queue: spare the maps below (most channels close so)
        }
        Map<Queue, List<QueueConsumer>> byQueue = new IdentityHashMap<>();
        for (QueueConsumer c : consumers.values()) {
            byQueue.computeIfAbsent(c.queue(), k -> new ArrayList<>()).add(c);
        }
        consumers.clear();
        Map<Queue, long[]> unackedByQueue = new IdentityHashMap<>();
        Map<Queue, Integer> counts = new IdentityHashMap<>();
        unacked.removeAll((queue, qid, consumer) -> {
            long[] ids = unackedByQueue.get(queue);
            int n = counts.getOrDefault(queue, 0);
            if (ids == null || n == ids.length) {
                ids = ids == null ? new long[16] : java.util.Arrays.copyOf(ids, ids.length * 2);
                unackedByQueue.put(queue, ids);
            }
            ids[n] = qid;
            counts.put(queue, n + 1);
            byQueue.computeIfAbsent(queue, k -> new ArrayList<>());
        });
        for (Map.Entry<Queue, List<QueueConsumer>> e : byQueue.entrySet()) {
            Queue q = e.getKey();
            long[] ids = unackedByQueue.getOrDefault(q, new long[0]);
            q.channelClosed(e.getValue(), ids, counts.getOrDefault(q, 0));
        }
    }

    private void flushPublishesQuietly() {
        for (Map.Entry<Queue, List<Message>> e : pendingByQueue.entrySet()) {
            e.getKey().enqueue(e.getValue());
        }
        pendingByQueue.clear();
    }

    // ---------------------------------------------------------------- helpers

    private void send(Method method, Object... args) {
        connection.channel().write(FrameWriter.method(connection.alloc(), id, method, args), connection.channel().voidPromise());
    }

    private static String randomToken() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public String toString() {
        return "channel " + id + " of " + connection;
    }
}
