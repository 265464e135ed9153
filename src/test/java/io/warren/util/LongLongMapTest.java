package io.warren.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The forwarding map against a {@link HashMap}, with removals that shift colliding entries back. */
class LongLongMapTest {
    @Test
    void behavesLikeAHashMapThroughPutsAndRemoves() {
        Random random = new Random(3);
        LongLongMap map = new LongLongMap();
        Map<Long, Long> expected = new HashMap<>();
        for (int round = 0; round < 200_000; round++) {
            // Few distinct keys, packed like body keys: many collisions, growth and removals.
            long key = (long) random.nextInt(64) << 32 | random.nextInt(512) * 4096L;
            if (random.nextInt(3) == 0) {
                assertThat(map.remove(key)).isEqualTo(expected.getOrDefault(key, LongLongMap.MISSING));
                expected.remove(key);
            } else {
                long value = random.nextLong() & Long.MAX_VALUE;
                map.put(key, value);
                expected.put(key, value);
            }
            if (round % 1000 == 0) {
                assertThat(map.size()).isEqualTo(expected.size());
                for (Map.Entry<Long, Long> e : expected.entrySet()) {
                    assertThat(map.get(e.getKey())).isEqualTo(e.getValue());
                }
            }
        }
        map.clear();
        assertThat(map.size()).isZero();
        assertThat(map.get(0)).isEqualTo(LongLongMap.MISSING);
    }
}
