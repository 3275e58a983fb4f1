package io.vigil.client;

import java.util.List;

/**
 * What a watch tells, in order, one call at a time, on the client's listener executor (never on
 * a network thread, so a listener may block; the watch then waits for it and the server holds
 * what follows).
 *
 * <p>The contract: revisions come in increasing order, each revision's events together and
 * once, across reconnections and member changes, until the watch ends with
 * {@link #onCompacted} or {@link #onError}, or is closed.
 */
public interface WatchListener {
    /** Every change made at {@code revision} in the watched range. */
    void onEvents(long revision, List<WatchEvent> events);

    /**
     * Nothing in the watched range changed up to {@code revision} that was not already told: a
     * cache built from this watch is current as of {@code revision}.
     */
    default void onProgress(long revision) {
    }

    /**
     * The history the watch needs was compacted away (at {@code compactRevision}): changes were
     * missed, and a cache must be rebuilt from a fresh read. The watch has ended.
     */
    void onCompacted(long compactRevision);

    /** The watch ended for a reason retrying cannot cure (e.g. permission denied). */
    default void onError(VigilException error) {
    }
}
