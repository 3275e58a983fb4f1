package io.vigil.benchmarks.client;

/**
 * One Java client as a Kubernetes-style cache uses it: list a prefix into a map (key to value,
 * decoded as text), then watch it; the two implementations are Vigil's client and jetcd, measured
 * doing the same thing against the same server.
 */
interface CacheClient extends AutoCloseable {
    /** A name for the report. */
    String name();

    /** Lists {@code prefix} into a fresh cache; returns the revision listed at. */
    long sync(String prefix) throws Exception;

    /** Whether it takes part in the replay (an informer watches from its own list only). */
    default boolean replays() {
        return true;
    }

    /** The number of keys in the cache. */
    int cached();

    /**
     * Watches {@code prefix} from {@code fromRevision}, applying each event to the cache, and
     * returns once {@code events} events were applied.
     */
    void watchUntil(String prefix, long fromRevision, int events) throws Exception;
}
