package io.warren.broker;

/** RabbitMQ's classic queue type: {@link ClassicQueue}. */
final class ClassicQueueType implements QueueType {
    static final String NAME = "classic";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Queue create(Spec spec, Home home) {
        return new ClassicQueue(spec, home);
    }

    @Override
    public Recovered recover(Spec spec, Home home) {
        ClassicQueue q = new ClassicQueue(spec, home);
        q.restore(home.log().recover());
        return new Recovered(q, q.messageCount());
    }
}
