package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Map;

/**
 * Reads and writes method frame payloads using only the {@link Method} table. Decoding checks every
 * length against the payload; anything malformed raises an {@link AmqpException}. Table arguments
 * are checked in full but kept encoded until asked for ({@link EncodedTable}).
 */
public final class MethodCodec {
    private MethodCodec() {
    }

    /** Decodes a method frame payload (class id, method id, arguments). */
    public static MethodFrame decode(int channel, ByteBuf payload) {
        if (payload.readableBytes() < 4) {
            throw new AmqpException(ReplyCode.FRAME_ERROR, "method frame too short: " + payload.readableBytes() + " bytes");
        }
        int classId = payload.readUnsignedShort();
        int methodId = payload.readUnsignedShort();
        Method method = Method.byId(classId, methodId);
        if (method == null) {
            throw new AmqpException(ReplyCode.COMMAND_INVALID,
                    "unknown method: class " + classId + ", method " + methodId, classId, methodId);
        }
        try {
            return new MethodFrame(channel, method, decodeArgs(method, payload));
        } catch (AmqpException e) {
            throw e.attributedTo(method);
        } catch (IndexOutOfBoundsException e) {
            // RabbitMQ: arguments that do not fit the frame are a frame error ("cannot decode").
            throw new AmqpException(ReplyCode.FRAME_ERROR, "cannot decode the arguments of " + method.amqpName(), method);
        }
    }

    private static Object[] decodeArgs(Method method, ByteBuf in) {
        Method.Field[] fields = method.fields();
        Object[] args = new Object[fields.length];
        int bitOctet = 0;
        int bitIndex = 8;
        for (int i = 0; i < fields.length; i++) {
            FieldType type = fields[i].type();
            if (type != FieldType.BIT) {
                bitIndex = 8;
            }
            if (type == FieldType.SHORTSTR || type == FieldType.LONGSTR || type == FieldType.TABLE) {
                checkLength(in, type);
            }
            switch (type) {
                case OCTET -> args[i] = (int) in.readUnsignedByte();
                case SHORT -> args[i] = in.readUnsignedShort();
                case LONG -> args[i] = in.readUnsignedInt();
                case LONGLONG, TIMESTAMP -> args[i] = in.readLong();
                case SHORTSTR -> args[i] = FieldTableCodec.readShortString(in);
                case LONGSTR -> args[i] = FieldTableCodec.readLongBytes(in);
                case TABLE -> args[i] = EncodedTable.read(in);
                case BIT -> {
                    if (bitIndex == 8) {
                        bitOctet = in.readUnsignedByte();
                        bitIndex = 0;
                    }
                    args[i] = (bitOctet & (1 << bitIndex++)) != 0;
                }
            }
        }
        return args;
    }

    /**
     * An argument whose length prefix runs past the frame cannot be decoded: 501 like RabbitMQ (thrown
     * as IndexOutOfBounds, see decode), unlike a bad value inside a well-sized table (502).
     */
    private static void checkLength(ByteBuf in, FieldType type) {
        int prefix = type == FieldType.SHORTSTR ? 1 : 4;
        long length = prefix == 1 ? in.getUnsignedByte(in.readerIndex()) : in.getUnsignedInt(in.readerIndex());
        if (length > in.readableBytes() - prefix) {
            throw new IndexOutOfBoundsException("argument length " + length + " runs past the frame");
        }
    }

    /**
     * Writes a method payload from arguments given in table order. Integers may be given as any
     * Number, longstr as byte[] or String, tables as Map.
     */
    @SuppressWarnings("unchecked")
    public static void encode(ByteBuf out, Method method, Object... args) {
        Method.Field[] fields = method.fields();
        if (args.length != fields.length) {
            throw new IllegalArgumentException(method.amqpName() + " takes " + fields.length + " arguments, got " + args.length);
        }
        out.writeShort(method.classId()).writeShort(method.methodId());
        int bitOctet = 0;
        int bitIndex = -1;
        for (int i = 0; i < fields.length; i++) {
            FieldType type = fields[i].type();
            if (type != FieldType.BIT && bitIndex >= 0) {
                out.writeByte(bitOctet);
                bitIndex = -1;
            }
            Object v = args[i];
            switch (type) {
                case OCTET -> out.writeByte(((Number) v).intValue());
                case SHORT -> out.writeShort(((Number) v).intValue());
                case LONG -> out.writeInt((int) ((Number) v).longValue());
                case LONGLONG, TIMESTAMP -> out.writeLong(((Number) v).longValue());
                case SHORTSTR -> FieldTableCodec.writeShortString(out, v == null ? "" : (String) v);
                case LONGSTR -> FieldTableCodec.writeLongBytes(out, v instanceof String s
                        ? s.getBytes(java.nio.charset.StandardCharsets.UTF_8) : (byte[]) v);
                case TABLE -> FieldTableCodec.writeTable(out, (Map<String, Object>) v);
                case BIT -> {
                    if (bitIndex < 0 || bitIndex == 8) {
                        if (bitIndex == 8) {
                            out.writeByte(bitOctet);
                        }
                        bitOctet = 0;
                        bitIndex = 0;
                    }
                    if ((Boolean) v) {
                        bitOctet |= 1 << bitIndex;
                    }
                    bitIndex++;
                }
            }
        }
        if (bitIndex >= 0) {
            out.writeByte(bitOctet);
        }
    }
}
