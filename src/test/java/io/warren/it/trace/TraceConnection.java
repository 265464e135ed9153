package io.warren.it.trace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.Method;
import io.warren.protocol.MethodCodec;
import io.warren.protocol.MethodFrame;
import io.warren.protocol.Properties;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One client connection of a trace script: a plain socket, the handshake, frames sent as the
 * script says, and a reader thread that writes down every frame the broker sends, in order, as one
 * line each ({@link #lines}). Methods are decoded with the broker's method table, content headers
 * and bodies are joined into one {@code content} line. The script's thread sends and waits; the
 * reader thread only appends, under this object's lock.
 */
final class TraceConnection implements AutoCloseable {
    static final int FRAME_METHOD = 1;
    static final int FRAME_HEADER = 2;
    static final int FRAME_BODY = 3;
    static final int FRAME_HEARTBEAT = 8;

    private final String name;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Names names;
    private final List<String> lines = new ArrayList<>();
    /** How many lines {@code expect} has matched already: an expectation looks only after them. */
    private int matched;
    private long lastFrameAt = System.nanoTime();
    private String ending;
    private final Thread reader;
    /** Content being assembled per channel: the header line, the body so far and the size still due. */
    private final Map<Integer, Content> contents = new LinkedHashMap<>();
    /** Per channel, the highest delivery tag a publisher confirm has settled (reader thread only). */
    private final Map<Integer, Long> confirmedUpTo = new LinkedHashMap<>();

    private static final class Content {
        final String header;
        final long size;
        final ByteBuf body = Unpooled.buffer();

        Content(String header, long size) {
            this.header = header;
            this.size = size;
        }
    }

    private TraceConnection(String name, Socket socket, Names names) throws IOException {
        this.name = name;
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.names = names;
        this.reader = new Thread(this::read, "trace-reader-" + name);
    }

    /** Connects and completes the handshake (not recorded: server properties differ by broker). */
    static TraceConnection open(String name, String host, int port, Names names) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(10_000);
        TraceConnection c = new TraceConnection(name, s, names);
        c.handshake();
        c.socket.setSoTimeout(0);
        c.reader.setDaemon(true);
        c.reader.start();
        return c;
    }

    private void handshake() throws IOException {
        out.write(new byte[] {'A', 'M', 'Q', 'P', 0, 0, 9, 1});
        expectDuringHandshake(Method.CONNECTION_START);
        Map<String, Object> capabilities = new LinkedHashMap<>();
        for (String c : List.of("publisher_confirms", "exchange_exchange_bindings", "basic.nack",
                "consumer_cancel_notify", "connection.blocked", "authentication_failure_close")) {
            capabilities.put(c, true);
        }
        Map<String, Object> client = new LinkedHashMap<>();
        client.put("product", "warren-frame-trace");
        client.put("capabilities", capabilities);
        sendMethod(0, Method.CONNECTION_START_OK, client, "PLAIN", "\0guest\0guest", "en_US");
        expectDuringHandshake(Method.CONNECTION_TUNE);
        sendMethod(0, Method.CONNECTION_TUNE_OK, 2047, 131072, 0);
        sendMethod(0, Method.CONNECTION_OPEN, "/", "", false);
        expectDuringHandshake(Method.CONNECTION_OPEN_OK);
    }

    private void expectDuringHandshake(Method expected) throws IOException {
        int type = in.readUnsignedByte();
        int channel = in.readUnsignedShort();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        in.readUnsignedByte();
        MethodFrame m = type == FRAME_METHOD ? MethodCodec.decode(channel, Unpooled.wrappedBuffer(payload)) : null;
        if (m == null || m.method() != expected) {
            throw new IOException(name + ": expected " + expected.amqpName() + " in the handshake, got "
                    + (m == null ? "a frame of type " + type : m.method().amqpName()));
        }
    }

    // ---------------------------------------------------------------- sending

    void sendMethod(int channel, Method method, Object... args) throws IOException {
        ByteBuf payload = Unpooled.buffer();
        MethodCodec.encode(payload, method, args);
        sendFrame(FRAME_METHOD, channel, payload);
    }

    /** basic.publish, its content header and one body frame. */
    void publish(int channel, Object[] publishArgs, Properties props, byte[] body) throws IOException {
        ByteBuf method = Unpooled.buffer();
        MethodCodec.encode(method, Method.BASIC_PUBLISH, publishArgs);
        ContentHeader header = ContentHeader.of(body.length, props, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        ByteBuf head = Unpooled.buffer();
        head.writeShort(ContentHeader.BASIC_CLASS).writeShort(0).writeLong(body.length);
        head.writeBytes(header.rawProperties(), header.rawProperties().readerIndex(), header.rawProperties().readableBytes());
        header.release();
        ByteBuf all = Unpooled.buffer();
        writeFrame(all, FRAME_METHOD, channel, method);
        writeFrame(all, FRAME_HEADER, channel, head);
        if (body.length > 0) {
            writeFrame(all, FRAME_BODY, channel, Unpooled.wrappedBuffer(body));
        }
        write(all);
    }

    private void sendFrame(int type, int channel, ByteBuf payload) throws IOException {
        ByteBuf frame = Unpooled.buffer();
        writeFrame(frame, type, channel, payload);
        write(frame);
    }

    private static void writeFrame(ByteBuf to, int type, int channel, ByteBuf payload) {
        to.writeByte(type).writeShort(channel).writeInt(payload.readableBytes()).writeBytes(payload).writeByte(0xCE);
    }

    private void write(ByteBuf bytes) throws IOException {
        byte[] b = new byte[bytes.readableBytes()];
        bytes.readBytes(b);
        try {
            out.write(b);
            out.flush();
        } catch (SocketException e) {
            record("<could not send: " + e.getMessage() + ">");
        }
    }

    // ---------------------------------------------------------------- receiving

    private void read() {
        try {
            while (true) {
                int type = in.readUnsignedByte();
                int channel = in.readUnsignedShort();
                byte[] payload = new byte[in.readInt()];
                in.readFully(payload);
                int end = in.readUnsignedByte();
                if (end != 0xCE) {
                    record("<bad frame end " + end + ">");
                }
                frame(type, channel, payload);
            }
        } catch (EOFException e) {
            end("<eof>");
        } catch (SocketException e) {
            end(socket.isClosed() ? null : e.getMessage().toLowerCase().contains("reset") ? "<reset>" : "<" + e.getMessage() + ">");
        } catch (IOException e) {
            end("<" + e + ">");
        }
    }

    private void frame(int type, int channel, byte[] payload) {
        switch (type) {
            case FRAME_METHOD -> {
                MethodFrame m;
                try {
                    m = MethodCodec.decode(channel, Unpooled.wrappedBuffer(payload));
                } catch (RuntimeException e) {
                    record(channel + " <undecodable method: " + e.getMessage() + ">");
                    return;
                }
                if (m.method() == Method.BASIC_ACK || m.method() == Method.BASIC_NACK) {
                    confirm(channel, m);
                    return;
                }
                String line = channel + " " + describe(m);
                if (m.method().hasContent()) {
                    contents.put(channel, new Content(line, -1));
                } else {
                    record(line);
                }
            }
            case FRAME_HEADER -> {
                Content c = contents.remove(channel);
                ByteBuf p = Unpooled.wrappedBuffer(payload);
                ContentHeader header = ContentHeader.decode(p);
                String line = (c == null ? channel + " <content without a method>" : c.header)
                        + " | " + describe(header.properties());
                header.release();
                Content started = new Content(line, header.bodySize());
                if (started.size == 0) {
                    record(line + " | body=");
                } else {
                    contents.put(channel, started);
                }
            }
            case FRAME_BODY -> {
                Content c = contents.get(channel);
                if (c == null || c.size < 0) {
                    record(channel + " <body frame without a header>");
                    return;
                }
                c.body.writeBytes(payload);
                if (c.body.readableBytes() >= c.size) {
                    contents.remove(channel);
                    record(c.header + " | body=" + c.body.toString(StandardCharsets.UTF_8));
                }
            }
            case FRAME_HEARTBEAT -> record(channel + " heartbeat");
            default -> record(channel + " <frame of type " + type + ">");
        }
    }

    /**
     * A publisher confirm, written as one line per message it settles: how a broker groups confirms
     * (multiple=1) depends on timing, what it confirms, and in which order, does not.
     */
    private void confirm(int channel, MethodFrame m) {
        long tag = m.longValue("delivery-tag");
        long from = m.bool("multiple") ? confirmedUpTo.getOrDefault(channel, 0L) + 1 : tag;
        for (long t = from; t <= tag; t++) {
            record(channel + " " + m.method().amqpName() + " delivery-tag=" + t);
        }
        confirmedUpTo.merge(channel, tag, Math::max);
    }

    private String describe(MethodFrame m) {
        StringBuilder sb = new StringBuilder(m.method().amqpName());
        List<Method.Field> fields = m.method().arguments();
        for (int i = 0; i < fields.size(); i++) {
            sb.append(' ').append(fields.get(i).name()).append('=').append(value(m.argument(i)));
        }
        return sb.toString();
    }

    private String describe(Properties p) {
        Map<String, Object> shown = new LinkedHashMap<>();
        shown.put("content-type", p.contentType);
        shown.put("content-encoding", p.contentEncoding);
        shown.put("headers", p.headers);
        shown.put("delivery-mode", p.deliveryMode);
        shown.put("priority", p.priority);
        shown.put("correlation-id", p.correlationId);
        shown.put("reply-to", p.replyTo);
        shown.put("expiration", p.expiration);
        shown.put("message-id", p.messageId);
        shown.put("timestamp", p.timestamp);
        shown.put("type", p.type);
        shown.put("user-id", p.userId);
        shown.put("app-id", p.appId);
        StringBuilder sb = new StringBuilder("content");
        shown.forEach((k, v) -> {
            if (v != null) {
                sb.append(' ').append(k).append('=').append(value(v));
            }
        });
        return sb.toString();
    }

    private String value(Object v) {
        if (v instanceof Boolean b) {
            return b ? "1" : "0";
        }
        if (v instanceof byte[] bytes) {
            return names.normalize(new String(bytes, StandardCharsets.UTF_8));
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            new TreeMap<>(map).forEach((k, x) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append('=').append(value(x)));
            return sb.append('}').toString();
        }
        if (v instanceof List<?> list) {
            List<String> items = new ArrayList<>();
            list.forEach(x -> items.add(value(x)));
            return items.toString();
        }
        return names.normalize(String.valueOf(v));
    }

    private synchronized void record(String line) {
        lines.add(line);
        lastFrameAt = System.nanoTime();
        notifyAll();
    }

    private synchronized void end(String how) {
        if (ending == null) {
            ending = how == null ? "<closed by the script>" : how;
            if (how != null) {
                lines.add(how);
            }
            lastFrameAt = System.nanoTime();
            notifyAll();
        }
    }

    // ---------------------------------------------------------------- waiting

    /**
     * Waits for the next line (after those matched before) that starts with {@code prefix}, e.g.
     * {@code "1 queue.declare-ok"}; writes a note into the trace when none comes within the timeout.
     */
    synchronized void expect(String prefix, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            for (int i = matched; i < lines.size(); i++) {
                if (lines.get(i).startsWith(prefix + " ") || lines.get(i).equals(prefix)) {
                    matched = i + 1;
                    return;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || ending != null) {
                lines.add(prefix.substring(0, prefix.indexOf(' ') + 1) + "<expected '" + prefix + "', nothing like it came>");
                matched = lines.size();
                return;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Waits until the broker has sent nothing for {@code millis}, counted from now at the earliest (at most 10 s in all). */
    synchronized void quiet(long millis) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + 10_000_000_000L;
        while (ending == null && System.nanoTime() < deadline) {
            long silentFor = (System.nanoTime() - Math.max(start, lastFrameAt)) / 1_000_000;
            if (silentFor >= millis) {
                return;
            }
            wait(millis - silentFor);
        }
    }

    /** Waits up to {@code millis} for the broker to end the connection; notes it if it does not. */
    synchronized void expectEnd(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (ending == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                lines.add("<still open after " + millis + " ms>");
                return;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * What the broker sent, channel by channel: AMQP orders frames within a channel only (RabbitMQ
     * writes each channel's frames from a process of its own), so lines are grouped by channel,
     * lowest first, each channel's in the order received; how the connection ended comes last.
     */
    synchronized List<String> lines() {
        TreeMap<Integer, List<String>> byChannel = new TreeMap<>();
        List<String> endings = new ArrayList<>();
        for (String line : lines) {
            int space = line.indexOf(' ');
            String channel = space > 0 ? line.substring(0, space) : "";
            if (!channel.isEmpty() && channel.chars().allMatch(Character::isDigit)) {
                byChannel.computeIfAbsent(Integer.parseInt(channel), k -> new ArrayList<>()).add(line);
            } else {
                endings.add(line);
            }
        }
        List<String> all = new ArrayList<>();
        byChannel.values().forEach(all::addAll);
        all.addAll(endings);
        return all;
    }

    String name() {
        return name;
    }

    /** Closes the socket from the client's side; frames still on their way are not recorded. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (ending == null) {
                ending = "<closed by the script>";
            }
        }
        socket.close();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
