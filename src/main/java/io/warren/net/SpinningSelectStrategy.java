package io.warren.net;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * An event loop with nothing to do polls its sockets (epoll_wait without a timeout) for a few
 * microseconds before it goes to sleep. Under load the next frame usually arrives within that time,
 * and the loop takes it without the sleep and wake-up (a futex or epoll sleep, a context switch, on
 * a virtual machine often an inter-processor interrupt) that would cost more than the polling. A
 * task handed to the loop by another thread while it polls waits at most the polling time (the loop
 * is awake, so Netty does not signal it; it looks for tasks before it sleeps). Used by the loop's
 * own thread only.
 */
final class SpinningSelectStrategy implements SelectStrategy {
    private final long spinNanos;

    SpinningSelectStrategy(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        if (hasTasks) {
            return selectNow.get();
        }
        long deadline = System.nanoTime() + spinNanos;
        do {
            int ready = selectNow.get();
            if (ready > 0) {
                return ready;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() - deadline < 0);
        return SelectStrategy.SELECT;
    }
}
