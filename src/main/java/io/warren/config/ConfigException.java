package io.warren.config;

/**
 * A config file that cannot be used: unreadable, a malformed line, or a value out of range. The
 * message is one line meant for the operator and names the file and line, e.g.
 * {@code warren.conf, line 4: heartbeat must be a whole number from 0 to 65535, got "sixty"}.
 */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
