package io.vigil.revlog;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Records applied in the open (deferred) write transaction, which readers' LMDB snapshots cannot
 * see yet: for each main revision, its records by sub revision.
 *
 * <p>Invariants: a record, once written under its revision key, never changes; only a compaction
 * removes it. So the same record read from here, from any LMDB snapshot that holds it, or from a
 * newer snapshot, is the same bytes. Revisions are added (by the writer) before they are
 * published, and removed only after the LMDB commit that holds them returned, lowest first (or,
 * never published, when the transaction that applied them was aborted). Hence every revision from
 * {@link #floor} through the published head is held here.
 *
 * <p>Threads: one writer ({@link #add}, {@link #trimThrough}); any number of readers.
 */
final class PendingRecords {
    private final ConcurrentSkipListMap<Long, List<byte[]>> byMain = new ConcurrentSkipListMap<>();
    /**
     * Revisions below this may have been removed. Raised before removing, so that a reader which
     * finds it at or below its first revision after reading knows nothing it read was removed.
     */
    private volatile long floor;

    PendingRecords(long floor) {
        this.floor = floor;
    }

    /** Writer: the records of revision main, sub revision 0 first. */
    void add(long main, List<byte[]> records) {
        byMain.put(main, List.copyOf(records));
    }

    /** Writer, after the commit holding every revision up to {@code main} returned. */
    void trimThrough(long main) {
        floor = main + 1;
        byMain.headMap(main, true).clear();
    }

    /** The record, or null when it is not (or no longer) held here. */
    byte[] get(long main, int sub) {
        List<byte[]> subs = byMain.get(main);
        return subs == null || sub >= subs.size() ? null : subs.get(sub);
    }

    long floor() {
        return floor;
    }

    /** Writer: drops revisions above main, which a transaction that was aborted had applied. */
    void discardAbove(long main) {
        byMain.tailMap(main, false).clear();
    }

    /** Takes records in revision order until it returns false. */
    @FunctionalInterface
    interface Sink {
        boolean add(long main, byte[] record);
    }

    /**
     * Hands the records of revisions [from, through] to {@code sink}, in revision then sub-revision
     * order, until it returns false. Returns false when some of them may have been dropped
     * meanwhile: the commit that holds them landed, so a newer LMDB snapshot has them, and what the
     * sink got must be read again from there.
     */
    boolean collect(long from, long through, Sink sink) {
        if (floor > from) {
            return false;
        }
        if (from > through) {
            return true;
        }
        walk:
        for (Map.Entry<Long, List<byte[]>> e : byMain.subMap(from, true, through, true).entrySet()) {
            for (byte[] r : e.getValue()) {
                if (!sink.add(e.getKey(), r)) {
                    break walk;
                }
            }
        }
        // trimming raises the floor before it removes anything, so a floor still at or below
        // from means nothing in [from, through] was removed during the walk
        return floor <= from;
    }
}
