package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes field tables and arrays (RabbitMQ's type letters, which differ from the 0-9-1
 * spec's errata: 's' is a signed short, 'l' a signed long long). A value read writes back with the
 * same type letter (see {@link FieldValues}). Bad type letters or lengths raise a 502 SYNTAX_ERROR.
 */
public final class FieldTableCodec {
    private FieldTableCodec() {
    }

    public static Map<String, Object> readTable(ByteBuf in) {
        long length = in.readUnsignedInt();
        if (length > in.readableBytes()) {
            throw malformed("field table length " + length + " exceeds the " + in.readableBytes() + " bytes left");
        }
        ByteBuf table = in.readSlice((int) length);
        Map<String, Object> map = new LinkedHashMap<>();
        while (table.isReadable()) {
            String key = readShortString(table);
            map.put(key, readValue(table));
        }
        return map;
    }

    static Object readValue(ByteBuf in) {
        need(in, 1);
        byte type = in.readByte();
        switch (type) {
            case 't': need(in, 1); return in.readByte() != 0;
            case 'b': need(in, 1); return in.readByte();
            case 'B': need(in, 1); return new FieldValues.UByte(in.readUnsignedByte());
            case 's': need(in, 2); return in.readShort();
            case 'u': need(in, 2); return new FieldValues.UShort(in.readUnsignedShort());
            case 'I': need(in, 4); return in.readInt();
            case 'i': need(in, 4); return new FieldValues.UInt(in.readUnsignedInt());
            case 'l': need(in, 8); return in.readLong();
            case 'f': need(in, 4); return in.readFloat();
            case 'd': need(in, 8); return in.readDouble();
            case 'D': {
                need(in, 5);
                int scale = in.readUnsignedByte();
                return new BigDecimal(BigInteger.valueOf(in.readInt()), scale);
            }
            case 'S': return new FieldValues.LongString(readLongBytes(in));
            case 'x': return readLongBytes(in);
            case 'A': return readArray(in);
            case 'T': need(in, 8); return new FieldValues.Timestamp(in.readLong());
            case 'F': return readTable(in);
            case 'V': return null;
            default: throw malformed("unknown field table value type '" + printable(type) + "'");
        }
    }

    private static List<Object> readArray(ByteBuf in) {
        need(in, 4);
        long length = in.readUnsignedInt();
        if (length > in.readableBytes()) {
            throw malformed("field array length " + length + " exceeds the " + in.readableBytes() + " bytes left");
        }
        ByteBuf array = in.readSlice((int) length);
        List<Object> list = new ArrayList<>();
        while (array.isReadable()) {
            list.add(readValue(array));
        }
        return list;
    }

    static byte[] readLongBytes(ByteBuf in) {
        need(in, 4);
        long length = in.readUnsignedInt();
        if (length > in.readableBytes()) {
            throw malformed("long string length " + length + " exceeds the " + in.readableBytes() + " bytes left");
        }
        byte[] bytes = new byte[(int) length];
        in.readBytes(bytes);
        return bytes;
    }

    public static String readShortString(ByteBuf in) {
        need(in, 1);
        int length = in.readUnsignedByte();
        need(in, length);
        String s = in.toString(in.readerIndex(), length, StandardCharsets.UTF_8);
        in.skipBytes(length);
        return s;
    }

    public static void writeShortString(ByteBuf out, String s) {
        int lengthAt = out.writerIndex();
        out.writeByte(0);
        int written = out.writeCharSequence(s, StandardCharsets.UTF_8);
        if (written > 255) {
            out.writerIndex(lengthAt);
            throw new IllegalArgumentException("short string longer than 255 bytes: " + s.substring(0, 40) + "...");
        }
        out.setByte(lengthAt, written);
    }

    public static void writeLongBytes(ByteBuf out, byte[] bytes) {
        out.writeInt(bytes.length);
        out.writeBytes(bytes);
    }

    public static void writeTable(ByteBuf out, Map<String, Object> table) {
        int lengthAt = out.writerIndex();
        out.writeInt(0);
        if (table != null) {
            for (Map.Entry<String, Object> e : table.entrySet()) {
                writeShortString(out, e.getKey());
                writeValue(out, e.getValue());
            }
        }
        out.setInt(lengthAt, out.writerIndex() - lengthAt - 4);
    }

    @SuppressWarnings("unchecked")
    static void writeValue(ByteBuf out, Object v) {
        if (v == null) {
            out.writeByte('V');
        } else if (v instanceof Boolean b) {
            out.writeByte('t').writeByte(b ? 1 : 0);
        } else if (v instanceof Byte b) {
            out.writeByte('b').writeByte(b);
        } else if (v instanceof FieldValues.UByte b) {
            out.writeByte('B').writeByte(b.value());
        } else if (v instanceof Short s) {
            out.writeByte('s').writeShort(s);
        } else if (v instanceof FieldValues.UShort s) {
            out.writeByte('u').writeShort(s.value());
        } else if (v instanceof Integer i) {
            out.writeByte('I').writeInt(i);
        } else if (v instanceof FieldValues.UInt i) {
            out.writeByte('i').writeInt((int) i.value());
        } else if (v instanceof Long l) {
            out.writeByte('l').writeLong(l);
        } else if (v instanceof Float f) {
            out.writeByte('f').writeFloat(f);
        } else if (v instanceof Double d) {
            out.writeByte('d').writeDouble(d);
        } else if (v instanceof BigDecimal d) {
            out.writeByte('D').writeByte(d.scale()).writeInt(d.unscaledValue().intValueExact());
        } else if (v instanceof String s) {
            out.writeByte('S');
            writeLongBytes(out, s.getBytes(StandardCharsets.UTF_8));
        } else if (v instanceof FieldValues.LongString s) {
            out.writeByte('S');
            writeLongBytes(out, s.bytes());
        } else if (v instanceof byte[] bytes) {
            out.writeByte('x');
            writeLongBytes(out, bytes);
        } else if (v instanceof FieldValues.Timestamp t) {
            out.writeByte('T').writeLong(t.epochSeconds());
        } else if (v instanceof Map<?, ?> m) {
            out.writeByte('F');
            writeTable(out, (Map<String, Object>) m);
        } else if (v instanceof List<?> list) {
            out.writeByte('A');
            int lengthAt = out.writerIndex();
            out.writeInt(0);
            for (Object item : list) {
                writeValue(out, item);
            }
            out.setInt(lengthAt, out.writerIndex() - lengthAt - 4);
        } else {
            throw new IllegalArgumentException("no field table type for " + v.getClass().getName());
        }
    }

    private static void need(ByteBuf in, int bytes) {
        if (in.readableBytes() < bytes) {
            throw malformed("field value needs " + bytes + " bytes, " + in.readableBytes() + " left");
        }
    }

    static String printable(byte b) {
        return b >= 32 && b < 127 ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }

    static AmqpException malformed(String what) {
        return new AmqpException(ReplyCode.SYNTAX_ERROR, what);
    }
}
