package io.warren.util;

import java.util.Arrays;

/**
 * An open-addressing map from non-negative longs to non-negative longs (the body store's
 * forwarding of moved bodies): linear probing, and removal by shifting the following entries back,
 * so that no tombstones pile up in a map that keeps changing. Not thread-safe.
 */
public final class LongLongMap {
    /** What {@link #get} and {@link #remove} return for a missing key; also marks a free slot. */
    public static final long MISSING = -1;

    private long[] keys = newKeys(16);
    private long[] values = new long[16];
    private int size;

    private static long[] newKeys(int capacity) {
        long[] k = new long[capacity];
        Arrays.fill(k, MISSING);
        return k;
    }

    public int size() {
        return size;
    }

    /** The value for {@code key}, or {@link #MISSING}. */
    public long get(long key) {
        int i = slot(keys, key);
        return keys[i] == key ? values[i] : MISSING;
    }

    /** Maps {@code key} (not negative) to {@code value}, replacing what it had. */
    public void put(long key, long value) {
        if (key < 0) {
            throw new IllegalArgumentException("negative key " + key);
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = slot(keys, key);
        if (keys[i] != key) {
            keys[i] = key;
            size++;
        }
        values[i] = value;
    }

    /** Removes {@code key}; returns its value, or {@link #MISSING}. */
    public long remove(long key) {
        int hole = slot(keys, key);
        if (keys[hole] != key) {
            return MISSING;
        }
        long removed = values[hole];
        int mask = keys.length - 1;
        // Entries after the hole that probed past it move back into it (their lookups must not stop early).
        for (int i = (hole + 1) & mask; keys[i] != MISSING; i = (i + 1) & mask) {
            int home = mix(keys[i]) & mask;
            if (((i - home) & mask) >= ((i - hole) & mask)) {
                keys[hole] = keys[i];
                values[hole] = values[i];
                hole = i;
            }
        }
        keys[hole] = MISSING;
        size--;
        return removed;
    }

    public void clear() {
        Arrays.fill(keys, MISSING);
        size = 0;
    }

    /** The slot holding {@code key}, or the free slot where it would go. */
    private static int slot(long[] keys, long key) {
        int mask = keys.length - 1;
        int i = mix(key) & mask;
        while (keys[i] != MISSING && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = newKeys(oldKeys.length * 2);
        values = new long[keys.length];
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != MISSING) {
                int i = slot(keys, oldKeys[j]);
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static int mix(long v) {
        long h = v * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
