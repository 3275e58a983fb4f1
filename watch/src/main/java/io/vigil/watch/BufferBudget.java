package io.vigil.watch;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes queued on all watch streams together, against one budget
 * ({@link WatchHub.Config#maxBufferedBytes}). Streams add and subtract their own queued bytes, so
 * the total is exact whenever no stream is in the middle of a change; its peak is kept for the
 * gauge that shows the budget held.
 */
final class BufferBudget {
    private final long max;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    BufferBudget(long max) {
        this.max = max;
    }

    void add(long delta) {
        long now = bytes.addAndGet(delta);
        if (delta > 0 && now > peak.get()) {
            peak.accumulateAndGet(now, Math::max);
        }
    }

    long bytes() {
        return bytes.get();
    }

    long peak() {
        return peak.get();
    }

    /** Whether a stream with something queued must take no more events. */
    boolean spent() {
        return bytes.get() >= max;
    }

    /** Whether a stream with something queued may take catch-up responses and requests again. */
    boolean roomy() {
        return bytes.get() < max / 2;
    }
}
