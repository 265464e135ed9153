package io.warren.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.pattern.DateConverter;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code %time} writes exactly what logback's {@code %d{yyyy-MM-dd HH:mm:ss.SSS}} writes. */
class LogTimestampTest {
    @Test
    void sameTextAsLogbacksDateConverter() {
        DateConverter logbacks = new DateConverter();
        logbacks.setOptionList(List.of("yyyy-MM-dd HH:mm:ss.SSS"));
        logbacks.start();
        LogTimestamp ours = new LogTimestamp();
        ours.start();
        long now = System.currentTimeMillis();
        long[] stamps = {now, now + 1, now + 999, now + 1000, 0, 7, 42, 999, 1000, 1001,
                1_700_000_000_000L, 1_700_000_000_009L, 1_700_000_000_099L, 1_700_000_000_999L, -1, -1001};
        for (long stamp : stamps) {
            assertThat(ours.convert(event(stamp))).as("time stamp %d", stamp).isEqualTo(logbacks.convert(event(stamp)));
        }
        // Milliseconds within one cached second, then back to an earlier second.
        for (long stamp = now - 2500; stamp < now + 2500; stamp += 37) {
            assertThat(ours.convert(event(stamp))).as("time stamp %d", stamp).isEqualTo(logbacks.convert(event(stamp)));
        }
        assertThat(ours.convert(event(now - 86_400_000))).isEqualTo(logbacks.convert(event(now - 86_400_000)));
    }

    private static LoggingEvent event(long timeStamp) {
        LoggingEvent event = new LoggingEvent();
        event.setTimeStamp(timeStamp);
        return event;
    }
}
