package io.vigil.revlog;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.vigil.proto.etcdserverpb.CompactionResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Env;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The MVCC store: an append-only revision log on LMDB plus an in-memory key index, and the leases
 * (a table in the same LMDB environment plus the in-memory {@link Lessor}).
 *
 * <p>Revisions: the empty store is at revision 1; every entry that changes something creates
 * exactly one new revision; entries that change nothing (a read-only txn, a delete of nothing, a
 * refused request) create none.
 *
 * <p>Threads: {@link #apply} is called by one thread at a time (the apply thread), in log order.
 * {@link #range} may be called from any thread, never blocks the writer, and sees exactly the state
 * at one committed revision. The writer publishes {@code currentRevision} only after the LMDB commit
 * of the batch that made it, so a reader never observes an uncommitted revision.
 *
 * <p>Idempotence: the applied index is stored in the same LMDB transaction as the changes, and
 * entries at or below it are skipped, so replaying a log after a crash applies each entry once.
 */
public final class RevLog implements AutoCloseable {
    private final LmdbStore store;
    private final long storeId;
    private final Lessor lessor;
    private volatile KeyIndex index;
    private volatile long currentRevision;
    private volatile long compactRevision;
    /**
     * The lowest revision readers may read at: the target of a compaction from the moment the
     * writer starts removing history, else compactRevision. Lowered back only if that batch fails.
     */
    private volatile long compactingRevision;
    /**
     * Bumped by the writer before it removes history from the index (a compaction) and after it
     * replaces the index (a failed batch rolled back). A reader notes it before reading and trusts
     * what it read only if it is unchanged afterwards: anything removed or rolled back meanwhile
     * could have been half-seen.
     */
    private volatile long indexEpoch;
    private long appliedIndex;

    private RevLog(LmdbStore store, MonotonicClock clock) {
        this.store = store;
        this.lessor = new Lessor(clock);
        try (Txn<byte[]> txn = store.env.txnWrite()) {
            long id = store.getMeta(txn, LmdbStore.META_STORE_ID, 0);
            if (id == 0) {
                id = new SecureRandom().nextLong() & Long.MAX_VALUE;
                store.putMeta(txn, LmdbStore.META_STORE_ID, id);
                store.putMeta(txn, LmdbStore.META_CURRENT_REVISION, 1);
            }
            storeId = id;
            currentRevision = store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1);
            // never compacted is -1, as in etcd, so that a first compaction at 0 succeeds
            compactRevision = store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1);
            compactingRevision = compactRevision;
            appliedIndex = store.getMeta(txn, LmdbStore.META_APPLIED_INDEX, 0);
            index = loadState(txn);
            txn.commit();
        }
        // etcd's promote on start: whatever was left of a lease before the restart, it now has
        // its whole TTL again, so no lease expires because the member was down
        lessor.promote();
    }

    public static RevLog open(RevLogConfig config) {
        config.conclude();
        return new RevLog(new LmdbStore(config.dataDir(), config.mapSizeBytes(), config.maxReaders(),
                config.syncOnCommit()), config.clock());
    }

    /** A random id made when the store was created; stable across restarts. */
    public long storeId() {
        return storeId;
    }

    public long currentRevision() {
        return currentRevision;
    }

    /** The revision of the last compaction; -1 when the store was never compacted. */
    public long compactRevision() {
        return compactRevision;
    }

    /** The leases: existence, attached keys and expiry. */
    public Lessor lessor() {
        return lessor;
    }

    /** Index of the last applied log entry (apply thread, or after apply returned). */
    public long appliedIndex() {
        return appliedIndex;
    }

    // ---- reads ----

    /** A Range at request.revision (or the current revision when it is <= 0). Any thread. */
    public RangeResponse range(RangeRequest request) {
        boolean atHead = request.getRevision() <= 0;
        while (true) {
            long epoch = indexEpoch;
            long floor = compactingRevision;
            long head = currentRevision;
            long at = atHead ? head : request.getRevision();
            if (at > head) {
                throw new RevLogException(RevLogException.Code.FUTURE_REVISION);
            }
            if (at < floor) {
                if (!atHead) {
                    throw new RevLogException(RevLogException.Code.COMPACTED);
                }
                awaitPublication();
                continue;
            }
            try (Txn<byte[]> txn = store.env.txnRead()) {
                RangeResponse resp = RangeQuery.run(index, (m, s) -> store.getRecord(txn, m, s), request, at, head);
                if (indexEpoch == epoch) {
                    return resp;
                }
            } catch (LmdbStore.MissingRecordException missing) {
                rethrowUnlessCompactedMeanwhile(missing, epoch);
            }
            // history was removed while reading: read again (an explicit revision it removed
            // is then refused as compacted)
        }
    }

    /**
     * A txn none of whose branches writes, evaluated at the current revision without going through
     * the log; the caller checked {@link RequestChecks#isReadOnly}. Any thread.
     */
    public TxnResponse readOnlyTxn(TxnRequest request) {
        while (true) {
            long epoch = indexEpoch;
            long floor = compactingRevision;
            long head = currentRevision;
            if (head < floor) {
                awaitPublication();
                continue;
            }
            try (Txn<byte[]> txn = store.env.txnRead()) {
                TxnResponse resp =
                        RevisionWriter.forRead(store, txn, index, lessor, head, floor).txn(request);
                if (indexEpoch == epoch) {
                    return resp;
                }
            } catch (LmdbStore.MissingRecordException missing) {
                rethrowUnlessCompactedMeanwhile(missing, epoch);
            }
        }
    }

    /**
     * The events of fromRevision and later, in order, read from one consistent snapshot of the
     * log: whole revisions only, ending with the revision in which the maxEvents-th event or the
     * maxBytes-th byte of records falls (a revision larger than that still comes whole). With {@code withPrevKv}, each event
     * that is not a create carries the key as it was before its revision, when the log still holds
     * it (as etcd, which reads it at mod_revision - 1 and leaves it out once compacted). Any thread.
     *
     * <p>A compaction at C keeps, for each key, its newest record at or below C, so reading from C
     * itself is allowed (as in etcd); a delete at C keeps its tombstone until a later compaction
     * (see KeyHistory#compact), so that read misses nothing.
     */
    public History readHistory(long fromRevision, int maxEvents, long maxBytes, boolean withPrevKv) {
        try (Txn<byte[]> txn = store.env.txnRead()) {
            // the counters come from the same snapshot as the records, so they agree with them
            long compacted = store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1);
            long head = store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1);
            if (fromRevision < compacted) {
                return new History(true, compacted, fromRevision - 1, List.of());
            }
            List<Event> events = new ArrayList<>();
            long through = head;
            long lastMain = -1;
            long bytes = 0;
            byte[] start = Records.revisionKey(Math.max(fromRevision, 1), 0);
            try (CursorIterable<byte[]> records = store.kv.iterate(txn, KeyRange.atLeast(start))) {
                for (CursorIterable.KeyVal<byte[]> r : records) {
                    long main = Records.mainRevision(r.key());
                    if ((events.size() >= maxEvents || bytes >= maxBytes) && main != lastMain) {
                        through = lastMain;
                        break;
                    }
                    lastMain = main;
                    bytes += r.val().length;
                    events.add(historyEvent(txn, main, r.val(), withPrevKv));
                }
            }
            return new History(false, compacted, through, events);
        }
    }

    private Event historyEvent(Txn<byte[]> txn, long main, byte[] record, boolean withPrevKv) {
        KeyValue kv = Records.keyValue(record);
        boolean tombstone = Records.isTombstone(record);
        Event.Builder e = Event.newBuilder()
                .setType(tombstone ? Event.EventType.DELETE : Event.EventType.PUT)
                .setKv(kv);
        if (withPrevKv && (tombstone || kv.getVersion() > 1)) {
            KeyValue prev = keyBefore(txn, kv.getKey().toByteArray(), main);
            if (prev != null) {
                e.setPrevKv(prev);
            }
        }
        return e.build();
    }

    /**
     * The live KeyValue of key just before revision main, or null. The read transaction is older
     * than (or as old as) the index snapshot consulted here, and compaction removes index entries
     * before committing the removal of their records, so every record the index names is in txn;
     * one missing anyway counts as compacted.
     */
    private KeyValue keyBefore(Txn<byte[]> txn, byte[] key, long main) {
        KeyHistory h = index.get(key);
        if (h == null) {
            return null;
        }
        KeyHistory.Snapshot s = h.snapshot();
        int i = s.floor(main - 1);
        if (i == KeyHistory.NOT_FOUND || s.tombstones()[i]) {
            return null;
        }
        byte[] record = store.kv.get(txn, Records.revisionKey(s.mains()[i], s.subs()[i]));
        return record == null ? null : Records.keyValue(record);
    }

    /**
     * Only a compaction removes records, and it bumps the epoch first: a record missing while the
     * epoch stood still means the store and the index disagree, which retrying would not mend.
     */
    private void rethrowUnlessCompactedMeanwhile(LmdbStore.MissingRecordException missing, long epoch) {
        if (indexEpoch == epoch) {
            throw missing;
        }
    }

    /**
     * The writer is applying a compaction past the published head, together with the writes
     * before it; the batch's commit (or its failure) moves the head or the floor. Wait briefly
     * rather than spin on a transport thread.
     */
    private static void awaitPublication() {
        LockSupport.parkNanos(50_000);
    }

    // ---- writes ----

    /**
     * Applies committed entries in order, in one durable LMDB transaction. Entries at or below the
     * applied index are skipped (their results are not returned). Apply thread only.
     */
    public List<ApplyResult> apply(List<LogEntry> entries) {
        List<ApplyResult> results = new ArrayList<>(entries.size());
        long revision = currentRevision;
        long compacted = compactRevision;
        long lastIndex = appliedIndex;
        try (Txn<byte[]> txn = store.env.txnWrite()) {
            for (LogEntry e : entries) {
                if (e.index() <= lastIndex) {
                    continue;
                }
                lastIndex = e.index();
                ApplyResult r = applyOne(txn, e, revision, compacted);
                results.add(r);
                revision = r.revision();
                if (e.request().hasCompaction() && r.error() == null) {
                    compacted = e.request().getCompaction().getRevision();
                }
            }
            store.putMeta(txn, LmdbStore.META_APPLIED_INDEX, lastIndex);
            store.putMeta(txn, LmdbStore.META_CURRENT_REVISION, revision);
            store.putMeta(txn, LmdbStore.META_COMPACT_REVISION, compacted);
            txn.commit();
        } catch (Env.MapFullException full) {
            return refuseBatch(entries, full);
        }
        appliedIndex = lastIndex;
        compactRevision = compacted;
        compactingRevision = compacted;
        currentRevision = revision;
        return results;
    }

    /**
     * The store is full: nothing of the batch was committed, but the index already holds its
     * changes. Rebuild the index from what is committed and refuse every entry of the batch.
     */
    private List<ApplyResult> refuseBatch(List<LogEntry> entries, Env.MapFullException cause) {
        try (Txn<byte[]> txn = store.env.txnRead()) {
            index = loadState(txn);
        }
        compactingRevision = compactRevision;
        indexEpoch++;
        List<ApplyResult> refused = new ArrayList<>();
        for (LogEntry e : entries) {
            if (e.index() > appliedIndex) {
                refused.add(ApplyResult.failed(e.index(), currentRevision,
                        new RevLogException(RevLogException.Code.NO_SPACE)));
            }
        }
        return refused;
    }

    private ApplyResult applyOne(Txn<byte[]> txn, LogEntry e, long revision, long compacted) {
        InternalRequest req = e.request();
        if (req.hasCompaction()) {
            return compact(txn, e.index(), req.getCompaction().getRevision(), revision, compacted);
        }
        RevisionWriter w = RevisionWriter.forWrite(store, txn, index, lessor, revision, compacted);
        try {
            Message response = switch (req.getRequestCase()) {
                case PUT -> w.put(req.getPut());
                case DELETE_RANGE -> w.deleteRange(req.getDeleteRange());
                case TXN -> w.txn(req.getTxn());
                case LEASE_GRANT -> w.leaseGrant(req.getLeaseGrant());
                case LEASE_REVOKE -> w.leaseRevoke(req.getLeaseRevoke());
                default -> throw new IllegalArgumentException("log entry " + e.index() + " holds no request");
            };
            return ApplyResult.ok(e.index(), w.endRevision(), response, w.events());
        } catch (RevLogException refused) {
            // preconditions are checked before the first change, so nothing was written
            return ApplyResult.failed(e.index(), revision, refused);
        }
    }

    private ApplyResult compact(Txn<byte[]> txn, long entryIndex, long target, long revision, long compacted) {
        if (target > revision) {
            return ApplyResult.failed(entryIndex, revision, new RevLogException(RevLogException.Code.FUTURE_REVISION));
        }
        if (target <= compacted) {
            return ApplyResult.failed(entryIndex, revision, new RevLogException(RevLogException.Code.COMPACTED));
        }
        compactingRevision = target;
        indexEpoch++;
        index.compact(target, (main, sub) -> store.kv.delete(txn, Records.revisionKey(main, sub)));
        CompactionResponse resp = CompactionResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setRevision(revision))
                .build();
        return ApplyResult.ok(entryIndex, revision, resp, List.of());
    }

    /**
     * Rebuilds the key index by one scan of the revision log, and the lessor from the lease table
     * plus the scan. Attachments are not stored separately: a key's lease is already durable in its
     * newest KeyValue, so a second copy could only disagree with it. The scan is in revision order,
     * so the last record seen of a key is its current state.
     */
    private KeyIndex loadState(Txn<byte[]> txn) {
        KeyIndex idx = new KeyIndex();
        Map<ByteString, Long> leaseOfLiveKey = new HashMap<>();
        try (CursorIterable<byte[]> records = store.kv.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : records) {
                KeyValue kv = Records.keyValue(r.val());
                boolean tombstone = Records.isTombstone(r.val());
                idx.getOrCreate(kv.getKey().toByteArray())
                        .append(Records.mainRevision(r.key()), Records.subRevision(r.key()), tombstone);
                if (!tombstone && kv.getLease() != 0) {
                    leaseOfLiveKey.put(kv.getKey(), kv.getLease());
                } else {
                    leaseOfLiveKey.remove(kv.getKey());
                }
            }
        }
        Map<Long, List<byte[]>> attached = new HashMap<>();
        for (Map.Entry<ByteString, Long> e : leaseOfLiveKey.entrySet()) {
            attached.computeIfAbsent(e.getValue(), id -> new ArrayList<>()).add(e.getKey().toByteArray());
        }
        // a key naming a lease the table lacks stays unattached, as etcd's restore logs and skips it
        lessor.restore(store.loadLeases(txn), attached);
        return idx;
    }

    @Override
    public void close() {
        store.close();
    }
}
