package io.warren.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Makes SIGTERM and SIGINT (Ctrl-C) a normal {@code System.exit(0)}. The JVM runs shutdown hooks on
 * these signals anyway, but then exits with 143 or 130, which service managers and scripts read as
 * a failure; a stop the operator asked for is a success. {@code sun.misc.Signal} is the only JDK API
 * for this (module jdk.unsupported, present in every JDK since 9); where it is refused (e.g. under
 * {@code -Xrs}) the JVM's default stays and only the exit status differs.
 */
final class StopSignals {
    private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

    private StopSignals() {
    }

    static void exitZeroOnTermAndInt() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> {
                    log.info("Received SIG{}, stopping", signal.getName());
                    // Runs the shutdown hooks (which close the broker) on this signal-handler thread.
                    System.exit(0);
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.debug("Cannot handle SIG{}: {}; the JVM's default applies", name, e.getMessage());
            }
        }
    }
}
