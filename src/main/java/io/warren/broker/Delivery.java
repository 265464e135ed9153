package io.warren.broker;

/**
 * One message handed from a queue to a channel. {@code id} is the queue's own number for the
 * message, which the channel passes back to ack, reject or requeue it. {@code consumer} is null for
 * basic.get, where {@code messageCount} is the number of messages left for get-ok.
 */
public record Delivery(Queue queue, QueueConsumer consumer, Message message, long id, boolean redelivered,
                       int messageCount) {
}
