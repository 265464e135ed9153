package io.warren.it.store;

import com.rabbitmq.client.Connection;
import org.junit.jupiter.api.AfterEach;

/** Store tests on a broker in this JVM: the test starts {@link #broker}; it is closed after each test. */
abstract class InProcessStoreTest {
    protected RestartableBroker broker;

    @AfterEach
    void closeBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    protected Connection connect() throws Exception {
        return broker.connect();
    }
}
