package io.vigil.revlog;

import com.google.protobuf.Message;
import io.vigil.proto.etcdserverpb.CompactionResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.KeyValue;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Env;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The MVCC store: an append-only revision log on LMDB plus an in-memory key index.
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
    private volatile KeyIndex index;
    private volatile long currentRevision;
    private volatile long compactRevision;
    /**
     * Raised to the target of a compaction before the writer starts removing history, lowered back
     * to compactRevision only if it fails. Readers validate against it after reading: a read at a
     * revision below it may have seen half-removed history and must not be trusted.
     */
    private volatile long compactingRevision;
    private long appliedIndex;

    private RevLog(LmdbStore store) {
        this.store = store;
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
            index = loadIndex(txn);
            txn.commit();
        }
    }

    public static RevLog open(RevLogConfig config) {
        config.conclude();
        return new RevLog(new LmdbStore(config.dataDir(), config.mapSizeBytes(), config.maxReaders(),
                config.syncOnCommit()));
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

    /** Index of the last applied log entry (apply thread, or after apply returned). */
    public long appliedIndex() {
        return appliedIndex;
    }

    // ---- reads ----

    /** A Range at request.revision (or the current revision when it is <= 0). Any thread. */
    public RangeResponse range(RangeRequest request) {
        boolean atHead = request.getRevision() <= 0;
        while (true) {
            long head = currentRevision;
            long at = atHead ? head : request.getRevision();
            if (at > head) {
                throw new RevLogException(RevLogException.Code.FUTURE_REVISION);
            }
            if (at < compactRevision && !atHead) {
                throw new RevLogException(RevLogException.Code.COMPACTED);
            }
            RangeResponse resp = null;
            if (at >= compactRevision) {
                try (Txn<byte[]> txn = store.env.txnRead()) {
                    resp = RangeQuery.run(index, (m, s) -> store.getRecord(txn, m, s), request, at, head);
                } catch (LmdbStore.MissingRecordException compactedMeanwhile) {
                    resp = null;
                }
            }
            if (resp != null && at >= compactingRevision) {
                return resp;
            }
            if (!atHead) {
                throw new RevLogException(RevLogException.Code.COMPACTED);
            }
            // a read of the head was overtaken by a compaction past that head: read the newer head
        }
    }

    /**
     * A txn none of whose branches writes, evaluated at the current revision without going through
     * the log; the caller checked {@link RequestChecks#isReadOnly}. Any thread.
     */
    public io.vigil.proto.etcdserverpb.TxnResponse readOnlyTxn(io.vigil.proto.etcdserverpb.TxnRequest request) {
        while (true) {
            // compactingRevision first: the writer raises it before touching the index
            long compacting = compactingRevision;
            long head = currentRevision;
            if (head < compacting) {
                // a compaction past the published head is being applied with the writes before it;
                // their commit publishes a newer head
                Thread.onSpinWait();
                continue;
            }
            io.vigil.proto.etcdserverpb.TxnResponse resp;
            try (Txn<byte[]> txn = store.env.txnRead()) {
                resp = RevisionWriter.forRead(store, txn, index, head, compacting).txn(request);
            } catch (LmdbStore.MissingRecordException compactedMeanwhile) {
                resp = null;
            }
            if (resp != null && compactingRevision == compacting) {
                return resp;
            }
            // a compaction started meanwhile and may have removed what was read: evaluate again
        }
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
            index = loadIndex(txn);
        }
        compactingRevision = compactRevision;
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
        RevisionWriter w = RevisionWriter.forWrite(store, txn, index, revision, compacted);
        try {
            Message response = switch (req.getRequestCase()) {
                case PUT -> w.put(req.getPut());
                case DELETE_RANGE -> w.deleteRange(req.getDeleteRange());
                case TXN -> w.txn(req.getTxn());
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
        index.compact(target, (main, sub) -> store.kv.delete(txn, Records.revisionKey(main, sub)));
        CompactionResponse resp = CompactionResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setRevision(revision))
                .build();
        return ApplyResult.ok(entryIndex, revision, resp, List.of());
    }

    private KeyIndex loadIndex(Txn<byte[]> txn) {
        KeyIndex idx = new KeyIndex();
        try (CursorIterable<byte[]> records = store.kv.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : records) {
                KeyValue kv = Records.keyValue(r.val());
                idx.getOrCreate(kv.getKey().toByteArray())
                        .append(Records.mainRevision(r.key()), Records.subRevision(r.key()), Records.isTombstone(r.val()));
            }
        }
        return idx;
    }

    @Override
    public void close() {
        store.close();
    }
}
