package io.warren.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A field table argument of a method, kept as its encoded entries: checked in full when the method
 * is read (the same checks, in the same order, with the same errors as {@link
 * FieldTableCodec#readTable}), decoded only when asked for. Most tables are empty, and of a
 * client's dozen properties the broker reads five: decoding them all was the largest allocation of
 * an AMQP handshake. Immutable.
 */
final class EncodedTable {
    static final EncodedTable EMPTY = new EncodedTable(new byte[0]);

    /** The entries (key, type, value...) without the table's length prefix. */
    private final byte[] entries;

    private EncodedTable(byte[] entries) {
        this.entries = entries;
    }

    /** Reads and checks a table (length prefix, then entries), leaving {@code in} after it. */
    static EncodedTable read(ByteBuf in) {
        long length = in.readUnsignedInt();
        if (length > in.readableBytes()) {
            throw FieldTableCodec.malformed("field table length " + length + " exceeds the "
                    + in.readableBytes() + " bytes left");
        }
        int start = in.readerIndex();
        int end = start + (int) length;
        while (in.readerIndex() < end) {
            skipShortString(in, end);
            skipValue(in, end);
        }
        return length == 0 ? EMPTY : new EncodedTable(ByteBufUtil.getBytes(in, start, (int) length));
    }

    /** The whole table, decoded afresh (the caller owns the map). */
    public Map<String, Object> decode() {
        ByteBuf table = Unpooled.wrappedBuffer(entries);
        Map<String, Object> map = new LinkedHashMap<>();
        while (table.isReadable()) {
            String key = FieldTableCodec.readShortString(table);
            map.put(key, FieldTableCodec.readValue(table));
        }
        return map;
    }

    /** The value of a key, or null when absent: {@code decode().get(key)}, decoding that value alone. */
    public Object find(String key) {
        return find(key, null);
    }

    /**
     * The value of a key inside the nested table of another key, or null when either is absent (or
     * the first names no table): {@code decode().get(tableKey).get(key)}, decoding that value alone.
     * As in a decoded map, the last of repeated keys wins.
     */
    public Object find(String tableKey, String key) {
        int end = entries.length;
        int valueAt = lastValueOf(0, end, tableKey);
        if (valueAt >= 0 && key != null) {
            if (entries[valueAt] != 'F') {
                return null;
            }
            end = valueEnd(valueAt);
            valueAt = lastValueOf(valueAt + 5, end, key);
        }
        if (valueAt < 0) {
            return null;
        }
        return valueAt(valueAt);
    }

    /** The value at its type octet: booleans and long strings (what clients' properties hold) directly. */
    private Object valueAt(int at) {
        return switch (entries[at]) {
            case 't' -> entries[at + 1] != 0;
            case 'S' -> new FieldValues.LongString(Arrays.copyOfRange(entries, at + 5, valueEnd(at)));
            default -> FieldTableCodec.readValue(Unpooled.wrappedBuffer(entries).readerIndex(at));
        };
    }

    /** Where the value (its type octet) of the last entry with this key in [from, end) is, or -1. */
    private int lastValueOf(int from, int end, String key) {
        int found = -1;
        for (int at = from; at < end; ) {
            int length = entries[at] & 0xff;
            int valueAt = at + 1 + length;
            if (isKey(at + 1, length, key)) {
                found = valueAt;
            }
            at = valueEnd(valueAt);
        }
        return found;
    }

    /** Where the (already checked) value starting at its type octet ends. */
    private int valueEnd(int at) {
        return switch (entries[at]) {
            case 't', 'b', 'B' -> at + 2;
            case 's', 'u' -> at + 3;
            case 'I', 'i', 'f' -> at + 5;
            case 'D' -> at + 6;
            case 'l', 'd', 'T' -> at + 9;
            case 'S', 'x', 'A', 'F' -> at + 5 + ((entries[at + 1] & 0xff) << 24 | (entries[at + 2] & 0xff) << 16
                    | (entries[at + 3] & 0xff) << 8 | entries[at + 4] & 0xff);
            default -> at + 1; // 'V'; read() let no other type through
        };
    }

    /** True when the key's UTF-8 is at {@code at} (ASCII keys are compared without encoding them). */
    private boolean isKey(int at, int length, String key) {
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) >= 0x80) {
                byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
                return Arrays.equals(entries, at, at + length, utf8, 0, utf8.length);
            }
        }
        if (length != key.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (entries[at + i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    // The checks of FieldTableCodec.readShortString / readValue / readTable, against an end index
    // instead of the end of a slice, so that checking allocates nothing.

    private static void skipShortString(ByteBuf in, int end) {
        need(in, end, 1);
        int length = in.readUnsignedByte();
        need(in, end, length);
        in.skipBytes(length);
    }

    private static void skipValue(ByteBuf in, int end) {
        need(in, end, 1);
        byte type = in.readByte();
        switch (type) {
            case 't', 'b', 'B' -> skip(in, end, 1);
            case 's', 'u' -> skip(in, end, 2);
            case 'I', 'i', 'f' -> skip(in, end, 4);
            case 'l', 'd', 'T' -> skip(in, end, 8);
            case 'D' -> skip(in, end, 5);
            case 'S', 'x' -> {
                need(in, end, 4);
                in.skipBytes(checkedLength(in, end, "long string"));
            }
            case 'A' -> {
                need(in, end, 4);
                int length = checkedLength(in, end, "field array");
                int arrayEnd = in.readerIndex() + length;
                while (in.readerIndex() < arrayEnd) {
                    skipValue(in, arrayEnd);
                }
            }
            case 'F' -> {
                if (end - in.readerIndex() < 4) {
                    // readTable reads this length unchecked: a frame error ("cannot decode"), not 502.
                    throw new IndexOutOfBoundsException("nested table length runs past its table");
                }
                int length = checkedLength(in, end, "field table");
                int tableEnd = in.readerIndex() + length;
                while (in.readerIndex() < tableEnd) {
                    skipShortString(in, tableEnd);
                    skipValue(in, tableEnd);
                }
            }
            case 'V' -> { }
            default -> throw FieldTableCodec.malformed("unknown field table value type '"
                    + FieldTableCodec.printable(type) + "'");
        }
    }

    /** Reads a 32-bit length that must fit before end; the reader index is then after the length. */
    private static int checkedLength(ByteBuf in, int end, String what) {
        long length = in.readUnsignedInt();
        int left = end - in.readerIndex();
        if (length > left) {
            throw FieldTableCodec.malformed(what + " length " + length + " exceeds the " + left + " bytes left");
        }
        return (int) length;
    }

    private static void skip(ByteBuf in, int end, int bytes) {
        need(in, end, bytes);
        in.skipBytes(bytes);
    }

    private static void need(ByteBuf in, int end, int bytes) {
        int left = end - in.readerIndex();
        if (left < bytes) {
            throw FieldTableCodec.malformed("field value needs " + bytes + " bytes, " + left + " left");
        }
    }

    @Override
    public String toString() {
        return decode().toString();
    }
}
