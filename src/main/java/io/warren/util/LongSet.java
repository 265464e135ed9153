package io.warren.util;

/** An open-addressing set of primitive longs (for recovery's acked ids). Not thread-safe. */
public final class LongSet {
    private static final long EMPTY = Long.MIN_VALUE;

    private long[] table = newTable(1024);
    private int size;
    private boolean hasEmptyMarker;

    private static long[] newTable(int capacity) {
        long[] t = new long[capacity];
        java.util.Arrays.fill(t, EMPTY);
        return t;
    }

    public int size() {
        return size + (hasEmptyMarker ? 1 : 0);
    }

    public boolean add(long value) {
        if (value == EMPTY) {
            boolean added = !hasEmptyMarker;
            hasEmptyMarker = true;
            return added;
        }
        if ((size + 1) * 2 > table.length) {
            rehash(table.length * 2);
        }
        return insert(table, value);
    }

    private boolean insert(long[] t, long value) {
        int mask = t.length - 1;
        int i = mix(value) & mask;
        while (t[i] != EMPTY) {
            if (t[i] == value) {
                return false;
            }
            i = (i + 1) & mask;
        }
        t[i] = value;
        size++;
        return true;
    }

    public boolean contains(long value) {
        if (value == EMPTY) {
            return hasEmptyMarker;
        }
        int mask = table.length - 1;
        int i = mix(value) & mask;
        while (table[i] != EMPTY) {
            if (table[i] == value) {
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    private void rehash(int capacity) {
        long[] old = table;
        table = newTable(capacity);
        size = 0;
        for (long v : old) {
            if (v != EMPTY) {
                insert(table, v);
            }
        }
    }

    private static int mix(long v) {
        long h = v * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
