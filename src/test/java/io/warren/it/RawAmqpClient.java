package io.warren.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately dumb AMQP 0-9-1 client over a plain socket, for tests that must see or send exact
 * frames (bad input, heartbeats, methods the official client hides). It has its own tiny codec so a
 * bug in the broker's codec cannot hide behind a shared one. Not thread-safe: one test thread owns it.
 *
 * <pre>{@code
 * try (RawAmqpClient c = RawAmqpClient.connect("127.0.0.1", port())) {
 *     c.handshake(0);
 *     c.openChannel(1);
 *     c.sendMethod(1, RawAmqpClient.method(60, 999).build());   // unknown method
 *     RawAmqpClient.Frame close = c.expectMethod(0, 10, 50, Duration.ofSeconds(5));
 *     assertThat(close.args().shortInt()).isEqualTo(503);
 * }
 * }</pre>
 */
public final class RawAmqpClient implements AutoCloseable {
    public static final int FRAME_METHOD = 1;
    public static final int FRAME_HEADER = 2;
    public static final int FRAME_BODY = 3;
    public static final int FRAME_HEARTBEAT = 8;
    public static final int FRAME_END = 0xCE;
    public static final byte[] PROTOCOL_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    /** Values the server offered in connection.tune, filled in by {@link #handshake}. */
    private int serverChannelMax;
    private long serverFrameMax;
    private int serverHeartbeat;

