package io.warren.util;

import java.util.ArrayDeque;

/**
 * A FIFO of primitive longs in fixed-size blocks: 8 bytes per element, no boxing, and growth never
 * copies what is already stored (a queue of ten million positions must not need a 160 MB array
 * copy to grow). Not thread-safe.
 */
public final class LongRing {
    private static final int BLOCK = 1 << 16;

    private final ArrayDeque<long[]> blocks = new ArrayDeque<>();
    private int headIndex;
    private int tailIndex = BLOCK;
    private long size;

    public long size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void add(long value) {
        if (tailIndex == BLOCK) {
            blocks.addLast(new long[BLOCK]);
            tailIndex = 0;
        }
        blocks.peekLast()[tailIndex++] = value;
        size++;
    }

    public long peek() {
        if (size == 0) {
            throw new IllegalStateException("empty");
        }
        return blocks.peekFirst()[headIndex];
    }

    public long poll() {
        long value = peek();
        size--;
        headIndex++;
        if (size == 0) {
            blocks.clear();
            headIndex = 0;
            tailIndex = BLOCK;
        } else if (headIndex == BLOCK) {
            blocks.pollFirst();
            headIndex = 0;
        }
        return value;
    }

    /** Replaces every element, in order, with {@code f} applied to it. */
    public void replaceAll(java.util.function.LongUnaryOperator f) {
        int index = headIndex;
        long left = size;
        for (long[] block : blocks) {
            for (; index < BLOCK && left > 0; index++, left--) {
                block[index] = f.applyAsLong(block[index]);
            }
            index = 0;
        }
    }

    public void clear() {
        blocks.clear();
        headIndex = 0;
        tailIndex = BLOCK;
        size = 0;
    }
}
