package io.warren.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A config file in RabbitMQ's new-style {@code rabbitmq.conf} format, so that an operator can point
 * Warren at the file they already have:
 *
 * <pre>
 * # comment
 * listeners.tcp.default = 5672
 * default_user = admin          # a '#' anywhere starts a comment, as in RabbitMQ
 * loopback_users.guest = false
 * </pre>
 *
 * The syntax follows RabbitMQ's parser (cuttlefish): one {@code key = value} per line, keys are
 * dot-separated words of letters, digits, {@code _} and {@code -} (a literal dot is written
 * {@code \.}), the value is the rest of the line up to a {@code #}, with blanks trimmed, or the text
 * between single quotes ({@code default_pass = 'pa#ss'}, which keeps a {@code #}; the quoted text
 * cannot itself hold a {@code '}); a later line for the same key wins. {@code include} lines are not
 * supported. Which keys mean what is {@link ConfigKeys}'s job.
 */
public final class ConfigFile {
    private static final String WORD = "(?:\\\\\\.|[A-Za-z0-9_-])+";
    private static final Pattern KEY = Pattern.compile(WORD + "(?:\\." + WORD + ")*");
    /** A dot that separates two words of a key, i.e. one not escaped as {@code \.}. */
    private static final Pattern KEY_SEPARATOR = Pattern.compile("(?<!\\\\)\\.");

    private final List<ConfigSetting> settings;
    private final List<String> warnings = new ArrayList<>();

    private ConfigFile(List<ConfigSetting> settings) {
        this.settings = settings;
    }

    /** Reads and checks the syntax of {@code file}; values are checked by {@link #applyTo}. */
    public static ConfigFile read(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (CharacterCodingException e) {
            throw new ConfigException("config file " + file + " is not valid UTF-8 text");
        } catch (AccessDeniedException e) {
            // Its message is only the file name.
            throw new ConfigException("cannot read config file " + file + ": permission denied");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        return parse(file.toString(), text);
    }

    /** Parses config text; {@code source} names it in error messages. */
    public static ConfigFile parse(String source, String text) throws ConfigException {
        List<ConfigSetting> settings = new ArrayList<>();
        // Editors on Windows may start a UTF-8 file with a byte order mark; it is not part of the first key.
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            ConfigSetting setting = parseLine(source, i + 1, lines[i]);
            if (setting != null) {
                settings.add(setting);
            }
        }
        return new ConfigFile(settings);
    }

    /** Sets on {@code config} every key this file gives. Warnings (e.g. unknown keys) go to {@link #warnings}. */
    public void applyTo(BrokerConfig config) throws ConfigException {
        ConfigKeys keys = new ConfigKeys(config, warnings);
        for (ConfigSetting setting : settings) {
            keys.apply(setting);
        }
    }

    /** What {@link #applyTo} had to say without failing, one line each, for the caller to log. */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Returns the setting on this line, or null for a blank or comment line. */
    private static ConfigSetting parseLine(String source, int lineNumber, String raw) throws ConfigException {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#")) {
            return null;
        }
        int eq = line.indexOf('=');
        int hash = line.indexOf('#');
        if (eq < 0 || (hash >= 0 && hash < eq)) {
            String text = stripComment(line).strip();
            if (text.startsWith("include ") || text.startsWith("include\t")) {
                throw malformed(source, lineNumber, "include is not supported; put the settings in this file");
            }
            throw malformed(source, lineNumber, "expected \"key = value\", got \"" + text + "\"");
        }
        String key = line.substring(0, eq).strip();
        if (key.isEmpty()) {
            throw malformed(source, lineNumber, "no key before '='");
        }
        if (!KEY.matcher(key).matches()) {
            throw malformed(source, lineNumber, "\"" + key
                    + "\" is not a valid key (dot-separated words of letters, digits, '_' and '-')");
        }
        String value = value(source, lineNumber, line.substring(eq + 1).strip());
        if (value.isEmpty()) {
            throw malformed(source, lineNumber, "no value for " + key);
        }
        List<String> words = KEY_SEPARATOR.splitAsStream(key).map(w -> w.replace("\\.", ".")).toList();
        return new ConfigSetting(source, lineNumber, key, words, value);
    }

    /**
     * The value from what follows the '=' (already stripped). As in cuttlefish, a value that opens a
     * single quote and closes it is the text between the quotes, '#' included, and only blanks or a
     * comment may follow; one that never closes its quote is an ordinary value, quote and all.
     */
    private static String value(String source, int lineNumber, String afterEq) throws ConfigException {
        if (afterEq.startsWith("'")) {
            int close = afterEq.indexOf('\'', 1);
            if (close > 0) {
                String rest = afterEq.substring(close + 1).strip();
                if (!rest.isEmpty() && !rest.startsWith("#")) {
                    throw malformed(source, lineNumber, "unexpected \"" + stripComment(rest).strip()
                            + "\" after the quoted value (a quoted value cannot contain a ')");
                }
                return afterEq.substring(1, close);
            }
        }
        return stripComment(afterEq).strip();
    }

    /** RabbitMQ's parser ends an unquoted value at the first '#', wherever it is; so do we. */
    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return hash < 0 ? line : line.substring(0, hash);
    }

    private static ConfigException malformed(String source, int line, String what) {
        return new ConfigException(source + ", line " + line + ": " + what);
    }
}
