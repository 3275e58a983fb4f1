package io.vigil.revlog;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.LeaseCheckpoint;
import io.vigil.proto.etcdserverpb.LeaseCheckpointRequest;
import io.vigil.proto.etcdserverpb.LeaseCheckpointResponse;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.lmdbjava.Txn;

/**
 * Applies one write request as (at most) one new revision, {@code beginRevision + 1}, inside the
 * batch's LMDB write transaction. Sub revisions number the changes in order. Reads made while
 * applying see the changes made so far (etcd: a txn's range sees its own earlier puts).
 *
 * <p>Precondition checks (ignore_value on a missing key, unknown lease, a txn range at a compacted
 * or future revision) run before the first change, so a refused request leaves no trace.
 */
final class RevisionWriter {
    private final LmdbStore store;
    private final Txn<byte[]> txn;
    private final RangeQuery.RecordReader records;
    private final KeyIndex index;
    private final Lessor lessor;
    private final long beginRevision;
    private final long compactRevision;
    /**
     * Index entries above this revision are invisible. Applying a write it is beginRevision + 1
     * (this request's own changes); evaluating a read-only txn beside the writer it is the
     * published head, so that a batch being applied concurrently stays out of sight.
     */
    private final long visibleRevision;
    private final List<Event> events = new ArrayList<>();
    /** The records written, by sub revision: what readers see of this revision before its commit. */
    private final List<byte[]> written = new ArrayList<>();

    private RevisionWriter(LmdbStore store, Txn<byte[]> txn, RangeQuery.RecordReader records, KeyIndex index,
                           Lessor lessor, long beginRevision, long compactRevision, long visibleRevision) {
        this.store = store;
        this.txn = txn;
        this.records = records;
        this.index = index;
        this.lessor = lessor;
        this.beginRevision = beginRevision;
        this.compactRevision = compactRevision;
        this.visibleRevision = visibleRevision;
    }

    /** For the apply thread, in the batch's write transaction. */
    static RevisionWriter forWrite(LmdbStore store, Txn<byte[]> txn, KeyIndex index, Lessor lessor,
                                   long beginRevision, long compactRevision) {
        return new RevisionWriter(store, txn, (m, s) -> store.getRecord(txn, m, s), index, lessor,
                beginRevision, compactRevision, beginRevision + 1);
    }

    /**
     * For a txn that writes nothing, evaluated in a read transaction at the published head on any
     * thread. Calling a write method on it is a bug.
     */
    static RevisionWriter forRead(RangeQuery.RecordReader records, KeyIndex index, Lessor lessor, long head,
                                  long compactRevision) {
        return new RevisionWriter(null, null, records, index, lessor, head, compactRevision, head);
    }

    /**
     * The events written, in sub-revision order; empty when nothing changed. A delete carries
     * prev_kv, the key as it was before this revision; a put only when this request read the value
     * it replaces anyway (prev_kv or ignore_value asked), otherwise the watch hub reads it for the
     * watchers that ask ({@link RevLog#withPrevKv}, at mod_revision - 1 as etcd's watch does). A
     * create has none.
     */
    List<Event> events() {
        return events;
    }

    /** The records written, in sub-revision order, all at revision {@link #endRevision()}. */
    List<byte[]> records() {
        return written;
    }

    /** The revision the store is at once this request is applied. */
    long endRevision() {
        return events.isEmpty() ? beginRevision : beginRevision + 1;
    }

    // ---- Put ----

    PutResponse put(PutRequest p) {
        // etcd checks a plain put's lease before the key; inside a txn the other way round
        checkLease(p.getLease());
        if ((p.getIgnoreValue() || p.getIgnoreLease()) && live(p.getKey().toByteArray()) == null) {
            throw new RevLogException(RevLogException.Code.KEY_NOT_FOUND);
        }
        return doPut(p);
    }

