package io.warren.amqp;

import io.warren.broker.Binding;
import io.warren.broker.Exchange;
import io.warren.broker.Queue;
import io.warren.broker.VirtualHost;
import io.warren.protocol.AmqpException;
import io.warren.protocol.Method;
import io.warren.protocol.MethodFrame;
import io.warren.protocol.ReplyCode;

/**
 * The methods of the exchange and queue classes for one channel: they change or look up the
 * virtual host's definitions, and answer once the change is on disk (durable definitions) or the
 * queue has answered (counts, purge, delete). Runs on the channel's connection loop.
 */
final class DefinitionMethods {
    private final AmqpChannel channel;
    private final AmqpConnection connection;
    private final VirtualHost vhost;

    DefinitionMethods(AmqpChannel channel, AmqpConnection connection, VirtualHost vhost) {
        this.channel = channel;
        this.connection = connection;
        this.vhost = vhost;
    }

    /**
     * An exchange or queue name of a declare, delete, bind or unbind: as RabbitMQ does, with every
     * carriage return and line feed taken out (so that "a\r\n" names the queue "a"). Other methods
     * (publish, consume, get, purge) take names as they come, as in RabbitMQ.
     */
    private static String name(MethodFrame m, String field) {
        return stripCrLf(m.string(field));
    }

    private static String stripCrLf(String name) {
        if (name.indexOf('\r') < 0 && name.indexOf('\n') < 0) {
            return name;
        }
        return name.replace("\r", "").replace("\n", "");
    }

