package io.warren.protocol;

import io.netty.buffer.ByteBuf;

/**
 * One raw frame off the wire: type, channel and payload (a retained slice of the read buffer, or a
 * right-sized copy for small payloads). Whoever takes a Frame owns the payload and must release it.
 */
public record Frame(int type, int channel, ByteBuf payload) {
    public static final int METHOD = 1;
    public static final int HEADER = 2;
    public static final int BODY = 3;
    public static final int HEARTBEAT = 8;
    public static final int END = 0xCE;
    /** type, channel, size before the payload; frame-end octet after it. */
    public static final int OVERHEAD = 8;
    /** The smallest frame_max a peer may negotiate (spec: frame-min-size). */
    public static final int MIN_SIZE = 4096;

    public void release() {
        payload.release();
    }
}