    private PutResponse doPut(PutRequest p) {
        byte[] key = p.getKey().toByteArray();
        KeyHistory live = live(key);
        // the value it replaces is read only when this request needs it, as etcd reads it: the
        // watch hub reads prev_kv for the watchers that ask (RevLog#withPrevKv)
        KeyValue prev = live != null && (p.getPrevKv() || p.getIgnoreValue()) ? current(key) : null;
        long main = beginRevision + 1;
        long oldLease = live == null ? 0 : live.liveLease();
        ByteString value = p.getIgnoreValue() ? prev.getValue() : p.getValue();
        long lease = p.getIgnoreLease() ? oldLease : p.getLease();
        KeyValue kv = KeyValue.newBuilder()
                .setKey(p.getKey())
                .setCreateRevision(live == null ? main : live.liveCreateRevision())
                .setModRevision(main)
                .setVersion(live == null ? 1 : live.liveVersion() + 1)
                .setValue(value)
                .setLease(lease)
                .build();
        // the event's prev_kv is the key before this revision; a create has none (etcd: IsCreateEvent)
        KeyValue before = prev == null ? null : beforeThisRevision(key, prev);
        write(key, Records.PUT, kv);
        // etcd's attach/detach: the key leaves its old lease unless it keeps it, and joins the new
        if (oldLease != 0 && oldLease != lease) {
            lessor.detach(oldLease, key);
        }
        if (lease != 0) {
            lessor.attach(lease, key);
        }
        events.add(event(Event.EventType.PUT, kv, before));
        PutResponse.Builder resp = PutResponse.newBuilder().setHeader(header(main));
        if (p.getPrevKv() && prev != null) {
            resp.setPrevKv(prev);
        }
        return resp.build();
    }

    // ---- DeleteRange ----

    DeleteRangeResponse deleteRange(DeleteRangeRequest d) {
        List<KeyValue> live = RangeQuery.liveKeyValues(index, this::read, d.getKey().toByteArray(),
                d.getRangeEnd().toByteArray(), visibleRevision);
        for (KeyValue kv : live) {
            delete(kv);
        }
        DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder()
                .setHeader(header(endRevision()))
                .setDeleted(live.size());
        if (d.getPrevKv()) {
            resp.addAllPrevKvs(live);
        }
        return resp.build();
    }

    /**
     * Deletes one live key: a tombstone, a DELETE event carrying the key as it was before this
     * revision, and the key leaves its lease. DeleteRange and lease revocation both delete here.
     */
    private void delete(KeyValue kv) {
        byte[] key = kv.getKey().toByteArray();
        KeyValue tombstone = KeyValue.newBuilder().setKey(kv.getKey()).setModRevision(beginRevision + 1).build();
        KeyValue before = beforeThisRevision(key, kv);
        write(key, Records.TOMBSTONE, tombstone);
        if (kv.getLease() != 0) {
            lessor.detach(kv.getLease(), key);
        }
        events.add(event(Event.EventType.DELETE, tombstone, before));
    }

    // ---- Leases ----

    /**
     * etcd's lessor.Grant at apply: the id must be non-zero and free and the TTL at most
     * {@link Lessor#MAX_TTL_SECONDS} (the server raised it to the minimum before proposing). No
     * revision: the header carries the current one.
     */
    LeaseGrantResponse leaseGrant(LeaseGrantRequest g) {
        // etcd's order of checks
        if (g.getID() == 0) {
            throw new RevLogException(RevLogException.Code.LEASE_NOT_FOUND);
        }
        if (g.getTTL() > Lessor.MAX_TTL_SECONDS) {
            throw new RevLogException(RevLogException.Code.LEASE_TTL_TOO_LARGE);
        }
        if (lessor.exists(g.getID())) {
            throw new RevLogException(RevLogException.Code.LEASE_EXISTS);
        }
        store.putLease(txn, g.getID(), g.getTTL(), 0);
        lessor.grant(g.getID(), g.getTTL());
        return LeaseGrantResponse.newBuilder().setHeader(header(beginRevision))
                .setID(g.getID()).setTTL(g.getTTL()).build();
    }

    /**
     * etcd's lessor.Revoke: every attached key is deleted, in key order, in one new revision (none
     * when no key is attached), with the DELETE events a DeleteRange makes; then the lease is gone.
     */
    LeaseRevokeResponse leaseRevoke(LeaseRevokeRequest r) {
        List<byte[]> keys = lessor.keys(r.getID());
        if (keys == null) {
            throw new RevLogException(RevLogException.Code.LEASE_NOT_FOUND);
        }
        for (byte[] key : keys) {
            // attached keys are live by invariant; etcd's DeleteRange of a missing key is a no-op too
            KeyValue kv = current(key);
            if (kv != null) {
                delete(kv);
            }
        }
        lessor.revoke(r.getID());
        store.deleteLease(txn, r.getID());
        return LeaseRevokeResponse.newBuilder().setHeader(header(endRevision())).build();
    }

