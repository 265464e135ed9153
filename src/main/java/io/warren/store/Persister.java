package io.warren.store;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one node-wide thread that fsyncs every file written since its last round, then runs
 * the callbacks waiting for those writes (publisher confirms, tx.commit-ok). While one fsync runs,
 * the next round's requests gather, so one fsync covers the appends of every connection. Without
 * waiters, written files are still synced within {@code flushInterval}.
 */
public final class Persister implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Persister.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final long flushIntervalNanos;
    private final Thread thread;
    // Guarded by lock.
    private Map<FileChannel, Boolean> dirty = new IdentityHashMap<>();
    private List<SyncCallback> waiters = new ArrayList<>();
    private List<FileChannel> toClose = new ArrayList<>();
    private boolean stopping;

    public Persister(long flushIntervalMillis) {
        this.flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(flushIntervalMillis);
        this.thread = new Thread(this::run, "warren-persister");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Any thread: the file has writes that the next round must sync. */
    public void written(FileChannel file) {
        lock.lock();
        try {
            dirty.put(file, Boolean.TRUE);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Any thread: runs {@code done} (on the persister thread; keep it to a hand-off) once everything
     * written before this call is on disk.
     */
    public void afterSync(SyncCallback done) {
        lock.lock();
        try {
            waiters.add(done);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Called once the writes it waited for are on disk ({@code ok}) or could not be synced. */
    @FunctionalInterface
    public interface SyncCallback {
        void synced(boolean ok);
    }

    /** Any thread: syncs the file one last time, then closes it (a retired segment). */
    public void syncAndClose(FileChannel file) {
        lock.lock();
        try {
            dirty.put(file, Boolean.TRUE);
            toClose.add(file);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            Map<FileChannel, Boolean> files;
            List<SyncCallback> done;
            List<FileChannel> closing;
            lock.lock();
            try {
                while (waiters.isEmpty() && toClose.isEmpty() && !stopping) {
                    if (!dirty.isEmpty()) {
                        if (work.awaitNanos(flushIntervalNanos) <= 0) {
                            break;
                        }
                    } else {
                        work.await();
                    }
                }
                if (stopping && waiters.isEmpty() && dirty.isEmpty() && toClose.isEmpty()) {
                    return;
                }
                files = dirty;
                done = waiters;
                closing = toClose;
                dirty = new IdentityHashMap<>();
                waiters = new ArrayList<>();
                toClose = new ArrayList<>();
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            boolean ok = true;
            for (FileChannel f : files.keySet()) {
                ok &= sync(f);
            }
            for (FileChannel f : closing) {
                try {
                    f.close();
                } catch (IOException e) {
                    log.warn("Could not close a retired segment: {}", e.toString());
                }
            }
            for (SyncCallback r : done) {
                try {
                    r.synced(ok);
                } catch (RuntimeException e) {
                    log.error("A callback after fsync failed", e);
                }
            }
        }
    }

    private static boolean sync(FileChannel f) {
        try {
            f.force(false);
            return true;
        } catch (ClosedChannelException e) {
            // The segment was deleted after all its messages were acked: nothing left to sync.
            return true;
        } catch (IOException e) {
            // The writes waiting on this round are nacked rather than confirmed.
            log.error("fsync failed: {}. Publishers get basic.nack for the messages it covered; check the disk", e.toString());
            return false;
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            stopping = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
