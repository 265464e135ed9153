package io.warren.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Runs a client call that the broker must refuse and returns the channel.close or connection.close it sent. */
final class Closes {
    private Closes() {
    }

    /** The channel.close the call ended with (a soft error), failing if it ended otherwise. */
    static AMQP.Channel.Close channelClose(ThrowingCallable call) {
        ShutdownSignalException s = shutdown(call);
        assertThat(s.isHardError()).as("hard error? %s", s).isFalse();
        return (AMQP.Channel.Close) s.getReason();
    }

    /** The connection.close the call ended with (a hard error), failing if it ended otherwise. */
    static AMQP.Connection.Close connectionClose(ThrowingCallable call) {
        ShutdownSignalException s = shutdown(call);
        assertThat(s.isHardError()).as("hard error? %s", s).isTrue();
        return (AMQP.Connection.Close) s.getReason();
    }

    static ShutdownSignalException shutdown(ThrowingCallable call) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("the broker should have refused the call").isNotNull();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ShutdownSignalException s) {
                return s;
            }
        }
        throw new AssertionError("expected a ShutdownSignalException, got " + t, t);
    }
}