    /**
     * etcd's lessor.Checkpoint at apply: records each lease's remaining TTL, in the lease table and
     * in the lessor (0 clears it; a negative value counts as 0). A lease that no longer exists is
     * skipped, as etcd skips it: a revoke may have been applied between the leader taking the
     * checkpoint and this entry. Never refused, no revision: the header carries the current one.
     */
    LeaseCheckpointResponse leaseCheckpoint(LeaseCheckpointRequest r) {
        for (LeaseCheckpoint cp : r.getCheckpointsList()) {
            long ttl = lessor.grantedTtl(cp.getID());
            if (ttl < 0) {
                continue;
            }
            long remaining = Math.max(0, cp.getRemainingTTL());
            store.putLease(txn, cp.getID(), ttl, remaining);
            lessor.checkpoint(cp.getID(), remaining);
        }
        return LeaseCheckpointResponse.newBuilder().setHeader(header(beginRevision)).build();
    }

    // ---- Txn ----

    /**
     * etcd 3.4 order: every compare on the chosen path (nested txns included) is evaluated against
     * the state before the txn; then the puts on that path are checked, then the ranges; only
     * then are the operations applied, in order.
     */
    TxnResponse txn(TxnRequest t) {
        List<Boolean> path = new ArrayList<>();
        choosePath(t, path);
        checkPath(t, path.iterator(), true);
        checkPath(t, path.iterator(), false);
        return execute(t, path.iterator(), true);
    }

    private void choosePath(TxnRequest t, List<Boolean> path) {
        boolean succeeded = t.getCompareList().stream().allMatch(this::compare);
        path.add(succeeded);
        for (RequestOp op : succeeded ? t.getSuccessList() : t.getFailureList()) {
            if (op.hasRequestTxn()) {
                choosePath(op.getRequestTxn(), path);
            }
        }
    }

    private void checkPath(TxnRequest t, Iterator<Boolean> path, boolean puts) {
        checkPath(t, path, puts, new ArrayList<>());
    }

    /**
     * Walks the chosen path in execution order. {@code deletedBefore} collects the deletes met so
     * far: a put that keeps the current value or lease needs a key that exists before the txn and
     * that no earlier delete of the txn removed. (etcd 3.4 checks only the first and crashes on a
     * from-key delete followed by such a put; Vigil refuses that txn with "key not found".)
     */
    private void checkPath(TxnRequest t, Iterator<Boolean> path, boolean puts, List<DeleteRangeRequest> deletedBefore) {
        boolean succeeded = path.next();
        for (RequestOp op : succeeded ? t.getSuccessList() : t.getFailureList()) {
            if (op.hasRequestTxn()) {
                checkPath(op.getRequestTxn(), path, puts, deletedBefore);
            } else if (puts && op.hasRequestDeleteRange()) {
                deletedBefore.add(op.getRequestDeleteRange());
            } else if (puts && op.hasRequestPut()) {
                PutRequest p = op.getRequestPut();
                byte[] key = p.getKey().toByteArray();
                if ((p.getIgnoreValue() || p.getIgnoreLease())
                        && (current(key) == null || deletedBefore.stream().anyMatch(d -> KeyRanges.contains(
                                d.getKey().toByteArray(), d.getRangeEnd().toByteArray(), key)))) {
                    throw new RevLogException(RevLogException.Code.KEY_NOT_FOUND);
                }
                checkLease(p.getLease());
            } else if (!puts && op.hasRequestRange()) {
                checkReadRevision(op.getRequestRange().getRevision(), beginRevision);
            }
        }
    }

    private TxnResponse execute(TxnRequest t, Iterator<Boolean> path, boolean outermost) {
        boolean succeeded = path.next();
        TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(succeeded);
        for (RequestOp op : succeeded ? t.getSuccessList() : t.getFailureList()) {
            ResponseOp.Builder r = ResponseOp.newBuilder();
            switch (op.getRequestCase()) {
                case REQUEST_RANGE -> r.setResponseRange(rangeInTxn(op.getRequestRange()));
                case REQUEST_PUT -> {
                    PutRequest p = op.getRequestPut();
                    r.setResponsePut(doPut(p));
                }
                case REQUEST_DELETE_RANGE -> r.setResponseDeleteRange(deleteRange(op.getRequestDeleteRange()));
                case REQUEST_TXN -> r.setResponseTxn(execute(op.getRequestTxn(), path, false));
                default -> throw new IllegalStateException("unvalidated empty RequestOp reached apply");
            }
            resp.addResponses(r);
        }
        // etcd leaves nested txn headers empty and stamps the outermost with the final revision
        resp.setHeader(outermost ? header(endRevision()) : ResponseHeader.getDefaultInstance());
        return resp.build();
    }

