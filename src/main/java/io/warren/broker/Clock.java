package io.warren.broker;

/** The queues' clock for expiry: monotonic milliseconds, unaffected by changes of the wall clock. */
final class Clock {
    private Clock() {
    }

    static long millis() {
        return System.nanoTime() / 1_000_000;
    }
}
