package io.vigil.robustness.traffic;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * When the traffic may compact, and to which revision: never at or above what every key-space
 * watcher has reached minus {@link #MARGIN}, so no recording watcher is ever compacted (a watcher
 * resumes from its reached revision + 1, above the compacted one); never back to or below a
 * revision already compacted; at most once per {@link #INTERVAL_NANOS} for the whole run.
 * Informers may be compacted: they list again, as Kubernetes' reflectors do.
 */
final class Compactions {
    static final long MARGIN = 20;
    private static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final LongSupplier watchedRevision;
    private long compacted;
    private long lastNanos = System.nanoTime() - INTERVAL_NANOS;

    Compactions(LongSupplier watchedRevision) {
        this.watchedRevision = watchedRevision;
    }

    /** The highest revision a compaction may reach now (0: none). */
    long compactable() {
        return Math.max(0, watchedRevision.getAsLong() - MARGIN);
    }

    /**
     * A revision to compact to now, at most {@code atMost}, or 0 when it is too soon or there is
     * nothing new to compact.
     */
    synchronized long next(long atMost) {
        long now = System.nanoTime();
        long target = Math.min(atMost, compactable());
        if (now - lastNanos < INTERVAL_NANOS || target <= compacted) {
            return 0;
        }
        lastNanos = now;
        return target;
    }

    /** A compaction to {@code revision} succeeded. */
    synchronized void compacted(long revision) {
        compacted = Math.max(compacted, revision);
    }
}
