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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.StampedLock;
import org.lmdbjava.CopyFlags;
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
 * <p>Threads: {@link #apply}, {@link #applyDeferred} and {@link #commit} are called by one thread
 * (the apply thread), in log order. {@link #range} may be called from any thread, never blocks the
 * writer, and sees exactly the state at one published revision.
 *
 * <p>Durability, two ways: {@link #apply} commits (and syncs) its batch before it publishes the new
 * revision, so a reader never observes a revision a crash could take back. {@link #applyDeferred}
 * is for a caller whose write-ahead log already made the entries durable: it applies them into a
 * write transaction that stays open across batches and publishes at once; {@link #commit} later
 * writes all of them to LMDB with one sync (etcd's backend batches its bbolt commits the same way).
 * Until then readers find those revisions' records in {@link PendingRecords}, and after a crash the
 * caller replays its log from {@link #committedIndex}.
 *
 * <p>Idempotence: the applied index is stored in the same LMDB transaction as the changes, and
 * entries at or below it are skipped, so replaying a log after a crash applies each entry once.
 */
public final class RevLog implements AutoCloseable {
    /** Replaced only by {@link #defragment}, under the write side of {@link #swapGate}. */
    private volatile LmdbStore store;
    /**
     * Readers hold its read side while a read transaction is open, so that a defragmentation swaps
     * the store only when none is; they never nest it (a reader's second transaction is opened
     * under the first's hold).
     */
    private final StampedLock swapGate = new StampedLock();
    private final long storeId;
    private final Lessor lessor;
    private volatile KeyIndex index;
    /** Set by the apply thread after each commit (and at open). */
    private volatile long dbSizeBytes;
    /** Rebuilt with the index from what is committed ({@link #loadState}), changed by apply. */
    private volatile Alarms alarms;
    /** Loaded with the index ({@link #loadState}), changed by apply; one object for the store's life. */
    private AuthStore auth;
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
    /** Told how long each LMDB commit of applied entries took, in nanoseconds (etcd's backend commit duration). */
    private volatile java.util.function.LongConsumer onCommit = nanos -> { };
    /** The applied index LMDB holds: entries above it were applied deferred and are not committed. */
    private volatile long committedIndex;
    /** Records of the revisions applied in {@link #deferredTxn}, for readers. */
    private final PendingRecords pending;
    /** The write transaction that deferred applies go into until {@link #commit}; null when none is open. */
    private Txn<byte[]> deferredTxn;
    /** The entries applied in deferredTxn, in order: applied again if the store fills before its commit. */
    private final List<LogEntry> uncommitted = new ArrayList<>();

    /** Where a batch starts from, or what it reached: the counters stored in {@code meta}. */
    private record Counters(long appliedIndex, long revision, long compactRevision) {
    }

    private record Applied(List<ApplyResult> results, Counters reached) {
    }

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
            publish(storedCounters(txn));
            index = loadState(txn);
            txn.commit();
        }
        committedIndex = appliedIndex;
        dbSizeBytes = store.fileBytes();
        pending = new PendingRecords(currentRevision + 1);
        // whatever was left of a lease before the restart, it now has its whole TTL again, so no
        // lease expires because the member was down; a member that becomes leader promotes the
        // leases again, from their checkpointed remaining TTLs if checkpoints are on
        lessor.startDeadlines();
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

    /** The active alarms (etcd's alarm list), ordered by member id then type. Any thread. */
    public List<io.vigil.proto.etcdserverpb.AlarmMember> alarms() {
        return alarms.active();
    }

    /** Users, roles and permissions (etcd's auth store). Any thread. */
    public AuthStore auth() {
        return auth;
    }

    /** The leases: existence, attached keys and expiry. */
    public Lessor lessor() {
        return lessor;
    }

    /** Index of the last applied log entry (apply thread, or after apply returned). */
    public long appliedIndex() {
        return appliedIndex;
    }

    /**
     * Index of the last entry LMDB holds durably: after a crash the store comes back with exactly
     * the entries up to here, so a write-ahead log must keep (and replay) every later one.
     */
    public long committedIndex() {
        return committedIndex;
    }

    /**
     * Writes a consistent copy of the store as it is committed to {@code dir} (an empty or absent
     * directory; the copy is {@code dir/data.mdb}, compacted) and returns the applied index it
     * holds: the Raft index a snapshot made of it stands for. Any thread; it reads in one LMDB
     * read transaction and never blocks the writer, so the copy may hold commits made after the
     * call began, which the returned index accounts for.
     */
    public long copyTo(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        long mapSize;
        try (Reading reading = new Reading()) {
            store.env.copy(dir.toFile(), CopyFlags.MDB_CP_COMPACT);
            mapSize = store.env.info().mapSize;
        }
        try (LmdbStore copy = new LmdbStore(dir, mapSize, 2, false);
             Txn<byte[]> txn = copy.env.txnRead()) {
            return copy.getMeta(txn, LmdbStore.META_APPLIED_INDEX, 0);
        }
    }

    /**
     * Gives back the space compactions freed: LMDB's compacting copy of the store replaces its data
     * file. Apply thread, after {@link #commit} (no deferred entries open). Writes wait for the
     * whole copy; reads go on during it, and the swap waits for the reads under way (a backup's
     * copy included) while new reads wait for the swap.
     */
    public void defragment() {
        if (deferredTxn != null) {
            throw new IllegalStateException("commit the deferred entries before defragmenting");
        }
        Path copy = store.writeCompactedCopy();
        long stamp = swapGate.writeLock();
        try {
            store = store.swapIn(copy);
        } finally {
            swapGate.unlockWrite(stamp);
        }
        dbSizeBytes = store.fileBytes();
    }

    /**
     * The data file's size as of the last commit: what the store takes on disk, free pages
     * included (etcd's db size, which its space quota is measured against). Any thread.
     */
    public long dbSizeBytes() {
        return dbSizeBytes;
    }

    /** Bytes in the pages the store's data uses (etcd's db size in use): what a defragmentation would leave. Any thread. */
    public long dbSizeInUseBytes() {
        try (Reading reading = new Reading()) {
            return store.bytesInUse(reading.txn);
        }
    }

    /** A read transaction of the store, held open against a defragmentation's swap (see {@link #swapGate}). */
    private final class Reading implements AutoCloseable {
        final Txn<byte[]> txn;
        private final long stamp;

        Reading() {
            stamp = swapGate.readLock();
            try {
                txn = store.env.txnRead();
            } catch (RuntimeException e) {
                swapGate.unlockRead(stamp);
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                txn.close();
            } finally {
                swapGate.unlockRead(stamp);
            }
        }
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
            try (Reading reading = new Reading()) {
                Txn<byte[]> txn = reading.txn;
                RangeResponse resp = RangeQuery.run(index, (m, s) -> recordOrMissing(txn, m, s), request, at, head);
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
            try (Reading reading = new Reading()) {
                Txn<byte[]> txn = reading.txn;
                TxnResponse resp = RevisionWriter.forRead((m, s) -> recordOrMissing(txn, m, s), index, lessor,
                        head, floor).txn(request);
                if (indexEpoch == epoch) {
                    return resp;
                }
            } catch (LmdbStore.MissingRecordException missing) {
                rethrowUnlessCompactedMeanwhile(missing, epoch);
            }
        }
    }

    /**
     * The events of fromRevision and later, in order, up to the published head: whole revisions
     * only, ending with the revision in which the maxEvents-th event or the maxBytes-th byte of
     * records falls (a revision larger than that still comes whole). With {@code withPrevKv}, each event
     * that is not a create carries the key as it was before its revision, when the log still holds
     * it (as etcd, which reads it at mod_revision - 1 and leaves it out once compacted). Any thread.
     *
     * <p>A compaction at C keeps, for each key, its newest record at or below C, so reading from C
     * itself is allowed (as in etcd); a delete at C keeps its tombstone until a later compaction
     * (see KeyHistory#compact), so that read misses nothing.
     */
    public History readHistory(long fromRevision, int maxEvents, long maxBytes, boolean withPrevKv) {
        while (true) {
            try (Reading reading = new Reading()) {
                Txn<byte[]> txn = reading.txn;
                // The published counters are read after the snapshot opened. A compaction is
                // published before (deferred) or right after (apply) the commit that removes its
                // records, so the larger of the two covers every removal this snapshot holds. The
                // history ends at the published head even when the snapshot holds more (apply
                // commits before it publishes).
                long committed = store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1);
                long compacted = Math.max(store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1), compactRevision);
                long head = currentRevision;
                if (fromRevision < compacted) {
                    return new History(true, compacted, fromRevision - 1, List.of());
                }
                HistoryCut cut = new HistoryCut(maxEvents, maxBytes, head);
                byte[] start = Records.revisionKey(Math.max(fromRevision, 1), 0);
                try (CursorIterable<byte[]> records = store.kv.iterate(txn, KeyRange.atLeast(start))) {
                    for (CursorIterable.KeyVal<byte[]> r : records) {
                        if (!cut.add(Records.mainRevision(r.key()), r.val())) {
                            break;
                        }
                    }
                }
                // revisions applied but not committed yet; when the commit that holds them landed
                // (and they were dropped) meanwhile, a newer snapshot has them: read again
                if (committed < head && !pending.collect(Math.max(fromRevision, committed + 1), head, cut::add)) {
                    continue;
                }
                List<Event> events = new ArrayList<>(cut.records.size());
                for (Map.Entry<Long, byte[]> r : cut.records) {
                    events.add(historyEvent(txn, r.getKey(), r.getValue(), withPrevKv));
                }
                return new History(false, compacted, cut.through, events);
            }
        }
    }

    /**
     * etcd's HashKV: the CRC-32C of the key-value history through {@code revision} (the current
     * revision when it is 0), as this member holds it at its compaction C. Hashed, in revision
     * order: every revision record (its 12-byte revision key, then the stored kind byte and
     * KeyValue) at or below that revision that the store holds; below C that is exactly what
     * compaction kept (Vigil removes them in the transaction that records C, never later).
     *
     * <p>Invariant: members that applied the same log through the hashed revision and stand at the
     * same compaction C return the same hash, whatever else they applied after it, whether their
     * records were committed to LMDB yet or still pending, and whether their store came from a
     * snapshot copy; members whose history differs in any record they hold return different ones
     * (short of a CRC collision). Members at different compactions are not comparable, as in etcd.
     * etcd's values differ (it hashes bbolt's records, and keeps records a compaction has not yet
     * removed).
     *
     * <p>Any thread; it reads one LMDB snapshot plus the pending records above it, and waits (at
     * most until the writer's next commit) only when a compaction was applied but not committed.
     *
     * @throws RevLogException COMPACTED when revision is at or below the compacted revision,
     *                         FUTURE_REVISION when it is above the current one
     */
    public KvHash hashKv(long revision) {
        long head = currentRevision;
        if (revision > 0 && revision <= compactRevision) {
            throw new RevLogException(RevLogException.Code.COMPACTED);
        }
        if (revision > head) {
            throw new RevLogException(RevLogException.Code.FUTURE_REVISION);
        }
        long through = revision > 0 ? revision : head;
        while (true) {
            try (Reading reading = new Reading()) {
                Txn<byte[]> txn = reading.txn;
                long committed = store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1);
                long compacted = store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1);
                if (compacted == compactRevision) {
                    if (through <= compacted) {
                        throw new RevLogException(RevLogException.Code.COMPACTED);
                    }
                    // records above the snapshot's revision are above C: no compaction at C touched them
                    Hashing h = Hashing.kv();
                    h.recordsThrough(store, txn, through);
                    if (committed >= through || pending.collect(committed + 1, through, h::pendingRecord)) {
                        return new KvHash(h.value(), head, compacted, through);
                    }
                    continue; // the commit holding the pending records landed meanwhile: a newer snapshot has them
                }
            }
            // the snapshot and the published compaction differ: the writer's commit is under way
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** The longest {@link #hash} waits for a commit holding what was applied when it was asked. */
    private static final long HASH_COMMIT_WAIT_NANOS = 5_000_000_000L;

    /**
     * etcd's Hash, of the whole store: the CRC-32C of every revision record, every lease (ID, TTL,
     * checkpointed remaining TTL) and the current and compacted revision, as committed, once the
     * commit holds at least what was applied when the call began (waiting for the writer's next
     * commit at most, and at most 5 s: a full store may commit nothing for longer). The applied
     * index and the store id are left out: both are this member's own. Invariant: members that applied the same log to the same point return the same hash;
     * comparing it is meaningful only when nothing is being written, since members apply at their
     * own pace (HashKV at a revision is the comparison that holds under writes). Any thread.
     */
    public StoreHash hash() {
        // appliedIndex is written before the head is published: after this volatile read of the
        // head it is at least the index applied when that head was published
        long publishedHead = currentRevision;
        long target = appliedIndex;
        // a full store may not commit the index of the entries it refused until it has room again:
        // then the hash is of what is committed, which the header's revision names
        long giveUpNanos = System.nanoTime() + HASH_COMMIT_WAIT_NANOS;
        while (true) {
            try (Reading reading = new Reading()) {
                Txn<byte[]> txn = reading.txn;
                if (store.getMeta(txn, LmdbStore.META_APPLIED_INDEX, 0) >= target
                        || System.nanoTime() - giveUpNanos > 0) {
                    return new StoreHash(Hashing.whole(store, txn),
                            store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1));
                }
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Whole revisions, in order, up to head, until the revision in which the event or byte budget
     * runs out.
     */
    private static final class HistoryCut {
        private final int maxEvents;
        private final long maxBytes;
        final List<Map.Entry<Long, byte[]>> records = new ArrayList<>();
        private long bytes;
        private long lastMain = -1;
        /** The last revision the records are complete through. */
        long through;

        HistoryCut(int maxEvents, long maxBytes, long head) {
            this.maxEvents = maxEvents;
            this.maxBytes = maxBytes;
            this.through = head;
        }

        /** Takes the record at revision main; false once the cut is made (or head passed). */
        boolean add(long main, byte[] record) {
            if (main > through) {
                return false;
            }
            if (full() && main != lastMain) {
                through = lastMain;
                return false;
            }
            lastMain = main;
            bytes += record.length;
            records.add(Map.entry(main, record));
            return true;
        }

        private boolean full() {
            return records.size() >= maxEvents || bytes >= maxBytes;
        }
    }

    /**
     * The events with prev_kv: each the key as it was just before its revision, when it was live
     * then and the log still holds it (etcd's watch server reads it at mod_revision - 1 as it
     * sends the event, and leaves it out once compacted). An event that has one already, a
     * create, or one whose key was absent or compacted stays as it is. A put's event leaves apply
     * without prev_kv unless its request read the value anyway ({@code RevisionWriter#events}).
     * One read transaction; any thread.
     */
    public List<Event> withPrevKv(List<Event> events) {
        if (events.stream().noneMatch(RevLog::mayLackPrevKv)) {
            return events;
        }
        try (Reading reading = new Reading()) {
            List<Event> out = new ArrayList<>(events.size());
            for (Event e : events) {
                KeyValue prev = mayLackPrevKv(e)
                        ? keyBefore(reading.txn, e.getKv().getKey().toByteArray(), e.getKv().getModRevision())
                        : null;
                out.add(prev == null ? e : e.toBuilder().setPrevKv(prev).build());
            }
            return out;
        }
    }

    private static boolean mayLackPrevKv(Event e) {
        return !e.hasPrevKv() && (e.getType() == Event.EventType.DELETE || e.getKv().getVersion() > 1);
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
        if (i == KeyHistory.NOT_FOUND || s.tombstone(i)) {
            return null;
        }
        byte[] record = record(txn, s.main(i), s.sub(i));
        return record == null ? null : Records.keyValue(record);
    }

    /**
     * A reader's record at (main, sub), or null when a compaction removed it. A record never
     * changes once written, so any place holding it gives the same bytes: the pending records
     * (applied, not committed), the reader's snapshot, or, when the commit that made it durable
     * dropped it from the pending records after the reader's snapshot was taken, a newer snapshot.
     */
    private byte[] record(Txn<byte[]> txn, long main, int sub) {
        byte[] r = main >= pending.floor() ? pending.get(main, sub) : null;
        if (r == null) {
            byte[] key = Records.revisionKey(main, sub);
            r = store.kv.get(txn, key);
            if (r == null) {
                try (Txn<byte[]> newer = store.env.txnRead()) {
                    r = store.kv.get(newer, key);
                }
            }
        }
        return r;
    }

    private byte[] recordOrMissing(Txn<byte[]> txn, long main, int sub) {
        byte[] r = record(txn, main, sub);
        if (r == null) {
            throw new LmdbStore.MissingRecordException(main, sub);
        }
        return r;
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
     * Applies committed entries in order, in one durable LMDB transaction, and publishes them once
     * it committed. Entries at or below the applied index are skipped (their results are not
     * returned). Apply thread only, and not while deferred applies wait for {@link #commit}.
     */
    public List<ApplyResult> apply(List<LogEntry> entries) {
        if (deferredTxn != null) {
            throw new IllegalStateException("deferred applies wait for commit()");
        }
        Applied applied;
        try (Txn<byte[]> txn = store.env.txnWrite()) {
            applied = applyInTxn(txn, index, counters(), entries, false);
            commitTimed(txn);
        } catch (Env.MapFullException full) {
            return refuseBatch(entries, full);
        }
        committedIndex = applied.reached().appliedIndex();
        dbSizeBytes = store.fileBytes();
        // readers holding an older snapshot must see that its records are not pending either
        pending.trimThrough(applied.reached().revision());
        publish(applied.reached());
        return applied.results();
    }

    /**
     * Applies entries like {@link #apply} and publishes them, but into the write transaction that
     * stays open until {@link #commit}: the caller has already made them durable in its own log
     * and replays them after a crash. When the store is full, the entries applied since the last
     * commit are applied again from what is committed and committed at once, and this batch then
     * gets a transaction of its own, which refuses it with "database space exceeded" if it does
     * not fit either. Apply thread only.
     *
     * @throws IllegalStateException when even the entries already applied no longer fit (the
     *                               member must stop; its log still holds them)
     */
    public List<ApplyResult> applyDeferred(List<LogEntry> entries) {
        if (deferredTxn == null) {
            deferredTxn = store.env.txnWrite();
        }
        Applied applied;
        try {
            applied = applyInTxn(deferredTxn, index, counters(), entries, true);
        } catch (Env.MapFullException full) {
            commitAfterFull(full);
            return apply(entries);
        }
        uncommitted.addAll(entries);
        publish(applied.reached());
        return applied.results();
    }

    /** From now on {@code nanos} is told how long each commit (with its syncs) of applied entries took, on the apply thread. */
    public void onCommit(java.util.function.LongConsumer nanos) {
        this.onCommit = nanos;
    }

    private void commitTimed(Txn<byte[]> txn) {
        long start = System.nanoTime();
        txn.commit();
        onCommit.accept(System.nanoTime() - start);
    }

    /**
     * Commits (and syncs) everything applied deferred since the last commit; afterwards
     * {@link #committedIndex} is the applied index. Apply thread only.
     *
     * @throws IllegalStateException when the commit fails: LMDB then holds none of those entries
     *                               while readers were already served them, so the member must stop
     */
    public void commit() {
        if (deferredTxn == null) {
            return;
        }
        try (Txn<byte[]> txn = deferredTxn) {
            deferredTxn = null;
            commitTimed(txn);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot commit applied entries up to " + appliedIndex, e);
        }
        committedEverything();
    }

    /**
     * LMDB takes nothing more in a write transaction that hit the map size, so the open one goes,
     * and with it entries that were already acknowledged. They fitted before, so they are applied
     * again, to an index and lessor rebuilt from what is committed, and committed now. Readers keep
     * the old index until the rebuilt one replaces it; the lessor's reads may miss those entries'
     * leases meanwhile.
     */
    private void commitAfterFull(Env.MapFullException full) {
        deferredTxn.close();
        deferredTxn = null;
        try (Txn<byte[]> txn = store.env.txnWrite()) {
            KeyIndex rebuilt = loadState(txn);
            Counters reached = applyInTxn(txn, rebuilt, storedCounters(txn), uncommitted, true).reached();
            commitTimed(txn);
            if (!reached.equals(counters())) {
                throw new IllegalStateException("applying entries again reached " + reached + ", not " + counters());
            }
            index = rebuilt;
            indexEpoch++;
        } catch (Env.MapFullException again) {
            again.addSuppressed(full);
            throw new IllegalStateException("the store is too full for even the acknowledged entries up to "
                    + appliedIndex + "; they are in the caller's log, for a restart with a larger quota", again);
        }
        committedEverything();
    }

    /**
     * LMDB now holds every applied entry: readers find those revisions in their snapshots, and
     * nothing is pending (above the head only what an aborted transaction applied, if anything).
     */
    private void committedEverything() {
        dbSizeBytes = store.fileBytes();
        committedIndex = appliedIndex;
        pending.trimThrough(currentRevision);
        pending.discardAbove(currentRevision);
        uncommitted.clear();
    }

    /** Aborts the deferred transaction, if any: the member stops, and its log replays the entries. Apply thread. */
    public void abandonUncommitted() {
        if (deferredTxn != null) {
            deferredTxn.close();
            deferredTxn = null;
        }
    }

    /** The counters txn's snapshot holds; an empty store is at revision 1 and never compacted. */
    private Counters storedCounters(Txn<byte[]> txn) {
        return new Counters(store.getMeta(txn, LmdbStore.META_APPLIED_INDEX, 0),
                store.getMeta(txn, LmdbStore.META_CURRENT_REVISION, 1),
                // never compacted is -1, as in etcd, so that a first compaction at 0 succeeds
                store.getMeta(txn, LmdbStore.META_COMPACT_REVISION, -1));
    }

    private Counters counters() {
        return new Counters(appliedIndex, currentRevision, compactRevision);
    }

    /** Makes a batch visible to readers: the head last, since readers start from it. */
    private void publish(Counters reached) {
        appliedIndex = reached.appliedIndex();
        compactRevision = reached.compactRevision();
        compactingRevision = reached.compactRevision();
        currentRevision = reached.revision();
    }

    /**
     * Applies entries after {@code from} in txn and stores the counters they reach; with
     * {@code deferred}, each new revision's records also go to the pending records.
     */
    private Applied applyInTxn(Txn<byte[]> txn, KeyIndex index, Counters from, List<LogEntry> entries,
                               boolean deferred) {
        List<ApplyResult> results = new ArrayList<>(entries.size());
        long revision = from.revision();
        long compacted = from.compactRevision();
        long lastIndex = from.appliedIndex();
        for (LogEntry e : entries) {
            if (e.index() <= lastIndex) {
                continue;
            }
            lastIndex = e.index();
            ApplyResult r = applyOne(txn, index, e, revision, compacted, deferred);
            results.add(r);
            revision = r.revision();
            if (e.request().hasCompaction() && r.error() == null) {
                compacted = e.request().getCompaction().getRevision();
            }
        }
        store.putMeta(txn, LmdbStore.META_APPLIED_INDEX, lastIndex);
        store.putMeta(txn, LmdbStore.META_CURRENT_REVISION, revision);
        store.putMeta(txn, LmdbStore.META_COMPACT_REVISION, compacted);
        return new Applied(results, new Counters(lastIndex, revision, compacted));
    }

    /**
     * The store is full: nothing of the batch was committed, but the index already holds its
     * changes. Rebuild the index from what is committed and refuse every entry of the batch.
     *
     * <p>A refused entry counts as applied (as an entry a precondition refuses does), so that a
     * replayed log does not apply it after all, e.g. once the quota was raised: its proposer was
     * told "database space exceeded". The applied index is committed on its own when the full
     * store still takes that one small write; otherwise with the next commit.
     */
    private List<ApplyResult> refuseBatch(List<LogEntry> entries, Env.MapFullException cause) {
        try (Txn<byte[]> txn = store.env.txnRead()) {
            index = loadState(txn);
        }
        compactingRevision = compactRevision;
        indexEpoch++;
        List<ApplyResult> refused = new ArrayList<>();
        long lastIndex = appliedIndex;
        for (LogEntry e : entries) {
            if (e.index() > lastIndex) {
                lastIndex = e.index();
                refused.add(ApplyResult.failed(e.index(), currentRevision,
                        new RevLogException(RevLogException.Code.NO_SPACE)));
            }
        }
        appliedIndex = lastIndex;
        try (Txn<byte[]> txn = store.env.txnWrite()) {
            store.putMeta(txn, LmdbStore.META_APPLIED_INDEX, lastIndex);
            txn.commit();
            committedIndex = lastIndex;
        } catch (Env.MapFullException stillFull) {
            // the next commit stores it; a restart before then refuses these entries again
        }
        return refused;
    }

    private ApplyResult applyOne(Txn<byte[]> txn, KeyIndex index, LogEntry e, long revision, long compacted,
                                 boolean deferred) {
        InternalRequest req = e.request();
        RevLogException capped = alarms.refusal(req);
        if (capped != null) {
            return ApplyResult.failed(e.index(), revision, capped);
        }
        if (req.hasAlarm()) {
            return ApplyResult.ok(e.index(), revision, alarms.apply(store, txn, req.getAlarm()), List.of());
        }
        if (req.hasAuth()) {
            try {
                return ApplyResult.ok(e.index(), revision,
                        auth.apply(store, txn, req.getAuth(), req.hasHeader() ? req.getHeader() : null, e.index()), List.of());
            } catch (RevLogException refused) {
                return ApplyResult.failed(e.index(), revision, refused);
            }
        }
        RevLogException denied = auth.refusal(req, lessor);
        if (denied != null) {
            return ApplyResult.failed(e.index(), revision, denied);
        }
        if (req.hasCompaction()) {
            return compact(txn, index, e.index(), req.getCompaction().getRevision(), revision, compacted);
        }
        RevisionWriter w = RevisionWriter.forWrite(store, txn, index, lessor, revision, compacted);
        try {
            Message response = switch (req.getRequestCase()) {
                case PUT -> w.put(req.getPut());
                case DELETE_RANGE -> w.deleteRange(req.getDeleteRange());
                case TXN -> w.txn(req.getTxn());
                case LEASE_GRANT -> w.leaseGrant(req.getLeaseGrant());
                case LEASE_REVOKE -> w.leaseRevoke(req.getLeaseRevoke());
                case LEASE_CHECKPOINT -> w.leaseCheckpoint(req.getLeaseCheckpoint());
                default -> throw new IllegalArgumentException("log entry " + e.index() + " holds no request");
            };
            if (deferred && !w.records().isEmpty()) {
                pending.add(w.endRevision(), w.records());
            }
            return ApplyResult.ok(e.index(), w.endRevision(), response, w.events());
        } catch (RevLogException refused) {
            // preconditions are checked before the first change, so nothing was written
            return ApplyResult.failed(e.index(), revision, refused);
        }
    }

    private ApplyResult compact(Txn<byte[]> txn, KeyIndex index, long entryIndex, long target, long revision,
                                long compacted) {
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
                        .append(Records.mainRevision(r.key()), Records.subRevision(r.key()), tombstone, kv);
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
        alarms = Alarms.load(store, txn);
        if (auth == null) {
            auth = AuthStore.load(store, txn);
        } else {
            auth.reload(store, txn);
        }
        return idx;
    }

    /** Closes the store; deferred applies not committed by then are dropped (see {@link #commit}). */
    @Override
    public void close() {
        abandonUncommitted();
        store.close();
    }
}
