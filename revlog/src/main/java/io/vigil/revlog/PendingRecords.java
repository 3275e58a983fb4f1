package io.vigil.revlog;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>Every revision that changed something has records, so the revisions held are consecutive:
 * they are found by number in a hash map (a sorted map's insert cost the apply thread more than
 * the rest of a put's bookkeeping here), and the writer knows the lowest and highest it holds.
 *
 * <p>Threads: one writer ({@link #add}, {@link #trimThrough}, {@link #discardAbove}); any number
 * of readers.
 */
final class PendingRecords {
    private final ConcurrentHashMap<Long, List<byte[]>> byMain = new ConcurrentHashMap<>();
    /** Writer only: the revisions held are within [lowest, highest]; none when lowest > highest. */
    private long lowest = 1;
    private long highest;
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
        if (lowest > highest) {
            lowest = main;
        }
        // a store that filled up applies its uncommitted revisions again, below what the failed
        // batch had added: those stay covered until discardAbove drops them
        highest = Math.max(highest, main);
    }

    /** Writer, after the commit holding every revision up to {@code main} returned. */
    void trimThrough(long main) {
        floor = main + 1;
        for (long m = lowest, last = Math.min(main, highest); m <= last; m++) {
            byMain.remove(m);
        }
        lowest = Math.max(lowest, main + 1);
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
        for (long m = highest; m > main && m >= lowest; m--) {
            byMain.remove(m);
        }
        highest = Math.min(highest, main);
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
        for (long main = from; main <= through; main++) {
            List<byte[]> records = byMain.get(main);
            if (records == null) {
                continue; // trimmed meanwhile (the floor tells), or never held
            }
            for (byte[] r : records) {
                if (!sink.add(main, r)) {
                    break walk;
                }
            }
        }
        // trimming raises the floor before it removes anything, so a floor still at or below
        // from means nothing in [from, through] was removed during the walk
        return floor <= from;
    }
}
