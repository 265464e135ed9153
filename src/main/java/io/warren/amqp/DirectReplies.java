package io.warren.amqp;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RabbitMQ's direct reply-to: channels consuming from amq.rabbitmq.reply-to, by the token in their
 * reply address ({@code amq.rabbitmq.reply-to.<token>}). Replies go straight to the channel, with
 * no queue in between.
 */
public final class DirectReplies {
    private final Map<String, AmqpChannel> channels = new ConcurrentHashMap<>();

    void register(String token, AmqpChannel channel) {
        channels.put(token, channel);
    }

    void unregister(String token) {
        channels.remove(token);
    }

    AmqpChannel find(String token) {
        return channels.get(token);
    }
}
