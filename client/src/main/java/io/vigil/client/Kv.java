package io.vigil.client;

import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RequestOp;

/**
 * Reads, writes and transactions on keys. Reads are linearizable unless asked
 * {@link Op#serializable()}, and may be retried on another member; writes are sent once (to the
 * leader when known) and never retried: a failure whose outcome is unknown says so
 * ({@link VigilException#outcomeUnknown()}). Every call ends within the client's call timeout.
 */
public final class Kv {
    private final Calls calls;

    Kv(Calls calls) {
        this.calls = calls;
    }

    /** The key's current value, or null. */
    public KeyValue get(String key) {
        return get(Op.get(key)).single();
    }

    /** Every key under {@code prefix}, and the revision they were read at. */
    public OpResult.Get getPrefix(String prefix) {
        return get(Op.getPrefix(prefix));
    }

    /** A read made with {@link Op#get}, {@link Op#getPrefix} or {@link Op#getRange} and its options. */
    public OpResult.Get get(Op read) {
        RequestOp r = read.request();
        if (!r.hasRequestRange()) {
            throw new IllegalArgumentException("not a read: " + read);
        }
        return OpResult.Get.of(calls.read((channel, deadline) -> KVGrpc.newBlockingStub(channel).withDeadline(deadline)
                .range(r.getRequestRange())));
    }

    public OpResult.Put put(String key, String value) {
        return put(Op.put(key, value));
    }

    public OpResult.Put put(String key, byte[] value) {
        return put(Op.put(key, value));
    }

    /** A put made with {@link Op#put} and its options (lease, prevKv). */
    public OpResult.Put put(Op put) {
        RequestOp r = put.request();
        if (!r.hasRequestPut()) {
            throw new IllegalArgumentException("not a put: " + put);
        }
        return OpResult.Put.of(calls.write((channel, deadline) -> KVGrpc.newBlockingStub(channel).withDeadline(deadline)
                .put(r.getRequestPut())));
    }

    public OpResult.Delete delete(String key) {
        return delete(Op.delete(key));
    }

    public OpResult.Delete deletePrefix(String prefix) {
        return delete(Op.deletePrefix(prefix));
    }

    /** A delete made with {@link Op#delete} or {@link Op#deletePrefix} and its options. */
    public OpResult.Delete delete(Op delete) {
        RequestOp r = delete.request();
        if (!r.hasRequestDeleteRange()) {
            throw new IllegalArgumentException("not a delete: " + delete);
        }
        return OpResult.Delete.of(calls.write((channel, deadline) -> KVGrpc.newBlockingStub(channel).withDeadline(deadline)
                .deleteRange(r.getRequestDeleteRange())));
    }

    public Txn txn() {
        return new Txn(calls);
    }

    /**
     * Drops the history before {@code revision}: watches and reads from earlier revisions fail
     * as compacted. Sent once like a write (repeated, it would fail as already compacted).
     */
    public void compact(long revision) {
        calls.write((channel, deadline) -> KVGrpc.newBlockingStub(channel).withDeadline(deadline)
                .compact(CompactionRequest.newBuilder().setRevision(revision).build()));
    }
}
