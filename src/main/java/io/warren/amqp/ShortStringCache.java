package io.warren.amqp;

import io.netty.buffer.ByteBuf;
import io.warren.protocol.AmqpException;
import io.warren.protocol.FieldTableCodec;
import io.warren.protocol.ReplyCode;

/**
 * Reads a short string, returning the previous String when the bytes are the same as last time, so
 * that publishing to one exchange with one routing key allocates no strings per message.
 */
final class ShortStringCache {
    private static final byte[] EMPTY = {};

    private byte[] lastBytes = EMPTY;
    private String last = "";

    String read(ByteBuf in) {
        int length = in.readUnsignedByte();
        if (length > in.readableBytes()) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "short string of " + length + " bytes runs past the frame");
        }
        if (length == lastBytes.length && sameBytes(in, length)) {
            in.skipBytes(length);
            return last;
        }
        in.readerIndex(in.readerIndex() - 1);
        String s = FieldTableCodec.readShortString(in);
        byte[] bytes = new byte[length];
        in.getBytes(in.readerIndex() - length, bytes);
        lastBytes = bytes;
        last = s;
        return s;
    }

    private boolean sameBytes(ByteBuf in, int length) {
        int at = in.readerIndex();
        for (int i = 0; i < length; i++) {
            if (in.getByte(at + i) != lastBytes[i]) {
                return false;
            }
        }
        return true;
    }
}
