package io.vigil.revlog;

import io.vigil.proto.mvccpb.KeyValue;
import java.util.Arrays;

/**
 * The revisions at which one key was written, oldest first: puts and tombstones (deletes).
 *
 * <p>One writer (the apply thread) appends and compacts; any number of readers look up
 * concurrently without locks. The writer fills array slots beyond the published size and then
 * publishes a new {@link Snapshot} through a volatile field, so a reader that loaded a snapshot
 * sees every slot below its size fully written. Compaction publishes fresh arrays; readers holding
 * the old snapshot keep a consistent (older) view, and {@link RevLog} tells them afterwards whether
 * the compaction invalidated what they read.
 *
 * <p>Invariant: entries are strictly increasing by (mainRevision, subRevision).
 */
final class KeyHistory {
    static final int NOT_FOUND = -1;

    /** Immutable view: slots [0, size) are final once published. */
    record Snapshot(long[] mains, int[] subs, boolean[] tombstones, int size) {
        /** Index of the newest entry with mainRevision <= atRevision, or NOT_FOUND. */
        int floor(long atRevision) {
            int lo = 0;
            int hi = size - 1;
            int found = NOT_FOUND;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (mains[mid] <= atRevision) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return found;
        }

        /** Index of the live (non-tombstone) entry visible at atRevision, or NOT_FOUND. */
        int liveAt(long atRevision) {
            int i = floor(atRevision);
            return i != NOT_FOUND && !tombstones[i] ? i : NOT_FOUND;
        }
    }

    private static final Snapshot EMPTY = new Snapshot(new long[0], new int[0], new boolean[0], 0);

    private volatile Snapshot snapshot = EMPTY;

    /*
     * The live generation as the writer last left it, writer only (never published): what a put
     * needs of the value it replaces, so that it need not read that value from the store (etcd's
     * keyIndex keeps created and ver the same way). liveVersion 0: the key is not live.
     * Compaction leaves them as they are: it never removes the newest entry.
     */
    private long liveCreateRevision;
    private long liveVersion;
    private long liveLease;

    Snapshot snapshot() {
        return snapshot;
    }

    /** Writer only: whether the key is live, as of the newest entry appended. */
    boolean isLive() {
        return liveVersion > 0;
    }

    /** Writer only: the live key's create_revision; meaningful when {@link #isLive}. */
    long liveCreateRevision() {
        return liveCreateRevision;
    }

    /** Writer only: the live key's version; meaningful when {@link #isLive}. */
    long liveVersion() {
        return liveVersion;
    }

    /** Writer only: the live key's lease (0: none); meaningful when {@link #isLive}. */
    long liveLease() {
        return liveLease;
    }

    /**
     * Writer only. The revision must be newer than every entry already present; {@code kv} is the
     * record written there (a tombstone's carries only the key and revision).
     */
    void append(long mainRevision, int subRevision, boolean tombstone, KeyValue kv) {
        liveCreateRevision = tombstone ? 0 : kv.getCreateRevision();
        liveVersion = tombstone ? 0 : kv.getVersion();
        liveLease = tombstone ? 0 : kv.getLease();
        Snapshot s = snapshot;
        long[] mains = s.mains;
        int[] subs = s.subs;
        boolean[] tombs = s.tombstones;
        if (s.size == mains.length) {
            int capacity = Math.max(2, s.size * 2);
            mains = Arrays.copyOf(mains, capacity);
            subs = Arrays.copyOf(subs, capacity);
            tombs = Arrays.copyOf(tombs, capacity);
        }
        mains[s.size] = mainRevision;
        subs[s.size] = subRevision;
        tombs[s.size] = tombstone;
        snapshot = new Snapshot(mains, subs, tombs, s.size + 1);
    }

    /**
     * Writer only. Drops every entry superseded at or before compactRevision: all entries older
     * than the newest one with mainRevision <= compactRevision, and that one too if it is a
     * tombstone older than compactRevision. Reports each dropped entry to {@code removed}.
     *
     * @return true when nothing is left, so the key can leave the index
     */
    boolean compact(long compactRevision, RevisionConsumer removed) {
        Snapshot s = snapshot;
        int keep = s.floor(compactRevision);
        if (keep == NOT_FOUND) {
            return s.size == 0;
        }
        // a tombstone at compactRevision itself stays until a later compaction: ranges cannot tell,
        // and a watch from compactRevision (allowed, as in etcd) still gets that delete
        int firstKept = s.tombstones[keep] && s.mains[keep] < compactRevision ? keep + 1 : keep;
        if (firstKept == 0) {
            return false;
        }
        for (int i = 0; i < firstKept; i++) {
            removed.accept(s.mains[i], s.subs[i]);
        }
        int size = s.size - firstKept;
        snapshot = new Snapshot(
                Arrays.copyOfRange(s.mains, firstKept, firstKept + Math.max(size, 1)),
                Arrays.copyOfRange(s.subs, firstKept, firstKept + Math.max(size, 1)),
                Arrays.copyOfRange(s.tombstones, firstKept, firstKept + Math.max(size, 1)),
                size);
        return size == 0;
    }

    @FunctionalInterface
    interface RevisionConsumer {
        void accept(long mainRevision, int subRevision);
    }
}
