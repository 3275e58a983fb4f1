package io.vigil.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A watch listener that records what it is told: every revision's events in order, a cache of
 * the watched keys built from them (as an informer would), and how the watch ended.
 */
class Recorder implements WatchListener {
    /** One revision as told. */
    record Told(long revision, List<String> changes) {
    }

    private final List<Told> told = new ArrayList<>();
    private final Map<String, String> cache = new TreeMap<>();
    private long compactedAt = -1;
    private VigilException error;
    private long progress = -1;

    @Override
    public synchronized void onEvents(long revision, List<WatchEvent> events) {
        List<String> changes = new ArrayList<>();
        for (WatchEvent e : events) {
            if (e.revision() != revision) {
                throw new AssertionError("event of revision " + e.revision() + " told as " + revision);
            }
            if (e.type() == WatchEvent.Type.PUT) {
                cache.put(e.kv().key(), e.kv().value());
                changes.add("PUT " + e.kv().key() + "=" + e.kv().value());
            } else {
                cache.remove(e.kv().key());
                changes.add("DELETE " + e.kv().key());
            }
        }
        told.add(new Told(revision, changes));
    }

    @Override
    public synchronized void onProgress(long revision) {
        progress = revision;
    }

    @Override
    public synchronized void onCompacted(long compactRevision) {
        compactedAt = compactRevision;
    }

    @Override
    public synchronized void onError(VigilException e) {
        error = e;
    }

    synchronized List<Told> told() {
        return List.copyOf(told);
    }

    synchronized int size() {
        return told.size();
    }

    /** Whether revision {@code r} (or a later one) was told. */
    synchronized boolean reached(long r) {
        return !told.isEmpty() && told.get(told.size() - 1).revision() >= r;
    }

    synchronized Map<String, String> cache() {
        return new TreeMap<>(cache);
    }

    synchronized long compactedAt() {
        return compactedAt;
    }

    synchronized VigilException error() {
        return error;
    }

    synchronized long progress() {
        return progress;
    }

    /**
     * Asserts what was told from {@code start} through {@code last} is the truth: what a fresh
     * watch over the same history tells (every revision once, in order), and a cache equal to the
     * store's keys under {@code prefix} now.
     */
    void assertIsTheHistory(VigilClient client, String prefix, long start, long last) {
        Recorder truth = new Recorder();
        try (Watch replay = client.watches().watch(Op.getPrefix(prefix), start, truth)) {
            org.awaitility.Awaitility.await().atMost(WatchTest.PATIENCE).until(() -> truth.reached(last));
        }
        org.junit.jupiter.api.Assertions.assertEquals(truth.told(), told(), "every revision once, in order");
        Map<String, String> store = new TreeMap<>();
        for (KeyValue kv : client.kv().getPrefix(prefix).kvs()) {
            store.put(kv.key(), kv.value());
        }
        org.junit.jupiter.api.Assertions.assertEquals(store, cache());
    }
}
