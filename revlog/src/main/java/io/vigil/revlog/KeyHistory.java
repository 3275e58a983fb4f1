package io.vigil.revlog;

import io.vigil.proto.mvccpb.KeyValue;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The revisions at which one key was written, oldest first: puts and tombstones (deletes).
 *
 * <p>One writer (the apply thread) appends and compacts; any number of readers look up
 * concurrently without locks. The entries live in one {@code long[]}: slot 0 holds how many are
 * published, entry i takes slots {@code 1 + 2i} (its main revision) and {@code 2 + 2i} (its sub
 * revision shifted left by one, the low bit set for a tombstone). The writer fills slots beyond the
 * published count and then raises the count with a release store (or, when the array grew,
 * publishes the new array through a volatile field), so a reader that loaded the count with an
 * acquire sees every entry below it fully written. Compaction publishes a fresh array; readers
 * holding the old one keep a consistent (older) view, and {@link RevLog} tells them afterwards
 * whether the compaction invalidated what they read. (One array per key, where a record and three
 * arrays were: about 60 bytes less per key.)
 *
 * <p>Invariant: entries are strictly increasing by (mainRevision, subRevision).
 */
final class KeyHistory {
    static final int NOT_FOUND = -1;
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final long[] EMPTY = {0};

    /** Immutable view: the first {@code size} entries of {@code slots}, final once published. */
    record Snapshot(long[] slots, int size) {
        long main(int i) {
            return slots[1 + 2 * i];
        }

        int sub(int i) {
            return (int) (slots[2 + 2 * i] >>> 1);
        }

        boolean tombstone(int i) {
            return (slots[2 + 2 * i] & 1) != 0;
        }

        /** Index of the newest entry with mainRevision <= atRevision, or NOT_FOUND. */
        int floor(long atRevision) {
            int lo = 0;
            int hi = size - 1;
            int found = NOT_FOUND;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (main(mid) <= atRevision) {
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
            return i != NOT_FOUND && !tombstone(i) ? i : NOT_FOUND;
        }
    }

    private volatile long[] slots = EMPTY;

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
        long[] a = slots;
        return new Snapshot(a, (int) (long) SLOTS.getAcquire(a, 0));
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
        long[] a = slots;
        int size = (int) a[0];
        boolean grown = 3 + 2 * size > a.length;
        if (grown) {
            a = Arrays.copyOf(a, 1 + 2 * Math.max(1, size * 2));
        }
        a[1 + 2 * size] = mainRevision;
        a[2 + 2 * size] = (long) subRevision << 1 | (tombstone ? 1 : 0);
        if (grown) {
            a[0] = size + 1;
            slots = a;
        } else {
            SLOTS.setRelease(a, 0, (long) (size + 1));
        }
    }

    /**
     * Writer only. Drops every entry superseded at or before compactRevision: all entries older
     * than the newest one with mainRevision <= compactRevision, and that one too if it is a
     * tombstone older than compactRevision. Reports each dropped entry to {@code removed}.
     *
     * @return true when nothing is left, so the key can leave the index
     */
    boolean compact(long compactRevision, RevisionConsumer removed) {
        Snapshot s = snapshot();
        int keep = s.floor(compactRevision);
        if (keep == NOT_FOUND) {
            return s.size == 0;
        }
        // a tombstone at compactRevision itself stays until a later compaction: ranges cannot tell,
        // and a watch from compactRevision (allowed, as in etcd) still gets that delete
        int firstKept = s.tombstone(keep) && s.main(keep) < compactRevision ? keep + 1 : keep;
        if (firstKept == 0) {
            return false;
        }
        for (int i = 0; i < firstKept; i++) {
            removed.accept(s.main(i), s.sub(i));
        }
        int size = s.size - firstKept;
        long[] kept = new long[1 + 2 * Math.max(size, 1)];
        System.arraycopy(s.slots, 1 + 2 * firstKept, kept, 1, 2 * size);
        kept[0] = size;
        slots = kept;
        return size == 0;
    }

    @FunctionalInterface
    interface RevisionConsumer {
        void accept(long mainRevision, int subRevision);
    }
}
