package io.warren.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * The time stamp of a log line ({@code %time} in logback.xml): the same text as logback's
 * {@code %d{yyyy-MM-dd HH:mm:ss.SSS}} in the local time zone, but the date and time are formatted
 * once per second and the milliseconds appended. Logback formats the whole stamp again for every
 * distinct millisecond, about 1 KiB of garbage each time: that made the one log line per connection
 * the largest allocation of an AMQP handshake.
 *
 * <p>Logback calls {@link #convert} from any logging thread at once, so the cached second is one
 * immutable value behind a volatile field: a race only formats the same second twice.
 */
public final class LogTimestamp extends ClassicConverter {
    private static final DateTimeFormatter UP_TO_SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

    private record Second(long epochSecond, String text) {
    }

    private volatile Second cached = new Second(Long.MIN_VALUE, "");

    @Override
    public String convert(ILoggingEvent event) {
        long millis = event.getTimeStamp();
        long epochSecond = Math.floorDiv(millis, 1000);
        Second second = cached;
        if (second.epochSecond() != epochSecond) {
            second = new Second(epochSecond, UP_TO_SECONDS.format(Instant.ofEpochSecond(epochSecond)));
            cached = second;
        }
        int ms = (int) Math.floorMod(millis, 1000);
        return second.text() + (ms < 10 ? ".00" : ms < 100 ? ".0" : ".") + ms;
    }
}
