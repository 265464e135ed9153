package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.warren.broker.Broker;
import io.warren.broker.Queue;
import io.warren.broker.VirtualHost;
import io.warren.config.BrokerConfig;
import io.warren.net.FrameDecoder;
import io.warren.net.SendTimeout;
import io.warren.protocol.AmqpException;
import io.warren.protocol.FieldTableCodec;
import io.warren.protocol.FieldValues;
import io.warren.protocol.Frame;
import io.warren.protocol.Method;
import io.warren.protocol.MethodCodec;
import io.warren.protocol.MethodFrame;
import io.warren.protocol.ProtocolHeader;
import io.warren.protocol.ReplyCode;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the handshake (start, tune, open), channel 0, heartbeats, and the single
 * place where protocol errors become channel.close (soft) or connection.close (hard). Everything
 * here runs on the connection's event loop.
 */
public final class AmqpConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AmqpConnection.class);
    /**
     * How long a closing connection waits for the client: for close-ok after Warren sent
     * connection.close, and for the client to close its socket after Warren sent close-ok. RabbitMQ
     * 3.10.8 waits 30 s in both cases (measured).
     */
    private static final long CLOSING_TIMEOUT_MS = 30_000;
    /**
     * After a framing error the rest of the stream cannot be read (a close-ok would not be seen):
     * the socket closes this long after connection.close, as RabbitMQ's does (its silent close delay).
     */
    private static final long FRAMING_ERROR_CLOSE_MS = 3_000;
    /** connection.start is the same for every connection: encoded once, copied into each one's buffer. */
    private static final byte[] CONNECTION_START = FrameWriter.methodBytes(0, Method.CONNECTION_START, 0, 9,
            ServerProperties.get(), "PLAIN AMQPLAIN", "en_US");

    /**
     * Endings are states: in CLOSING Warren sent connection.close and only close and close-ok count
     * until close-ok; in CLOSE_OK_SENT Warren answered the client's close and reads and drops
     * everything until the client closes its socket. Closing the socket over unread input instead
     * would make the kernel reset the connection, which destroys the close-ok on its way.
     */
    private enum State { AWAIT_HEADER, AWAIT_START_OK, AWAIT_TUNE_OK, AWAIT_OPEN, OPEN, CLOSING, CLOSE_OK_SENT, CLOSED }

    private final Broker broker;
    private final BrokerConfig config;
    private final DirectReplies directReplies;
    private final ConnectionRegistry registry;
    private final IntObjectHashMap<AmqpChannel> channels = new IntObjectHashMap<>();
    private final List<AmqpChannel> dirty = new ArrayList<>();
    private final List<Queue> exclusiveQueues = new ArrayList<>();

    private ChannelHandlerContext ctx;
    private State state = State.AWAIT_HEADER;
    private String peer = "?";
    private String user;
    private VirtualHost vhost;
    /** What the client says it is, for the log line of the open; dropped once that is written. */
    private String clientName = "";
    private int frameMax;
    private int channelMax;
    private int heartbeat;
    private boolean consumerCancelNotify;
    private boolean authFailureClose;
    private ScheduledFuture<?> handshakeTimeout;
    private ScheduledFuture<?> closingTimeout;
    /** Set when the frame decoder gave up on the stream: no close-ok can be read any more. */
    private boolean framingError;
    /** Queues this connection waits on before reading again (credit flow). */
    private int pausedBy;
    private final DeliveryCredit deliveryCredit = new DeliveryCredit();
    private String closeReason;
    /** The socket error that ended the connection, if any (e.g. "Connection reset by peer"). */
    private String socketError;

    public AmqpConnection(Broker broker, DirectReplies directReplies, ConnectionRegistry registry) {
        this.broker = broker;
        this.config = broker.config();
        this.directReplies = directReplies;
        this.registry = registry;
        this.frameMax = config.frameMax();
        this.channelMax = config.channelMax();
    }

    // ---------------------------------------------------------------- what channels use

    Broker broker() { return broker; }
    DirectReplies directReplies() { return directReplies; }
    Channel channel() { return ctx.channel(); }
    ByteBufAllocator alloc() { return ctx.alloc(); }
    EventExecutor executor() { return ctx.executor(); }
    int frameMax() { return frameMax; }
    /** The authenticated user name (set once the handshake's login succeeds). */
    String user() { return user; }
    boolean consumerCancelNotify() { return consumerCancelNotify; }

    void flush() {
        ctx.flush();
    }

    /**
     * Flushes after the tasks already queued on this loop (more deliveries, usually): one write
     * system call for all of them instead of one each.
     */
    void flushSoon() {
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.executor().execute(flushTask);
        }
    }

    private boolean flushScheduled;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        ctx.flush();
    };

    void markDirty(AmqpChannel channel) {
        dirty.add(channel);
    }

    void ownExclusiveQueue(Queue queue) {
        if (!exclusiveQueues.contains(queue)) {
            exclusiveQueues.add(queue);
        }
    }

    /**
     * Credit flow: stops reading this socket until the queue catches up, so that TCP pushes back on
     * the publisher instead of the queue's mailbox filling the heap.
     */
    void pauseReadingFor(Queue queue) {
        pausedBy++;
        ctx.channel().config().setAutoRead(false);
        queue.onRelief(() -> ctx.executor().execute(() -> {
            if (--pausedBy == 0 && state != State.CLOSED) {
                ctx.channel().config().setAutoRead(true);
            }
        }));
    }

    /**
     * Any thread: may queues hand this connection more deliveries? Not while its socket's outbound
     * buffer is past the high watermark or deliveries handed over are waiting to be written beyond
     * {@link DeliveryCredit#BOUND}: a client that does not read holds up only its own consumers.
     */
    boolean canTakeDeliveries() {
        return ctx.channel().isWritable() && deliveryCredit.hasRoom();
    }

    /** Any thread: a queue handed deliveries of this many bytes to one of the channels. */
    void deliveriesHanded(long bytes) {
        deliveryCredit.handed(bytes);
    }

    /** On the loop: handed deliveries were written; queues waiting for room may go on. */
    void deliveriesWritten(long bytes) {
        if (deliveryCredit.written(bytes) && ctx.channel().isWritable()) {
            wakeConsumers();
        }
    }

    private void wakeConsumers() {
        for (AmqpChannel ch : channels.values()) {
            ch.writable();
        }
    }

    void removeChannel(AmqpChannel channel) {
        channels.remove(channel.id());
    }

    /** Runs work for a channel outside a read (a queue's answer), turning protocol errors into closes. */
    void runForChannel(AmqpChannel channel, Runnable work) {
        try {
            work.run();
        } catch (AmqpException e) {
            fail(channel, e);
        } catch (RuntimeException e) {
            internalError(e);
        }
    }

    /** Ends a task run outside channelRead: hands on published batches and flushes the socket. */
    void afterTask() {
        flushDirty();
        ctx.flush();
    }

    // ---------------------------------------------------------------- netty events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        peer = describe(ctx.channel().remoteAddress());
        registry.add(this);
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (state.ordinal() < State.OPEN.ordinal()) {
                log.warn("Closing connection from {}: handshake not completed within {} s "
                        + "(is the client speaking AMQP 0-9-1?)", peer, config.handshakeTimeoutSeconds());
                ctx.close();
            }
        }, config.handshakeTimeoutSeconds(), TimeUnit.SECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame frame) {
            frame(frame);
        } else if (msg == ProtocolHeader.RECEIVED) {
            sendStart();
        } else if (msg instanceof FrameDecoder.BadProtocolHeader) {
            log.warn("Closing connection from {}: it did not start with the AMQP 0-9-1 protocol header "
                    + "(a client of another protocol or version?)", peer);
            state = State.CLOSED;
            ctx.writeAndFlush(ProtocolHeader.ours()).addListener(f -> ctx.close());
        } else if (msg instanceof AmqpException e) {
            // From the frame decoder, which reads nothing more after it.
            framingError = true;
            if (state == State.AWAIT_START_OK || state == State.AWAIT_TUNE_OK) {
                handshakeFramingError(e);
                return;
            }
            fail(null, e);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushDirty();
        ctx.flush();
    }

    private void flushDirty() {
        for (int i = 0; i < dirty.size(); i++) {
            AmqpChannel ch = dirty.get(i);
            if (!ch.closing()) {
                ch.flushPublishes();
            }
        }
        dirty.clear();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && deliveryCredit.hasRoom()) {
            wakeConsumers();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == SendTimeout.EXPIRED) {
            // As RabbitMQ's send timeout: nothing more can reach this client, so no connection.close either.
            closeReason = "client took nothing from its socket for " + config.sendTimeoutMillis()
                    + " ms (tcp_listen_options.send_timeout); its unacknowledged messages go back to their queues";
            log.warn("Closing connection {}: {}", this, closeReason);
            ctx.close();
            return;
        }
        if (evt instanceof IdleStateEvent idle) {
            if (idle.state() == IdleState.READER_IDLE) {
                closeReason = "missed heartbeats from client, timeout: " + heartbeat + "s";
                log.warn("Closing connection {}: {}", this, closeReason);
                ctx.close();
            } else if (idle.state() == IdleState.WRITER_IDLE) {
                ctx.writeAndFlush(FrameWriter.heartbeat(ctx.alloc()), ctx.voidPromise());
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            // Netty's native transport says "recvAddress(..) failed: Connection reset by peer": keep the errno text.
            socketError = String.valueOf(cause.getMessage()).replaceFirst("^\\w+\\(\\.\\.\\) failed: ", "");
        } else {
            log.error("Unexpected error on connection {}; closing it", this, cause);
            closeReason = "internal error: " + cause;
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        registry.remove(this);
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        if (closingTimeout != null) {
            closingTimeout.cancel(false);
        }
        boolean wasOpen = state == State.OPEN
                || (state == State.CLOSING || state == State.CLOSE_OK_SENT) && user != null && vhost != null;
        State previous = state;
        state = State.CLOSED;
        for (AmqpChannel ch : channels.values()) {
            ch.release();
        }
        channels.clear();
        for (Queue q : exclusiveQueues) {
            q.delete(false, false, ctx.executor(), result -> { });
        }
        exclusiveQueues.clear();
        if (wasOpen) {
            if (closeReason == null && previous == State.OPEN) {
                log.warn("Connection {} closed: client closed the socket without connection.close{}", this,
                        socketError == null ? "" : " (" + socketError + ")");
            } else {
                log.info("Connection {} closed{}", this, closeReason == null ? "" : ": " + closeReason);
            }
        }
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- frames

    private void frame(Frame frame) {
        if (state == State.CLOSED || state == State.CLOSE_OK_SENT) {
            frame.release();
            return;
        }
        int channelId = frame.channel();
        try {
            if (frame.type() == Frame.HEARTBEAT) {
                frame.release();
                if (channelId != 0) {
                    // RabbitMQ answers 505 here, not 501.
                    throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "heartbeat frame on channel " + channelId);
                }
                return;
            }
            if (channelId == 0) {
                try {
                    connectionFrame(frame);
                } finally {
                    frame.release();
                }
                return;
            }
            if (state == State.CLOSING) {
                frame.release();
                return;
            }
            if (state != State.OPEN) {
                frame.release();
                throw new AmqpException(ReplyCode.CHANNEL_ERROR, "frame on channel " + channelId
                        + " before the connection was opened");
            }
            AmqpChannel ch = channels.get(channelId);
            if (ch == null) {
                openChannel(frame);
                return;
            }
            try {
                ch.frame(frame);
            } catch (AmqpException e) {
                fail(ch, e);
            }
        } catch (AmqpException e) {
            fail(null, e);
        } catch (RuntimeException e) {
            internalError(e);
        }
    }

    private void openChannel(Frame frame) {
        try {
            if (frame.type() != Frame.METHOD) {
                // As RabbitMQ: a content frame where a method must come is 505 even on an unopened channel.
                throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
            }
            MethodFrame m = MethodCodec.decode(frame.channel(), frame.payload());
            if (m.method() != Method.CHANNEL_OPEN) {
                throw new AmqpException(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'", m.method());
            }
            if (frame.channel() > channelMax) {
                throw new AmqpException(ReplyCode.NOT_ALLOWED, "channel " + frame.channel()
                        + " is above the negotiated channel_max (" + channelMax + ")", m.method());
            }
            AmqpChannel ch = new AmqpChannel(this, frame.channel(), vhost);
            channels.put(frame.channel(), ch);
            ctx.write(FrameWriter.method(ctx.alloc(), frame.channel(), Method.CHANNEL_OPEN_OK, new byte[0]), ctx.voidPromise());
        } finally {
            frame.release();
        }
    }

    private void connectionFrame(Frame frame) {
        if (frame.type() != Frame.METHOD) {
            throw new AmqpException(ReplyCode.UNEXPECTED_FRAME, "content frame on channel 0");
        }
        MethodFrame m = MethodCodec.decode(0, frame.payload());
        if (state == State.CLOSING) {
            if (m.method() == Method.CONNECTION_CLOSE) {
                // Both sides closed at once: answer the client's close, then wait for its socket to end.
                sendCloseOk();
            } else if (m.method() == Method.CONNECTION_CLOSE_OK) {
                ctx.close();
            }
            return;
        }
        try {
            switch (m.method()) {
                case CONNECTION_START_OK -> expect(State.AWAIT_START_OK, m, () -> startOk(m));
                case CONNECTION_SECURE_OK -> throw new AmqpException(ReplyCode.COMMAND_INVALID, "unexpected connection.secure-ok");
                case CONNECTION_TUNE_OK -> expect(State.AWAIT_TUNE_OK, m, () -> tuneOk(m));
                case CONNECTION_OPEN -> expect(State.AWAIT_OPEN, m, () -> open(m));
                case CONNECTION_CLOSE -> clientClose(m);
                case CONNECTION_CLOSE_OK -> ctx.close();
                case CONNECTION_UPDATE_SECRET -> expect(State.OPEN, m,
                        () -> ctx.write(FrameWriter.method(ctx.alloc(), 0, Method.CONNECTION_UPDATE_SECRET_OK), ctx.voidPromise()));
                case CONNECTION_BLOCKED, CONNECTION_UNBLOCKED -> { }
                default -> throw new AmqpException(ReplyCode.COMMAND_INVALID,
                        "method " + m.method().amqpName() + " is not allowed on channel 0", m.method());
            }
        } catch (AmqpException e) {
            throw e.attributedTo(m.method());
        }
    }

    private void expect(State expected, MethodFrame m, Runnable action) {
        if (state != expected) {
            throw new AmqpException(ReplyCode.COMMAND_INVALID, "unexpected " + m.method().amqpName()
                    + " during the " + state.name().toLowerCase().replace('_', ' ') + " stage", m.method());
        }
        action.run();
    }

    // ---------------------------------------------------------------- handshake

    private void sendStart() {
        state = State.AWAIT_START_OK;
        ctx.writeAndFlush(ctx.alloc().buffer(CONNECTION_START.length).writeBytes(CONNECTION_START), ctx.voidPromise());
    }

    private void startOk(MethodFrame m) {
        // Only these few client properties matter: read them without decoding the whole table.
        clientName = clientDescription(m.tableValue("client-properties", "product"),
                m.tableValue("client-properties", "version"), m.tableValue("client-properties", "connection_name"));
        consumerCancelNotify = Boolean.TRUE.equals(
                m.tableValue("client-properties", "capabilities", "consumer_cancel_notify"));
        authFailureClose = Boolean.TRUE.equals(
                m.tableValue("client-properties", "capabilities", "authentication_failure_close"));
        String mechanism = m.string("mechanism");
        String[] credentials = switch (mechanism) {
            case "PLAIN" -> plain(m.bytes("response"));
            case "AMQPLAIN" -> amqplain(m.bytes("response"));
            default -> throw new AmqpException(ReplyCode.ACCESS_REFUSED, "unsupported authentication mechanism '"
                    + mechanism + "', use PLAIN or AMQPLAIN", m.method());
        };
        String login = credentials[0];
        if (!broker.authenticate(login, credentials[1])) {
            refuseLogin(mechanism, "user '" + login + "' - invalid credentials");
            return;
        }
        if (broker.loopbackOnly(login) && !isLoopback()) {
            refuseLogin(mechanism, "user '" + login + "' can only connect via localhost "
                    + "(set loopback_users.guest = false in the config file to allow it)");
            return;
        }
        user = login;
        state = State.AWAIT_TUNE_OK;
        ctx.writeAndFlush(FrameWriter.method(ctx.alloc(), 0, Method.CONNECTION_TUNE, config.channelMax(),
                config.frameMax(), config.heartbeatSeconds()), ctx.voidPromise());
    }

    private void refuseLogin(String mechanism, String why) {
        log.warn("Refused login from {}: {}", peer, why);
        closeReason = "login refused";
        throw new AmqpException(ReplyCode.ACCESS_REFUSED, "Login was refused using authentication mechanism "
                + mechanism + ". For details see the broker logfile.", Method.CONNECTION_START_OK);
    }

    private static String[] plain(byte[] response) {
        String s = new String(response, StandardCharsets.UTF_8);
        int first = s.indexOf('\0');
        int second = first < 0 ? -1 : s.indexOf('\0', first + 1);
        if (second < 0) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "malformed PLAIN response", Method.CONNECTION_START_OK);
        }
        return new String[] {s.substring(first + 1, second), s.substring(second + 1)};
    }

    private static String[] amqplain(byte[] response) {
        ByteBuf buf = Unpooled.buffer(response.length + 4).writeInt(response.length).writeBytes(response);
        Map<String, Object> table = FieldTableCodec.readTable(buf);
        String login = FieldValues.string(table.get("LOGIN"));
        String password = FieldValues.string(table.get("PASSWORD"));
        if (login == null || password == null) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "AMQPLAIN response without LOGIN and PASSWORD",
                    Method.CONNECTION_START_OK);
        }
        return new String[] {login, password};
    }

    private void tuneOk(MethodFrame m) {
        int clientChannelMax = m.integer("channel-max");
        long clientFrameMax = m.longValue("frame-max");
        int clientHeartbeat = m.integer("heartbeat");
        checkNegotiated("frame_max", Frame.MIN_SIZE, config.frameMax(), clientFrameMax, m);
        checkNegotiated("channel_max", 1, config.channelMax(), clientChannelMax, m);
        frameMax = clientFrameMax == 0 ? config.frameMax() : (int) clientFrameMax;
        channelMax = clientChannelMax == 0 ? config.channelMax() : Math.min(clientChannelMax, config.channelMax());
        heartbeat = clientHeartbeat;
        ctx.pipeline().get(FrameDecoder.class).maxFrameSize(frameMax);
        if (heartbeat > 0) {
            // A heartbeat after half the interval without a write, as RabbitMQ's rabbit_heartbeat
            // (its sender checks every Timeout/2): a client never sees a whole interval of silence,
            // even at 1 s. A client silent for two intervals is gone.
            ctx.pipeline().addBefore(ctx.name(), "idle", new IdleStateHandler(
                    heartbeat * 2000L, heartbeat * 500L, 0, TimeUnit.MILLISECONDS));
        }
        state = State.AWAIT_OPEN;
    }

    /** RabbitMQ's rule: at least the minimum, and 0 ("no limit") or above our offer only if we have no limit. */
    private static void checkNegotiated(String field, long min, long server, long client, MethodFrame m) {
        if (client != 0 && client < min) {
            throw new AmqpException(ReplyCode.NOT_ALLOWED, "negotiated " + field + " = " + client
                    + " is lower than the minimum allowed value (" + min + ")", m.method());
        }
        if (server != 0 && (client == 0 || client > server)) {
            String detail = client == 0 && field.equals("channel_max") ? " (no limit)" : "";
            throw new AmqpException(ReplyCode.NOT_ALLOWED, "negotiated " + field + " = " + client + detail
                    + " is higher than the maximum allowed value (" + server + ")", m.method());
        }
    }

    private void open(MethodFrame m) {
        String vhostName = m.string("virtual-host");
        VirtualHost v = broker.vhost(vhostName);
        if (v == null) {
            log.warn("Refused connection from {} as user '{}': vhost '{}' does not exist", peer, user, vhostName);
            closeReason = "no such vhost";
            throw new AmqpException(ReplyCode.NOT_ALLOWED, "vhost " + vhostName + " not found", m.method());
        }
        vhost = v;
        state = State.OPEN;
        handshakeTimeout.cancel(false);
        handshakeTimeout = null;
        ctx.writeAndFlush(FrameWriter.method(ctx.alloc(), 0, Method.CONNECTION_OPEN_OK, ""), ctx.voidPromise());
        if (log.isInfoEnabled()) {
            // One concatenation: SLF4J's formatter would build its message through a StringBuilder
            // and a map per argument, on every connection.
            log.info("Connection " + peer + " opened: user '" + user + "', vhost '" + vhostName + "'" + clientName);
        }
        clientName = null;
    }

    private void clientClose(MethodFrame m) {
        closeReason = "client closed it (" + m.integer("reply-code") + " " + m.string("reply-text") + ")";
        for (AmqpChannel ch : channels.values()) {
            ch.release();
        }
        channels.clear();
        sendCloseOk();
    }

    /**
     * Answers connection.close and waits for the client to close its socket, reading and dropping
     * what still comes (publishes a client wrote after its close, as Node's amqplib does): the
     * client closes first, so no reset can destroy the close-ok. A client that keeps the socket
     * open is closed after {@link #CLOSING_TIMEOUT_MS}, as RabbitMQ does.
     */
    private void sendCloseOk() {
        state = State.CLOSE_OK_SENT;
        ctx.channel().config().setAutoRead(true);
        ctx.writeAndFlush(FrameWriter.method(ctx.alloc(), 0, Method.CONNECTION_CLOSE_OK), ctx.voidPromise());
        closeAfterTimeout("the client did not close its socket within " + CLOSING_TIMEOUT_MS / 1000 + " s of close-ok",
                CLOSING_TIMEOUT_MS);
    }

    private void closeAfterTimeout(String why, long millis) {
        if (closingTimeout != null) {
            closingTimeout.cancel(false);
        }
        closingTimeout = ctx.executor().schedule(() -> {
            if (!framingError) {
                log.info("Closing connection {}: {}", this, why);
            }
            ctx.close();
        }, millis, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- errors and closing

    /**
     * A framing error before tune-ok (a start-ok beyond the handshake's 4096-byte frame_max, say):
     * as RabbitMQ, which does not trust the client yet, no connection.close is sent; the socket
     * closes after RabbitMQ's silent close delay.
     */
    private void handshakeFramingError(AmqpException e) {
        log.warn("Closing connection from {} during the handshake, without a reply: {}", peer, e.getMessage());
        closeReason = e.getMessage();
        state = State.CLOSED;
        closeAfterTimeout("framing error during the handshake", FRAMING_ERROR_CLOSE_MS);
    }

    /** The one place where protocol errors turn into closes: soft ones close the channel, hard ones the connection. */
    private void fail(AmqpChannel channel, AmqpException e) {
        if (channel != null && !e.isHard()) {
            log.info("Closing {}: {}", channel, e.getMessage());
            channel.closeWithError(e);
            ctx.flush();
            return;
        }
        if (state == State.AWAIT_START_OK && e.replyCode() == ReplyCode.ACCESS_REFUSED && !authFailureClose) {
            // Clients without authentication_failure_close expect the socket to just close.
            closeReason = "login refused";
            state = State.CLOSED;
            ctx.close();
            return;
        }
        if (e.replyCode() != ReplyCode.ACCESS_REFUSED) {
            log.warn("Closing connection {}: {}", this, e.getMessage());
        }
        close(e.replyCode(), e.getMessage(), e.classId(), e.methodId());
    }

    private void internalError(RuntimeException e) {
        log.error("Internal error on connection {}; closing it", this, e);
        close(ReplyCode.INTERNAL_ERROR, "INTERNAL_ERROR - " + e, 0, 0);
    }

    /** Sends connection.close and waits for close-ok (at most {@link #CLOSING_TIMEOUT_MS}) before closing the socket. */
    public void close(int code, String text, int classId, int methodId) {
        if (!ctx.executor().inEventLoop()) {
            ctx.executor().execute(() -> close(code, text, classId, methodId));
            return;
        }
        if (state == State.CLOSING || state == State.CLOSE_OK_SENT || state == State.CLOSED) {
            return;
        }
        if (closeReason == null) {
            closeReason = text;
        }
        for (AmqpChannel ch : channels.values()) {
            ch.release();
        }
        channels.clear();
        if (state == State.AWAIT_HEADER) {
            ctx.close();
            return;
        }
        state = State.CLOSING;
        ctx.channel().config().setAutoRead(true);
        ctx.writeAndFlush(FrameWriter.method(ctx.alloc(), 0, Method.CONNECTION_CLOSE, code,
                AmqpException.replyText(text), classId, methodId), ctx.voidPromise());
        if (framingError) {
            closeAfterTimeout("the stream cannot be read after a framing error", FRAMING_ERROR_CLOSE_MS);
        } else {
            closeAfterTimeout("no connection.close-ok within " + CLOSING_TIMEOUT_MS / 1000 + " s", CLOSING_TIMEOUT_MS);
        }
    }

    private boolean isLoopback() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                && a.getAddress().isLoopbackAddress();
    }

    private static String describe(java.net.SocketAddress address) {
        if (address instanceof InetSocketAddress a) {
            return (a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress()) + ":" + a.getPort();
        }
        return String.valueOf(address);
    }

    private static String clientDescription(Object productValue, Object versionValue, Object nameValue) {
        String product = FieldValues.string(productValue);
        String version = FieldValues.string(versionValue);
        String name = FieldValues.string(nameValue);
        StringBuilder sb = new StringBuilder(64);
        if (product != null) {
            sb.append(", client ").append(product);
            if (version != null) {
                sb.append(' ').append(version);
            }
        }
        if (name != null) {
            sb.append(", name '").append(name).append('\'');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        if (user == null) {
            return peer;
        }
        return peer + " (user '" + user + "'" + (vhost == null ? "" : ", vhost '" + vhost.name() + "'") + ")";
    }
}