    private RawAmqpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static RawAmqpClient connect(String host, int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5000);
        return new RawAmqpClient(s);
    }

    // ---------------------------------------------------------------- sending

    /** Writes bytes as they are: a protocol header, half a frame, garbage. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void sendProtocolHeader() throws IOException {
        sendRaw(PROTOCOL_HEADER);
    }

    /** Writes one well-formed frame (type, channel, size, payload, frame-end) around any payload. */
    public void send(int frameType, int channel, byte[] payload) throws IOException {
        sendRaw(frame(frameType, channel, payload));
    }

    /** Writes one frame ending with the given octet instead of frame-end (0xCE). */
    public void send(int frameType, int channel, byte[] payload, int frameEnd) throws IOException {
        sendRaw(frame(frameType, channel, payload, frameEnd));
    }

    /** The bytes of one frame, for tests that want to split or corrupt them. */
    public static byte[] frame(int frameType, int channel, byte[] payload) {
        return frame(frameType, channel, payload, FRAME_END);
    }

    /** The bytes of one frame ending with the given octet. */
    public static byte[] frame(int frameType, int channel, byte[] payload, int frameEnd) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.put((byte) frameType).putShort((short) channel).putInt(payload.length).put(payload).put((byte) frameEnd);
        return b.array();
    }

    public void sendMethod(int channel, byte[] methodPayload) throws IOException {
        send(FRAME_METHOD, channel, methodPayload);
    }

    public void sendHeartbeat() throws IOException {
        send(FRAME_HEARTBEAT, 0, new byte[0]);
    }

    /** A content header frame payload with no properties set. */
    public static byte[] contentHeader(int classId, long bodySize) {
        return contentHeader(classId, bodySize, 0, new byte[0]);
    }

    /** A content header frame payload with the given property flags and (encoded) property list. */
    public static byte[] contentHeader(int classId, long bodySize, int propertyFlags, byte[] properties) {
        return ByteBuffer.allocate(14 + properties.length).putShort((short) classId).putShort((short) 0)
                .putLong(bodySize).putShort((short) propertyFlags).put(properties).array();
    }

    /** basic.publish alone (no mandatory/immediate), without its header and body. */
    public void basicPublish(int channel, String exchange, String routingKey) throws IOException {
        sendMethod(channel, method(60, 40).shortInt(0).shortStr(exchange).shortStr(routingKey).bits(false, false).build());
    }

    /** basic.publish, its header and one body frame on a channel. */
    public void publish(int channel, String exchange, String routingKey, byte[] body) throws IOException {
        basicPublish(channel, exchange, routingKey);
        send(FRAME_HEADER, channel, contentHeader(60, body.length));
        if (body.length > 0) {
            send(FRAME_BODY, channel, body);
        }
    }

    // ---------------------------------------------------------------- receiving

    /**
     * The next frame, or null when none starts within the timeout. Throws EOFException when the
     * server has closed the socket.
     */
    public Frame readFrame(Duration timeout) throws IOException {
        int type;
        try {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            type = in.read();
        } catch (SocketTimeoutException e) {
            return null;
        } catch (SocketException e) {
            throw new EOFException("socket closed: " + e.getMessage());
        }
        if (type < 0) {
            throw new EOFException("server closed the connection");
        }
        socket.setSoTimeout(10_000); // the rest of a started frame must follow promptly
        int channel = in.readUnsignedShort();
        int size = in.readInt();
        byte[] payload = new byte[size];
        in.readFully(payload);
        int end = in.readUnsignedByte();
        if (end != FRAME_END) {
            throw new IOException("bad frame-end octet 0x" + Integer.toHexString(end));
        }
        return new Frame(type, channel, payload);
    }

    /** The next frame that is not a heartbeat, or null on timeout. */
    public Frame readNonHeartbeat(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Frame f = readFrame(Duration.ofNanos(left));
            if (f == null || f.type() != FRAME_HEARTBEAT) {
                return f;
            }
        }
    }

    /** Reads past heartbeats and fails unless the next frame is the given method on the given channel. */
    public Frame expectMethod(int channel, int classId, int methodId, Duration timeout) throws IOException {
        Frame f = readNonHeartbeat(timeout);
        if (f == null) {
            throw new AssertionError("no frame within " + timeout + ", expected method " + classId + "." + methodId);
        }
        if (!f.isMethod(classId, methodId) || f.channel() != channel) {
            throw new AssertionError("expected method " + classId + "." + methodId + " on channel " + channel
                    + ", got " + f);
        }
        return f;
    }

    /** The arguments of a connection.close from the server. */
    public record Close(int replyCode, String replyText, int classId, int methodId) {
    }

    /**
     * Reads (and drops) frames, heartbeats included, until connection.close on channel 0; answers it
     * with close-ok and returns it. Fails when no frame arrives for 10 s or the server closes the socket.
     */
    public Close awaitConnectionClose() throws IOException {
        Duration patience = Duration.ofSeconds(10);
        while (true) {
            Frame f = readFrame(patience);
            if (f == null) {
                throw new AssertionError("no frame within " + patience + ", expected connection.close");
            }
            if (f.channel() == 0 && f.isMethod(10, 50)) {
                Args a = f.args();
                Close close = new Close(a.shortInt(), a.shortStr(), a.shortInt(), a.shortInt());
                try {
                    sendMethod(0, method(10, 51).build());
                } catch (IOException ignored) {
                    // the server may already have closed the socket
                }
                return close;
            }
        }
    }

    /** Exactly n bytes as they come (e.g. the server's protocol header); fails after 10 s without them. */
    public byte[] readExactly(int n) throws IOException {
        socket.setSoTimeout(10_000);
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /**
     * Reads (and drops) frames until the server closes the socket; true if it did so within the
     * timeout. Note that this client never answers a connection.close, so a broker that waits for
     * close-ok closes the socket only after its own timeout.
     */
    public boolean awaitServerClose(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                readFrame(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
            }
            return false;
        } catch (EOFException e) {
            return true;
        } catch (SocketException e) {
            return true; // connection reset
        }
    }

    /** Like {@link #awaitServerClose} but answers connection.close with close-ok, as a client should. */
    public boolean closeOkAndAwaitServerClose(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                Frame f = readFrame(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
                if (f != null && f.isMethod(10, 50)) {
                    sendMethod(0, method(10, 51).build());
                }
            }
            return false;
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    // ---------------------------------------------------------------- handshake

    /** Handshake as guest/guest on vhost "/" with the given heartbeat (seconds, 0 for none). */
    public void handshake(int heartbeat) throws IOException {
        handshake("guest", "guest", "/", heartbeat);
    }

    /**
     * Protocol header, start / start-ok (PLAIN), tune / tune-ok (accepting the server's channel_max
     * and frame_max, proposing the given heartbeat), open / open-ok.
     */
    public void handshake(String user, String password, String vhost, int heartbeat) throws IOException {
        handshakeUpToTune(user, password);
        tuneOk(serverChannelMax, serverFrameMax, heartbeat);
        connectionOpen(vhost);
    }

    /** As guest/guest: {@link #handshakeUpToTune(String, String)}. */
    public void handshakeUpToTune() throws IOException {
        handshakeUpToTune("guest", "guest");
    }

    /**
     * Protocol header, start / start-ok (PLAIN); returns after reading connection.tune (its values are
     * then in {@link #serverChannelMax()} etc.). Tune-ok is the caller's, for tests that ask for odd limits.
     */
    public void handshakeUpToTune(String user, String password) throws IOException {
        Duration t = Duration.ofSeconds(5);
        sendProtocolHeader();
        expectMethod(0, 10, 10, t);
        Map<String, Object> capabilities = new LinkedHashMap<>();
        capabilities.put("authentication_failure_close", true);
        capabilities.put("consumer_cancel_notify", true);
        Map<String, Object> clientProperties = new LinkedHashMap<>();
        clientProperties.put("product", "RawAmqpClient");
        clientProperties.put("capabilities", capabilities);
        byte[] response = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
        sendMethod(0, method(10, 11).table(clientProperties).shortStr("PLAIN").longStr(response).shortStr("en_US").build());
        Frame tune = readNonHeartbeat(t);
        if (tune == null || !tune.isMethod(10, 30)) {
            throw new AssertionError("expected connection.tune, got " + tune);
        }
        Args a = tune.args();
        serverChannelMax = a.shortInt();
        serverFrameMax = a.longInt();
        serverHeartbeat = a.shortInt();
    }

    public void tuneOk(int channelMax, long frameMax, int heartbeat) throws IOException {
        sendMethod(0, method(10, 31).shortInt(channelMax).longInt(frameMax).shortInt(heartbeat).build());
    }

    /** connection.open on the vhost, then waits for open-ok. */
    public void connectionOpen(String vhost) throws IOException {
        sendMethod(0, method(10, 40).shortStr(vhost).shortStr("").bits(false).build());
        expectMethod(0, 10, 41, Duration.ofSeconds(5));
    }

    public void openChannel(int channel) throws IOException {
        sendMethod(channel, method(20, 10).shortStr("").build());
        expectMethod(channel, 20, 11, Duration.ofSeconds(5));
    }

    public int serverChannelMax() { return serverChannelMax; }
    public long serverFrameMax() { return serverFrameMax; }
    public int serverHeartbeat() { return serverHeartbeat; }

    /** Closes the socket at once with an RST, as a crashed client would. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    // ---------------------------------------------------------------- frames and method payloads

    /** One frame as read from the wire. */
    public record Frame(int type, int channel, byte[] payload) {
        public boolean isMethod(int classId, int methodId) {
            return type == FRAME_METHOD && classId() == classId && methodId() == methodId;
        }

        public int classId() {
            return type == FRAME_METHOD && payload.length >= 4 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }

        public int methodId() {
            return type == FRAME_METHOD && payload.length >= 4 ? ((payload[2] & 0xFF) << 8) | (payload[3] & 0xFF) : -1;
        }

        /** A reader over a method's arguments (after the class and method ids). */
        public Args args() {
            return new Args(payload, 4);
        }

        @Override
        public String toString() {
            return switch (type) {
                case FRAME_METHOD -> "method " + classId() + "." + methodId() + " on channel " + channel;
                case FRAME_HEARTBEAT -> "heartbeat on channel " + channel;
                default -> "frame type " + type + " on channel " + channel + " (" + payload.length + " bytes)";
            };
        }
    }

    /** Starts a method payload: class id and method id, then arguments in the spec's order. */
    public static MethodBuilder method(int classId, int methodId) {
        return new MethodBuilder(classId, methodId);
    }

    /**
     * Starts a payload without class and method ids, built the same way: a content header, a field
     * table's content, a property list.
     */
    public static MethodBuilder payload() {
        return new MethodBuilder();
    }

    /**
     * Builds a method payload argument by argument. Consecutive bits go in one {@link #bits} call
     * (the spec packs them into octets).
     */
    public static final class MethodBuilder {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final DataOutputStream data = new DataOutputStream(bytes);

        private MethodBuilder() {
        }

        private MethodBuilder(int classId, int methodId) {
            shortInt(classId);
            shortInt(methodId);
        }

        public MethodBuilder octet(int v) { return write(() -> data.writeByte(v)); }
        public MethodBuilder shortInt(int v) { return write(() -> data.writeShort(v)); }
        public MethodBuilder longInt(long v) { return write(() -> data.writeInt((int) v)); }
        public MethodBuilder longLong(long v) { return write(() -> data.writeLong(v)); }

        public MethodBuilder shortStr(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return write(() -> {
                data.writeByte(b.length);
                data.write(b);
            });
        }

        public MethodBuilder longStr(byte[] b) {
            return write(() -> {
                data.writeInt(b.length);
                data.write(b);
            });
        }

        public MethodBuilder longStr(String s) {
            return longStr(s.getBytes(StandardCharsets.UTF_8));
        }

        public MethodBuilder bits(boolean... bits) {
            return write(() -> {
                for (int i = 0; i < bits.length; i += 8) {
                    int octet = 0;
                    for (int j = 0; j < 8 && i + j < bits.length; j++) {
                        if (bits[i + j]) {
                            octet |= 1 << j;
                        }
                    }
                    data.writeByte(octet);
                }
            });
        }

        public MethodBuilder table(Map<String, Object> table) {
            return raw(encodeTable(table));
        }

        /** A field table whose content is the given bytes (well-formed or not), with the right length prefix. */
        public MethodBuilder table(byte[] content) {
            return longInt(content.length).raw(content);
        }

        /** Appends bytes as they are (e.g. a malformed table). */
        public MethodBuilder raw(byte[] b) {
            return write(() -> data.write(b));
        }

        public byte[] build() {
            return bytes.toByteArray();
        }

        private MethodBuilder write(IoAction action) {
            try {
                action.run();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return this;
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /**
     * A field table with its 4-byte length prefix. Values: String (S), Boolean (t), Byte (b),
     * Short (s), Integer (I), Long (l), Float (f), Double (d), byte[] (x), Map (F), List (A), null (V).
     */
    public static byte[] encodeTable(Map<String, Object> table) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(body);
        try {
            for (Map.Entry<String, Object> e : table.entrySet()) {
                byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
                d.writeByte(key.length);
                d.write(key);
                writeValue(d, e.getValue());
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            new DataOutputStream(all).writeInt(body.size());
            body.writeTo(all);
            return all.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(DataOutputStream d, Object v) throws IOException {
        if (v == null) {
            d.writeByte('V');
        } else if (v instanceof String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            d.writeByte('S');
            d.writeInt(b.length);
            d.write(b);
        } else if (v instanceof Boolean b) {
            d.writeByte('t');
            d.writeByte(b ? 1 : 0);
        } else if (v instanceof Byte b) {
            d.writeByte('b');
            d.writeByte(b);
        } else if (v instanceof Short s) {
            d.writeByte('s');
            d.writeShort(s);
        } else if (v instanceof Integer i) {
            d.writeByte('I');
            d.writeInt(i);
        } else if (v instanceof Long l) {
            d.writeByte('l');
            d.writeLong(l);
        } else if (v instanceof Float f) {
            d.writeByte('f');
            d.writeFloat(f);
        } else if (v instanceof Double x) {
            d.writeByte('d');
            d.writeDouble(x);
        } else if (v instanceof byte[] b) {
            d.writeByte('x');
            d.writeInt(b.length);
            d.write(b);
        } else if (v instanceof Map<?, ?> m) {
            d.writeByte('F');
            d.write(encodeTable((Map<String, Object>) m));
        } else if (v instanceof List<?> list) {
            ByteArrayOutputStream items = new ByteArrayOutputStream();
            DataOutputStream id = new DataOutputStream(items);
            for (Object item : list) {
                writeValue(id, item);
            }
            d.writeByte('A');
            d.writeInt(items.size());
            items.writeTo(d);
        } else {
            throw new IllegalArgumentException("no field type for " + v.getClass());
        }
    }

    /** Reads a method's arguments in order. Bits: call {@link #bits(int)} once for a run of them. */
    public static final class Args {
        private final ByteBuffer b;

        Args(byte[] payload, int offset) {
            b = ByteBuffer.wrap(payload);
            b.position(offset);
        }

        public int octet() { return b.get() & 0xFF; }
        public int shortInt() { return b.getShort() & 0xFFFF; }
        public long longInt() { return b.getInt() & 0xFFFFFFFFL; }
        public long longLong() { return b.getLong(); }

        public String shortStr() {
            byte[] s = new byte[octet()];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        public byte[] longStr() {
            byte[] s = new byte[b.getInt()];
            b.get(s);
            return s;
        }

        public boolean[] bits(int count) {
            boolean[] out = new boolean[count];
            for (int i = 0; i < count; i += 8) {
                int octet = octet();
                for (int j = 0; j < 8 && i + j < count; j++) {
                    out[i + j] = (octet & (1 << j)) != 0;
                }
            }
            return out;
        }

        public Map<String, Object> table() {
            int length = b.getInt();
            int end = b.position() + length;
            Map<String, Object> map = new LinkedHashMap<>();
            while (b.position() < end) {
                String key = shortStr();
                map.put(key, value());
            }
            return map;
        }

        public int remaining() {
            return b.remaining();
        }

        private Object value() {
            char type = (char) (b.get() & 0xFF);
            return switch (type) {
                case 't' -> b.get() != 0;
                case 'b' -> b.get();
                case 'B' -> b.get() & 0xFF;
                case 's' -> b.getShort();
                case 'u' -> b.getShort() & 0xFFFF;
                case 'I' -> b.getInt();
                case 'i' -> b.getInt() & 0xFFFFFFFFL;
                case 'l', 'L' -> b.getLong();
                case 'f' -> b.getFloat();
                case 'd' -> b.getDouble();
                case 'D' -> {
                    int scale = b.get() & 0xFF;
                    yield new BigDecimal(BigInteger.valueOf(b.getInt()), scale);
                }
                case 'T' -> b.getLong();
                case 'S' -> new String(longStr(), StandardCharsets.UTF_8);
                case 'x' -> longStr();
                case 'F' -> table();
                case 'A' -> {
                    int length = b.getInt();
                    int end = b.position() + length;
                    List<Object> items = new ArrayList<>();
                    while (b.position() < end) {
                        items.add(value());
                    }
                    yield items;
                }
                case 'V' -> null;
                default -> throw new IllegalStateException("unknown field type '" + type + "'");
            };
        }
    }

    /** For tests that need to read the socket directly (e.g. the server's protocol header reply). */
    public InputStream input() {
        return in;
    }
}
