package io.warren.it.badinput;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A bare AMQP 0-9-1 peer on a plain socket, so tests can send what no real client would: frames of
 * any type, size and end octet, methods with any ids and argument bytes. Frames are read back
 * as-is; {@link #awaitConnectionClose} decodes the one reply every bad-input test waits for.
 * Used by one test thread at a time.
 */
final class RawSocketClient implements AutoCloseable {
    static final byte[] AMQP_0_9_1 = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    static final int METHOD = 1;
    static final int HEADER = 2;
    static final int BODY = 3;
    static final int HEARTBEAT = 8;
    static final int FRAME_END = 0xCE;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    /** frame_max the server offered in connection.tune (0 before the handshake). */
    private long serverFrameMax;
    private int serverChannelMax;

    /** One frame as read off the wire. */
    record Frame(int type, int channel, byte[] payload) {
        int classId() { return ByteBuffer.wrap(payload).getShort(0) & 0xffff; }
        int methodId() { return ByteBuffer.wrap(payload).getShort(2) & 0xffff; }
        boolean isMethod(int c, int m) { return type == METHOD && payload.length >= 4 && classId() == c && methodId() == m; }
    }

    /** The arguments of a connection.close from the server. */
    record Close(int replyCode, String replyText, int classId, int methodId) {
    }

    private RawSocketClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** A TCP connection with nothing sent yet. */
    static RawSocketClient connect(int port) throws IOException {
        return new RawSocketClient(port);
    }

    /** A connection through connection.open-ok as guest on vhost "/", accepting the server's tune. */
    static RawSocketClient open(int port) throws IOException {
        RawSocketClient c = new RawSocketClient(port);
        c.handshake();
        return c;
    }

    long serverFrameMax() {
        return serverFrameMax;
    }

    int serverChannelMax() {
        return serverChannelMax;
    }

    void handshake() throws IOException {
        handshakeUpToTune();
        tuneOk(serverChannelMax, serverFrameMax, 0);
        connectionOpen();
    }

    /** Header, start, start-ok; returns after reading connection.tune (tune-ok is the caller's). */
    void handshakeUpToTune() throws IOException {
        send(AMQP_0_9_1);
        expectMethod(readFrame(), 10, 10);
        sendMethod(0, 10, 11, new Args()
                .table(new byte[0])
                .shortstr("PLAIN")
                .longstr("\0guest\0guest".getBytes(StandardCharsets.UTF_8))
                .shortstr("en_US").bytes());
        Frame tune = readFrame();
        expectMethod(tune, 10, 30);
        ByteBuffer b = ByteBuffer.wrap(tune.payload());
        serverChannelMax = b.getShort(4) & 0xffff;
        serverFrameMax = b.getInt(6) & 0xffffffffL;
    }

    void tuneOk(int channelMax, long frameMax, int heartbeat) throws IOException {
        sendMethod(0, 10, 31, new Args().shortInt(channelMax).longInt(frameMax).shortInt(heartbeat).bytes());
    }

    void connectionOpen() throws IOException {
        sendMethod(0, 10, 40, new Args().shortstr("/").shortstr("").octet(0).bytes());
        expectMethod(readFrame(), 10, 41);
    }

    void openChannel(int channel) throws IOException {
        sendMethod(channel, 20, 10, new Args().shortstr("").bytes());
        expectMethod(readFrame(), 20, 11);
    }

    /** basic.publish to the default exchange (no mandatory/immediate). */
    void publish(int channel, String routingKey) throws IOException {
        sendMethod(channel, 60, 40, basicPublishArgs("", routingKey));
    }

    static byte[] basicPublishArgs(String exchange, String routingKey) {
        return new Args().shortInt(0).shortstr(exchange).shortstr(routingKey).octet(0).bytes();
    }

    /** A basic content header with no properties. */
    static byte[] contentHeader(long bodySize) {
        return contentHeader(bodySize, 0, new byte[0]);
    }

    static byte[] contentHeader(long bodySize, int flags, byte[] properties) {
        return new Args().shortInt(60).shortInt(0).longlong(bodySize).shortInt(flags).raw(properties).bytes();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void sendFrame(int type, int channel, byte[] payload) throws IOException {
        sendFrame(type, channel, payload, FRAME_END);
    }

    void sendFrame(int type, int channel, byte[] payload, int end) throws IOException {
        send(frame(type, channel, payload, end));
    }

    static byte[] frame(int type, int channel, byte[] payload, int end) {
        return ByteBuffer.allocate(8 + payload.length).put((byte) type).putShort((short) channel)
                .putInt(payload.length).put(payload).put((byte) end).array();
    }

    void sendMethod(int channel, int classId, int methodId, byte[] args) throws IOException {
        sendFrame(METHOD, channel, methodPayload(classId, methodId, args));
    }

    static byte[] methodPayload(int classId, int methodId, byte[] args) {
        return ByteBuffer.allocate(4 + args.length).putShort((short) classId).putShort((short) methodId).put(args).array();
    }

    /** The next frame; fails on timeout or EOF. */
    Frame readFrame() throws IOException {
        int type = in.readUnsignedByte();
        int channel = in.readUnsignedShort();
        int size = in.readInt();
        byte[] payload = new byte[size];
        in.readFully(payload);
        int end = in.readUnsignedByte();
        if (end != FRAME_END) {
            throw new IOException("server sent a frame ending with " + end);
        }
        return new Frame(type, channel, payload);
    }

    byte[] readExactly(int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** Reads (skipping heartbeats and other frames) until connection.close, answers close-ok, returns it. */
    Close awaitConnectionClose() throws IOException {
        while (true) {
            Frame f = readFrame();
            if (f.channel() == 0 && f.isMethod(10, 50)) {
                ByteBuffer b = ByteBuffer.wrap(f.payload());
                b.position(4);
                int code = b.getShort() & 0xffff;
                byte[] text = new byte[b.get() & 0xff];
                b.get(text);
                int classId = b.getShort() & 0xffff;
                int methodId = b.getShort() & 0xffff;
                try {
                    sendMethod(0, 10, 51, new byte[0]);
                } catch (IOException ignored) {
                    // the server may already have closed the socket
                }
                return new Close(code, new String(text, StandardCharsets.UTF_8), classId, methodId);
            }
        }
    }

    /** True if the server closes the socket (EOF or reset) within the timeout; skips anything it sends first. */
    boolean awaitSocketClosed(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        InputStream raw = socket.getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (raw.read(sink) >= 0) {
                // discard
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // connection reset
        }
    }

    /** Reads until EOF; returns whether EOF was reached (as opposed to more data). */
    boolean atEof() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException e) {
            return true;
        }
    }

    void soTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Closes the socket at once with an RST, as a crashed client would. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static void expectMethod(Frame f, int classId, int methodId) throws IOException {
        if (!f.isMethod(classId, methodId)) {
            throw new IOException("expected method " + classId + "/" + methodId + ", got frame type " + f.type()
                    + (f.type() == METHOD ? " method " + f.classId() + "/" + f.methodId() : ""));
        }
    }

    /** Builds method arguments and property lists byte by byte. */
    static final class Args {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Args octet(int v) { buf.write(v); return this; }
        Args shortInt(int v) { buf.write(v >>> 8); buf.write(v); return this; }
        Args longInt(long v) { return raw(ByteBuffer.allocate(4).putInt((int) v).array()); }
        Args longlong(long v) { return raw(ByteBuffer.allocate(8).putLong(v).array()); }
        Args shortstr(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            buf.write(b.length);
            return raw(b);
        }
        Args longstr(byte[] b) { return longInt(b.length).raw(b); }
        /** A field table whose content is the given bytes, with the right length prefix. */
        Args table(byte[] content) { return longInt(content.length).raw(content); }
        Args raw(byte[] b) { buf.write(b, 0, b.length); return this; }
        byte[] bytes() { return buf.toByteArray(); }
    }
}
