package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** The 8 octets a client sends first: "AMQP" 0 0 9 1. */
public final class ProtocolHeader {
    private static final byte[] BYTES = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    public static final int LENGTH = BYTES.length;
    /** Signals the connection handler that a valid header arrived. */
    public static final ProtocolHeader RECEIVED = new ProtocolHeader();

    private ProtocolHeader() {
    }

    public static boolean matches(ByteBuf in, int at) {
        for (int i = 0; i < LENGTH; i++) {
            if (in.getByte(at + i) != BYTES[i]) {
                return false;
            }
        }
        return true;
    }

    /** The header we answer a wrong one with, before closing: it tells the client what we speak. */
    public static ByteBuf ours() {
        return Unpooled.wrappedBuffer(BYTES);
    }
}