    private io.vigil.proto.etcdserverpb.RangeResponse rangeInTxn(RangeRequest r) {
        long readRevision = endRevision();
        long at = r.getRevision() <= 0 ? readRevision : r.getRevision();
        return RangeQuery.run(index, this::read, r, at, readRevision);
    }

    private boolean compare(Compare c) {
        List<KeyValue> kvs = RangeQuery.liveKeyValues(index, this::read, c.getKey().toByteArray(),
                c.getRangeEnd().toByteArray(), beginRevision);
        if (kvs.isEmpty()) {
            // a missing key has no value to compare: etcd fails every VALUE compare on it
            return c.getTarget() != Compare.CompareTarget.VALUE && compare(c, KeyValue.getDefaultInstance());
        }
        return kvs.stream().allMatch(kv -> compare(c, kv));
    }

    private static boolean compare(Compare c, KeyValue kv) {
        int result = switch (c.getTarget()) {
            case VERSION -> Long.compare(kv.getVersion(), c.getVersion());
            case CREATE -> Long.compare(kv.getCreateRevision(), c.getCreateRevision());
            case MOD -> Long.compare(kv.getModRevision(), c.getModRevision());
            case VALUE -> Arrays.compareUnsigned(kv.getValue().toByteArray(), c.getValue().toByteArray());
            case LEASE -> Long.compare(kv.getLease(), c.getLease());
            default -> 0;
        };
        return switch (c.getResult()) {
            case EQUAL -> result == 0;
            case NOT_EQUAL -> result != 0;
            case GREATER -> result > 0;
            case LESS -> result < 0;
            default -> true;
        };
    }

    // ---- shared ----

    void checkReadRevision(long revision, long currentRevision) {
        if (revision > currentRevision) {
            throw new RevLogException(RevLogException.Code.FUTURE_REVISION);
        }
        if (revision > 0 && revision < compactRevision) {
            throw new RevLogException(RevLogException.Code.COMPACTED);
        }
    }

    /** A put's lease must exist when the put is applied (lease 0 is no lease). */
    private void checkLease(long lease) {
        if (lease != 0 && !lessor.exists(lease)) {
            throw new RevLogException(RevLogException.Code.LEASE_NOT_FOUND);
        }
    }

    /**
     * The history of key when it is live including this request's changes so far, or null: the
     * writer's own view, without reading the store. Writer only.
     */
    private KeyHistory live(byte[] key) {
        KeyHistory h = index.get(key);
        return h != null && h.isLive() ? h : null;
    }

    /** The live KeyValue of key including this request's changes so far, or null. */
    private KeyValue current(byte[] key) {
        return liveAt(key, visibleRevision);
    }

    private KeyValue liveAt(byte[] key, long revision) {
        KeyHistory h = index.get(key);
        if (h == null) {
            return null;
        }
        KeyHistory.Snapshot s = h.snapshot();
        int i = s.liveAt(revision);
        return i == KeyHistory.NOT_FOUND ? null : Records.keyValue(read(s.main(i), s.sub(i)));
    }

    /**
     * The live KeyValue of key before this revision. {@code current} is its value including this
     * request's changes so far, which is the same thing unless this request already changed
     * something (a txn's earlier operations).
     */
    private KeyValue beforeThisRevision(byte[] key, KeyValue current) {
        return events.isEmpty() ? current : liveAt(key, beginRevision);
    }

    private static Event event(Event.EventType type, KeyValue kv, KeyValue prev) {
        Event.Builder e = Event.newBuilder().setType(type).setKv(kv);
        if (prev != null) {
            e.setPrevKv(prev);
        }
        return e.build();
    }

    private void write(byte[] key, byte kind, KeyValue kv) {
        if (visibleRevision == beginRevision) {
            throw new IllegalStateException("a read-only txn evaluation tried to write");
        }
        long main = beginRevision + 1;
        int sub = events.size();
        byte[] record = Records.encode(kind, kv);
        store.kv.put(txn, Records.revisionKey(main, sub), record);
        written.add(record);
        index.getOrCreate(key).append(main, sub, kind == Records.TOMBSTONE, kv);
    }

    private byte[] read(long main, int sub) {
        return records.read(main, sub);
    }

    private static ResponseHeader header(long revision) {
        return ResponseHeader.newBuilder().setRevision(revision).build();
    }
}