    void exchangeDeclare(MethodFrame m) {
        String name = name(m, "exchange");
        if (name.isEmpty()) { // RabbitMQ refuses even a passive declare of the default exchange
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
        if (m.bool("passive")) {
            vhost.existingExchange(name);
        } else {
            vhost.declareExchange(name, m.string("type"), m.bool("durable"), m.bool("auto-delete"),
                    m.bool("internal"), m.table("arguments"));
        }
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> channel.send(Method.EXCHANGE_DECLARE_OK));
        }
    }

    void exchangeDelete(MethodFrame m) {
        String name = name(m, "exchange");
        if (name.isEmpty()) {
            throw new AmqpException(ReplyCode.ACCESS_REFUSED, "operation not permitted on the default exchange");
        }
        vhost.deleteExchange(name, m.bool("if-unused"));
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> channel.send(Method.EXCHANGE_DELETE_OK));
        }
    }

    void exchangeBind(MethodFrame m, boolean bind) {
        String destinationName = name(m, "destination");
        String sourceName = name(m, "source");
        if (!bind && (vhost.exchange(destinationName) == null || vhost.exchange(sourceName) == null)) {
            // As in RabbitMQ 3.x, unbinding an exchange that does not exist is a no-op.
            if (!m.bool("nowait")) {
                afterDefinitionsSaved(() -> channel.send(Method.EXCHANGE_UNBIND_OK));
            }
            return;
        }
        Exchange destination = vhost.existingExchange(destinationName);
        Exchange source = vhost.existingExchange(sourceName);
        if (bind) {
            vhost.bind(source, destination, m.string("routing-key"), m.table("arguments"));
        } else {
            vhost.unbind(source, destination, m.string("routing-key"), m.table("arguments"));
        }
        if (!m.bool("nowait")) {
            afterDefinitionsSaved(() -> channel.send(bind ? Method.EXCHANGE_BIND_OK : Method.EXCHANGE_UNBIND_OK));
        }
    }

    void queueDeclare(MethodFrame m) {
        boolean nowait = m.bool("nowait");
        if (m.string("queue").startsWith(DirectReplyConsumer.PSEUDO_QUEUE)) {
            replyQueueDeclare(name(m, "queue"), nowait);
            return;
        }
        String name = name(m, "queue");
        Queue q;
        if (m.bool("passive")) {
            // As RabbitMQ: "" is not the last queue declared here, but a queue of that name (none).
            q = vhost.existingQueue(name);
            vhost.checkExclusiveAccess(q, connection);
            q.redeclared(); // as RabbitMQ: a passive declare is a use too (x-expires)
        } else {
            q = vhost.declareQueue(name, m.bool("durable"), m.bool("exclusive"), m.bool("auto-delete"),
                    m.table("arguments"), connection, channel.executor());
            if (q.exclusive() && q.owner() == connection) {
                connection.ownExclusiveQueue(q);
            }
        }
        channel.lastQueue(q.name());
        if (nowait) {
            return;
        }
        channel.suspend();
        q.counts(channel.executor(), counts -> channel.resume(() ->
                afterDefinitionsSaved(() -> channel.send(Method.QUEUE_DECLARE_OK, q.name(), counts[0], counts[1]))));
    }

    /**
     * As RabbitMQ: every declare of a direct reply-to name is passive. The pseudo-queue and a live
     * reply address (a channel consuming from the pseudo-queue under it) exist, with no messages and
     * one consumer; any other name under the prefix (a forged or stale address) is a 404.
     */
    private void replyQueueDeclare(String name, boolean nowait) {
        if (!name.equals(DirectReplyConsumer.PSEUDO_QUEUE) && !(name.startsWith(DirectReplyConsumer.ADDRESS_PREFIX)
                && connection.directReplies().find(name.substring(DirectReplyConsumer.ADDRESS_PREFIX.length())) != null)) {
            throw new AmqpException(ReplyCode.NOT_FOUND, "no queue '" + name + "' in vhost '" + vhost.name() + "'");
        }
        channel.lastQueue(name);
        if (!nowait) {
            channel.send(Method.QUEUE_DECLARE_OK, name, 0, 1);
        }
    }

    void queueBind(MethodFrame m, boolean bind) {
        // The "" shortcuts first, then CR/LF stripped, in RabbitMQ's order.
        boolean lastQueue = m.string("queue").isEmpty();
        String queueName = stripCrLf(channel.queueName(m.string("queue")));
        String exchangeName = name(m, "exchange");
        String key = lastQueue && m.string("routing-key").isEmpty() ? queueName : m.string("routing-key");
        if (!bind && (vhost.queue(queueName) == null || vhost.exchange(exchangeName) == null)) {
            // As in RabbitMQ 3.x, unbinding a queue or exchange that does not exist is a no-op.
            afterDefinitionsSaved(() -> channel.send(Method.QUEUE_UNBIND_OK));
            return;
        }
        Queue q = vhost.existingQueue(queueName);
        if (bind) {
            vhost.checkExclusiveAccess(q, connection);
        }
        Exchange source = vhost.existingExchange(exchangeName);
        if (bind) {
            vhost.bind(source, q, key, m.table("arguments"));
            if (!m.bool("nowait")) {
                afterDefinitionsSaved(() -> channel.send(Method.QUEUE_BIND_OK));
            }
        } else {
            // As RabbitMQ: removing a binding that exists needs access to the queue (405 for another
            // connection's exclusive queue); removing one that does not is a no-op for anyone.
            if (source.bindings().contains(new Binding(source, q, key, m.table("arguments")))) {
                vhost.checkExclusiveAccess(q, connection);
            }
            vhost.unbind(source, q, key, m.table("arguments"));
            afterDefinitionsSaved(() -> channel.send(Method.QUEUE_UNBIND_OK));
        }
    }

    void queuePurge(MethodFrame m) {
        Queue q = channel.accessibleQueue(m.string("queue"));
        boolean nowait = m.bool("nowait");
        channel.suspend();
        q.purge(channel.executor(), count -> channel.resume(() -> {
            if (!nowait) {
                channel.send(Method.QUEUE_PURGE_OK, count);
            }
        }));
    }

    void queueDelete(MethodFrame m) {
        boolean nowait = m.bool("nowait");
        Queue q = vhost.queue(stripCrLf(channel.queueName(m.string("queue"))));
        if (q == null) {
            if (!nowait) {
                channel.send(Method.QUEUE_DELETE_OK, 0);
            }
            return;
        }
        vhost.checkExclusiveAccess(q, connection);
        channel.suspend();
        q.delete(m.bool("if-unused"), m.bool("if-empty"), channel.executor(), result -> channel.resume(() -> {
            if (result instanceof AmqpException e) {
                throw e.attributedTo(Method.QUEUE_DELETE);
            }
            if (!nowait) {
                afterDefinitionsSaved(() -> channel.send(Method.QUEUE_DELETE_OK, result));
            }
        }));
    }

    /** Runs a reply once the definitions changed by the method being answered are on disk. */
    private void afterDefinitionsSaved(Runnable reply) {
        java.util.concurrent.CompletableFuture<Void> saved = vhost.saved();
        if (saved.isDone() && !saved.isCompletedExceptionally()) {
            reply.run();
            return;
        }
        channel.suspend();
        saved.whenComplete((v, error) -> channel.executor().execute(() -> channel.resume(() -> {
            if (error != null) {
                throw new AmqpException(ReplyCode.INTERNAL_ERROR, "cannot save definitions: " + error.getMessage());
            }
            reply.run();
        })));
    }
}
