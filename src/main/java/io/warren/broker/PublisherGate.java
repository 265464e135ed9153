package io.warren.broker;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Credit flow between publishers and one queue, as RabbitMQ's between channel and queue:
 * publishers wait only while the queue's thread is behind with taking in what they sent. How fast
 * consumers take messages never matters here: what they do not take waits in the queue (on disk
 * past its memory budget).
 */
final class PublisherGate {
    /** Messages (or body bytes) handed to the queue but not yet taken in, above which publishers stop being read... */
    private static final int INBOX_HIGH = 20_000;
    private static final long INBOX_HIGH_BYTES = 16L * 1024 * 1024;
    /** ...until it falls below these. */
    private static final int INBOX_LOW = 5_000;
    private static final long INBOX_LOW_BYTES = 4L * 1024 * 1024;

    /** Any thread: messages posted by publishers that the queue thread has not taken in yet, and their body bytes. */
    private final AtomicInteger inbox = new AtomicInteger();
    private final AtomicLong inboxBytes = new AtomicLong();
    /** Any thread adds; the queue thread runs them once the inbox is low again. */
    private final ConcurrentLinkedQueue<Runnable> paused = new ConcurrentLinkedQueue<>();

    /** Any thread: these messages were posted to the queue; returns their body bytes (for {@link #arrived}). */
    long posted(List<Message> messages) {
        long bytes = 0;
        for (int i = 0; i < messages.size(); i++) {
            bytes += messages.get(i).bodySize();
        }
        inbox.addAndGet(messages.size());
        inboxBytes.addAndGet(bytes);
        return bytes;
    }

    /** Queue thread: the queue took them in; publishers waiting for it go on once it has caught up. */
    void arrived(int messages, long bytes) {
        inbox.addAndGet(-messages);
        inboxBytes.addAndGet(-bytes);
        if (!paused.isEmpty() && caughtUp()) {
            resumeAll();
        }
    }

    boolean overloaded() {
        return inbox.get() > INBOX_HIGH || inboxBytes.get() > INBOX_HIGH_BYTES;
    }

    boolean caughtUp() {
        return inbox.get() < INBOX_LOW && inboxBytes.get() < INBOX_LOW_BYTES;
    }

    void pause(Runnable resume) {
        paused.add(resume);
    }

    /** Queue thread: lets every waiting publisher go on. */
    void resumeAll() {
        for (Runnable r; (r = paused.poll()) != null; ) {
            r.run();
        }
    }
}
