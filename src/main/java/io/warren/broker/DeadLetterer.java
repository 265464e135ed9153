package io.warren.broker;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.warren.protocol.ContentHeader;
import io.warren.protocol.FieldValues;
import io.warren.protocol.Properties;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * RabbitMQ's dead-lettering for one queue, on the queue's thread: a message that is rejected,
 * expires, overflows or passes its delivery limit is republished to the queue's dead-letter
 * exchange with an {@code x-death} history, as RabbitMQ writes it. Messages made during one queue
 * task are handed to their queues together ({@link #flush}).
 *
 * <p>Beyond RabbitMQ's classic queues: a persistent message dead-lettered from a durable queue to
 * durable queues is settled in its own queue only once the copies are on disk (at-least-once), so
 * a crash in between cannot lose it.
 */
final class DeadLetterer {
    public static final String REJECTED = "rejected";
    public static final String EXPIRED = "expired";
    public static final String MAXLEN = "maxlen";
    public static final String DELIVERY_LIMIT = "delivery_limit";

    private final VirtualHost vhost;
    private final String queueName;
    private final EventExecutor executor;
    /** Settles an original once its copies are where they must be. */
    private final Consumer<QueueEntry> settle;
    private final RouteResult route = new RouteResult();
    private final Map<Queue, List<Message>> pending = new IdentityHashMap<>();
    /** Originals whose copies must be on disk in these queues first. */
    private final List<QueueEntry> awaiting = new ArrayList<>();
    private final List<Queue> awaitingQueues = new ArrayList<>();

    DeadLetterer(VirtualHost vhost, String queueName, EventExecutor executor, Consumer<QueueEntry> settle) {
        this.vhost = vhost;
        this.queueName = queueName;
        this.executor = executor;
        this.settle = settle;
    }

    /**
     * Dead-letters one message taken out of the queue (it is settled now or after {@link #flush}).
     * Without a dead-letter exchange, or one that does not exist, the message is just dropped.
     */
    void deadLetter(QueueEntry e, String reason, String exchangeName, String routingKey) {
        Exchange exchange = exchangeName == null || vhost == null ? null : vhost.exchange(exchangeName);
        if (exchange == null) {
            settle.accept(e);
            return;
        }
        Message copy = copyOf(e.message, reason, exchangeName, routingKey);
        boolean mustSync = false;
        try {
            List<Queue> targets = vhost.route(exchange, copy, route);
            List<Map<String, Object>> deaths = deaths(copy.header());
            for (int i = 0; i < targets.size(); i++) {
                Queue q = targets.get(i);
                if (!reason.equals(REJECTED) && isCycle(q.name(), deaths)) {
                    continue; // as RabbitMQ: a cycle with no rejection in it drops the message
                }
                pending.computeIfAbsent(q, k -> new ArrayList<>()).add(copy.retain());
                if (e.position >= 0 && copy.header().persistent() && q.durable() && !q.exclusive()) {
                    mustSync = true;
                    if (!awaitingQueues.contains(q)) {
                        awaitingQueues.add(q);
                    }
                }
            }
        } finally {
            copy.release();
        }
        if (mustSync) {
            awaiting.add(e);
        } else {
            settle.accept(e);
        }
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Hands this task's copies to their queues; the originals waiting for them are settled once they are on disk. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        for (Map.Entry<Queue, List<Message>> p : pending.entrySet()) {
            p.getKey().enqueue(p.getValue());
        }
        pending.clear();
        if (awaiting.isEmpty()) {
            return;
        }
        List<QueueEntry> originals = new ArrayList<>(awaiting);
        awaiting.clear();
        int[] left = {awaitingQueues.size()};
        for (Queue q : awaitingQueues) {
            // Settled either way: a failed sync is logged by that queue, and keeping the original would duplicate it.
            q.whenDurable(executor, ok -> {
                if (--left[0] == 0) {
                    originals.forEach(settle);
                }
            });
        }
        awaitingQueues.clear();
    }

    /** The copy RabbitMQ publishes: x-death updated, expiration removed, CC dropped with a routing key of the queue's. */
    private Message copyOf(Message m, String reason, String exchangeName, String routingKey) {
        Properties p = m.header().decodeCopy();
        Map<String, Object> headers = p.headers == null ? new LinkedHashMap<>() : new LinkedHashMap<>(p.headers);
        List<Object> routingKeys = new ArrayList<>();
        routingKeys.add(m.routingKey());
        if (headers.get("CC") instanceof List<?> cc) {
            routingKeys.addAll(cc);
        }
        List<Object> deaths = headers.get("x-death") instanceof List<?> old ? grouped(old) : new ArrayList<>();
        Map<String, Object> entry = null;
        for (int i = 0; i < deaths.size(); i++) {
            if (deaths.get(i) instanceof Map<?, ?> d && queueName.equals(FieldValues.string(d.get("queue")))
                    && reason.equals(FieldValues.string(d.get("reason")))) {
                @SuppressWarnings("unchecked")
                Map<String, Object> found = new LinkedHashMap<>((Map<String, Object>) d);
                Long count = QueueArguments.integer(found.get("count"));
                found.put("count", count == null ? 1L : count + 1);
                entry = found;
                deaths.remove(i);
                break;
            }
        }
        if (entry == null) {
            // RabbitMQ sorts the table's keys.
            entry = new LinkedHashMap<>();
            entry.put("count", 1L);
            entry.put("exchange", m.exchange());
            if (p.expiration != null) {
                entry.put("original-expiration", p.expiration);
            }
            entry.put("queue", queueName);
            entry.put("reason", reason);
            entry.put("routing-keys", routingKeys);
            entry.put("time", new FieldValues.Timestamp(System.currentTimeMillis() / 1000));
        }
        deaths.add(0, entry);
        headers.put("x-death", deaths);
        if (!headers.containsKey("x-first-death-reason")) {
            headers.put("x-first-death-exchange", m.exchange());
            headers.put("x-first-death-queue", queueName);
            headers.put("x-first-death-reason", reason);
        }
        headers.put("x-last-death-exchange", m.exchange());
        headers.put("x-last-death-queue", queueName);
        headers.put("x-last-death-reason", reason);
        if (routingKey != null) {
            headers.remove("CC");
        }
        p.headers = headers;
        p.expiration = null;
        ContentHeader header = ContentHeader.of(m.header().bodySize(), p, PooledByteBufAllocator.DEFAULT);
        if (routingKey != null) {
            return new Message(exchangeName, routingKey, List.of(), header, m.body().retain());
        }
        // As RabbitMQ: routed again with every key it had (a message read back from disk keeps its CC in the header).
        List<String> keys = !m.extraRoutingKeys().isEmpty() || !SenderRoutes.present(header) ? m.extraRoutingKeys()
                : SenderRoutes.of(header);
        return new Message(exchangeName, m.routingKey(), keys, header, m.body().retain());
    }

    /**
     * As RabbitMQ: x-death entries written by brokers before 3.5 (one per death) are merged into one
     * per queue and reason, their counts added up, in the order each pair first appears.
     */
    @SuppressWarnings("unchecked")
    private static List<Object> grouped(List<?> deaths) {
        List<Object> out = new ArrayList<>();
        Map<List<String>, Map<String, Object>> byKey = new LinkedHashMap<>();
        for (Object d : deaths) {
            if (!(d instanceof Map<?, ?> death)) {
                out.add(d);
                continue;
            }
            List<String> key = java.util.Arrays.asList(FieldValues.string(death.get("queue")), FieldValues.string(death.get("reason")));
            Long count = QueueArguments.integer(death.get("count"));
            Map<String, Object> seen = byKey.get(key);
            if (seen == null) {
                seen = new LinkedHashMap<>((Map<String, Object>) death);
                seen.put("count", count == null ? 1L : count);
                byKey.put(key, seen);
                out.add(seen);
            } else {
                seen.put("count", QueueArguments.integer(seen.get("count")) + (count == null ? 1L : count));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> deaths(ContentHeader header) {
        Map<String, Object> headers = header.headers();
        return headers != null && headers.get("x-death") instanceof List<?> list ? (List<Map<String, Object>>) list : List.of();
    }

    /**
     * RabbitMQ's rule: the message has been in {@code queue} before, and no entry from the newest
     * up to that one records a rejection (the cycle was "fully automatic").
     */
    private static boolean isCycle(String queue, List<?> deaths) {
        for (Object d : deaths) {
            if (!(d instanceof Map<?, ?> death)) {
                return false;
            }
            if (REJECTED.equals(FieldValues.string(death.get("reason")))) {
                return false;
            }
            if (queue.equals(FieldValues.string(death.get("queue")))) {
                return true;
            }
        }
        return false;
    }
}
