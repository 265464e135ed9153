package io.warren.it.queues;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import java.io.IOException;

/** A fanout dead-letter exchange with one server-named queue behind it, for the tests to read from. */
final class DeadLetterTarget {
    private DeadLetterTarget() {
    }

    /** Declares exchange {@code dlx} (fanout) and a queue bound to it; returns the queue's name. */
    static String behind(Channel ch, String dlx) throws IOException {
        ch.exchangeDeclare(dlx, BuiltinExchangeType.FANOUT);
        String dead = ch.queueDeclare().getQueue();
        ch.queueBind(dead, dlx, "");
        return dead;
    }
}
