package io.vigil.revlog;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The checksums behind {@link RevLog#hashKv} and {@link RevLog#hash}: CRC-32C (Castagnoli, as
 * etcd's) over logical records, never over LMDB's pages, so that two members that applied the same
 * log agree whatever their files look like (page layout, free pages, a store that came from a
 * snapshot copy). Each part starts with its name, as etcd starts with its bucket's name.
 */
final class Hashing {
    private final CRC32C crc = new CRC32C();
    /** The revision of the last revision record hashed, and how many of its sub revisions were. */
    private long lastMain = -1;
    private int nextSub;

    private Hashing() {
    }

    /** Starts a HashKV: the revision records follow, in revision order. */
    static Hashing kv() {
        Hashing h = new Hashing();
        h.name("kv");
        return h;
    }

    private void name(String part) {
        crc.update(part.getBytes(StandardCharsets.US_ASCII));
    }

    /** The revision records of txn's snapshot through revision {@code through}, in order. */
    void recordsThrough(LmdbStore store, Txn<byte[]> txn, long through) {
        try (CursorIterable<byte[]> records = store.kv.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : records) {
                if (Records.mainRevision(r.key()) > through) {
                    break;
                }
                crc.update(r.key());
                crc.update(r.val());
                lastMain = Records.mainRevision(r.key());
                nextSub = Records.subRevision(r.key()) + 1;
            }
        }
    }

    /**
     * A revision record handed over without its key (the pending records list a revision's
     * records in sub-revision order, from 0), after every record of the earlier revisions.
     */
    boolean pendingRecord(long main, byte[] record) {
        if (main != lastMain) {
            lastMain = main;
            nextSub = 0;
        }
        crc.update(Records.revisionKey(main, nextSub++));
        crc.update(record);
        return true;
    }

    /**
     * The whole store's hash: every revision record, every lease record, and the replicated
     * counters (current and compacted revision) of txn's snapshot. Not hashed: the applied index
     * and the store id, which are this member's own (the store id is random, and the applied
     * index moves with entries that change no data, such as membership changes).
     */
    static int whole(LmdbStore store, Txn<byte[]> txn) {
        Hashing h = kv();
        h.recordsThrough(store, txn, Long.MAX_VALUE);
        h.name("lease");
        try (CursorIterable<byte[]> leases = store.lease.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : leases) {
                h.crc.update(r.key());
                h.crc.update(r.val());
            }
        }
        h.name("meta");
        h.counter(store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1));
        h.counter(store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1));
        return h.value();
    }

    private void counter(long v) {
        for (int i = 0; i < 8; i++) {
            crc.update((int) (v >>> (56 - 8 * i)) & 0xff);
        }
    }

    int value() {
        return (int) crc.getValue();
    }
}
