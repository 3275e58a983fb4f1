package io.vigil.robustness.nemesis;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the nemesis does and how long.
 *
 * @param mix      the kinds it picks from, uniformly
 * @param minHold  shortest time a held fault lasts
 * @param maxHold  longest
 * @param minGap   shortest quiet time between one fault's end and the next one's start
 * @param maxGap   longest
 * @param minDelay shortest one-way latency of a delay fault
 * @param maxDelay longest
 */
public record NemesisConfig(Set<FaultKind> mix, Duration minHold, Duration maxHold, Duration minGap, Duration maxGap,
                            Duration minDelay, Duration maxDelay) {
    public NemesisConfig {
        if (mix.isEmpty()) {
            throw new IllegalArgumentException("no fault kinds to pick from");
        }
        mix = Set.copyOf(mix);
        if (maxHold.compareTo(minHold) < 0 || maxGap.compareTo(minGap) < 0 || maxDelay.compareTo(minDelay) < 0) {
            throw new IllegalArgumentException("a maximum below its minimum");
        }
    }

    /** Every kind, held 1-5 s, 1-3 s apart, delays of 50-200 ms. */
    public static NemesisConfig defaults() {
        return new NemesisConfig(EnumSet.allOf(FaultKind.class), Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofMillis(50), Duration.ofMillis(200));
    }

    public NemesisConfig withMix(Set<FaultKind> kinds) {
        return new NemesisConfig(kinds, minHold, maxHold, minGap, maxGap, minDelay, maxDelay);
    }

    public NemesisConfig withHold(Duration min, Duration max) {
        return new NemesisConfig(mix, min, max, minGap, maxGap, minDelay, maxDelay);
    }

    public NemesisConfig withGap(Duration min, Duration max) {
        return new NemesisConfig(mix, minHold, maxHold, min, max, minDelay, maxDelay);
    }
}
