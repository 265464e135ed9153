package io.warren.config;

import java.util.List;

/**
 * One {@code key = value} line of a config file, with where it came from so that a bad value can be
 * reported as "file, line N".
 *
 * @param source the file name as the operator gave it
 * @param line   1-based line number
 * @param key    the key as written, e.g. {@code listeners.tcp.default}
 * @param words  the key split at its dots, with {@code \.} unescaped, e.g. {@code [listeners, tcp, default]}
 * @param value  the value with surrounding blanks and any trailing comment removed; never empty
 */
record ConfigSetting(String source, int line, String key, List<String> words, String value) {

    /** "warren.conf, line 4" */
    String where() {
        return source + ", line " + line;
    }

    /** An error about this line, for the caller to throw. */
    ConfigException problem(String what) {
        return new ConfigException(where() + ": " + what);
    }
}
