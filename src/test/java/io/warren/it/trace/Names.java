package io.warren.it.trace;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes one run's trace comparable with another's: the run's own prefix (what {@code %} stands for
 * in a script, so that runs against one broker do not meet) goes back to {@code %}, and names the
 * broker makes up (server-named queues, consumer tags, direct reply-to addresses) become {@code #1},
 * {@code #2}... in the order they first appear. Shared by the connections of one run.
 */
final class Names {
    private static final Pattern GENERATED = Pattern.compile(
            "(amq\\.gen-|amq\\.ctag-|amq\\.rabbitmq\\.reply-to\\.)([A-Za-z0-9_\\-=.+/]+)");

    private final String prefix;
    private final Map<String, String> generated = new LinkedHashMap<>();

    Names(String prefix) {
        this.prefix = prefix;
    }

    /** A script's text with {@code %} replaced by this run's prefix. */
    String expand(String scriptText) {
        return scriptText.replace("%", prefix);
    }

    synchronized String normalize(String text) {
        String s = text.replace(prefix, "%");
        Matcher m = GENERATED.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = generated.computeIfAbsent(m.group(0), k -> "#" + (generated.size() + 1));
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1) + name));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
