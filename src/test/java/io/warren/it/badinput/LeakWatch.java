package io.warren.it.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Collects what Netty's leak detector reports. The detector logs an ERROR on logger
 * "io.netty.util.ResourceLeakDetector" when a tracked buffer is garbage-collected without having been
 * released, but only while tracking a later allocation; so {@link #assertNoLeaks} forces GC and then
 * allocates a few buffers to make it report. The level is paranoid (every buffer tracked): set by
 * the surefire argLine, and here too so the tests mean the same when run from an IDE.
 */
final class LeakWatch {
    private static final Logger LEAK_LOGGER = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
    private static final List<String> reports = new CopyOnWriteArrayList<>();
    private static final AppenderBase<ILoggingEvent> APPENDER = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
                reports.add(event.getFormattedMessage());
            }
        }
    };

    private LeakWatch() {
    }

    static synchronized void install() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        if (!APPENDER.isStarted()) {
            APPENDER.setContext(LEAK_LOGGER.getLoggerContext());
            APPENDER.setName("leak-watch");
            APPENDER.start();
            LEAK_LOGGER.addAppender(APPENDER);
        }
    }

    static synchronized void uninstall() {
        LEAK_LOGGER.detachAppender(APPENDER);
        APPENDER.stop();
    }

    /** Forces collection of unreachable buffers, makes the detector report, and fails on any report. */
    static void assertNoLeaks() {
        for (int round = 0; round < 4; round++) {
            System.gc();
            // The collector enqueues the leak references asynchronously; there is no event to wait on.
            pause(50);
            for (int i = 0; i < 8; i++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                ByteBuf b = PooledByteBufAllocator.DEFAULT.heapBuffer(16);
                ByteBuf c = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                a.release();
                b.release();
                c.release();
            }
        }
        List<String> found = List.copyOf(reports);
        reports.clear();
        assertThat(found).as("Netty leak reports").isEmpty();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
