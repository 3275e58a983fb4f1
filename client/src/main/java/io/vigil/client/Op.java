package io.vigil.client;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import java.nio.charset.StandardCharsets;

/**
 * One read, put or delete, to run alone ({@link Kv}) or inside a transaction ({@link Txn}).
 * Immutable: each option returns a new operation.
 *
 * <pre>{@code
 * Op.get("config/app")
 * Op.getPrefix("registry/pods/").limit(500)
 * Op.put("leader", "me").lease(leaseId).prevKv()
 * Op.deletePrefix("tmp/")
 * }</pre>
 */
public final class Op {
    private final RequestOp request;

    private Op(RequestOp request) {
        this.request = request;
    }

    public static Op get(String key) {
        return new Op(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes(key))).build());
    }

    /** Every key that starts with {@code prefix} ({@code ""}: every key). */
    public static Op getPrefix(String prefix) {
        ByteString key = prefix.isEmpty() ? ByteString.copyFrom(new byte[] {0}) : bytes(prefix);
        return new Op(RequestOp.newBuilder()
                .setRequestRange(RangeRequest.newBuilder().setKey(key).setRangeEnd(prefixEnd(bytes(prefix)))).build());
    }

    /** The keys in [from, to). */
    public static Op getRange(String from, String to) {
        return new Op(RequestOp.newBuilder()
                .setRequestRange(RangeRequest.newBuilder().setKey(bytes(from)).setRangeEnd(bytes(to))).build());
    }

    public static Op put(String key, String value) {
        return put(key, value.getBytes(StandardCharsets.UTF_8));
    }

    public static Op put(String key, byte[] value) {
        return new Op(RequestOp.newBuilder()
                .setRequestPut(PutRequest.newBuilder().setKey(bytes(key)).setValue(ByteString.copyFrom(value))).build());
    }

    public static Op delete(String key) {
        return new Op(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(bytes(key))).build());
    }

    /** Deletes every key that starts with {@code prefix}. */
    public static Op deletePrefix(String prefix) {
        ByteString key = prefix.isEmpty() ? ByteString.copyFrom(new byte[] {0}) : bytes(prefix);
        return new Op(RequestOp.newBuilder().setRequestDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(key).setRangeEnd(prefixEnd(bytes(prefix)))).build());
    }

    /** A read: at most {@code limit} keys (0: no limit). */
    public Op limit(long limit) {
        return range(range().setLimit(limit));
    }

    /** A read: as of {@code revision} (0: the latest). */
    public Op atRevision(long revision) {
        return range(range().setRevision(revision));
    }

    /** A read: keys and their metadata without values. */
    public Op keysOnly() {
        return range(range().setKeysOnly(true));
    }

    /** A read: only how many keys the range holds. */
    public Op countOnly() {
        return range(range().setCountOnly(true));
    }

    /**
     * A read on its own: answered from the member's own copy, without asking the leader (etcd's
     * serializable read: maybe stale, never torn). Inside a transaction it has no effect.
     */
    public Op serializable() {
        return range(range().setSerializable(true));
    }

    /** A put: bound to a lease (the key goes when the lease does). */
    public Op lease(long leaseId) {
        if (!request.hasRequestPut()) {
            throw new IllegalStateException("only a put takes a lease");
        }
        return new Op(request.toBuilder().setRequestPut(request.getRequestPut().toBuilder().setLease(leaseId)).build());
    }

    /** A put or delete: answers the value(s) it replaced. */
    public Op prevKv() {
        if (request.hasRequestPut()) {
            return new Op(request.toBuilder().setRequestPut(request.getRequestPut().toBuilder().setPrevKv(true)).build());
        }
        if (request.hasRequestDeleteRange()) {
            return new Op(request.toBuilder()
                    .setRequestDeleteRange(request.getRequestDeleteRange().toBuilder().setPrevKv(true)).build());
        }
        throw new IllegalStateException("only a put or a delete answers previous values");
    }

    private RangeRequest.Builder range() {
        if (!request.hasRequestRange()) {
            throw new IllegalStateException("only a read takes this option");
        }
        return request.getRequestRange().toBuilder();
    }

    private Op range(RangeRequest.Builder r) {
        return new Op(request.toBuilder().setRequestRange(r).build());
    }

    RequestOp request() {
        return request;
    }

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /**
     * etcd's prefix end: the prefix with its last byte below 0xff incremented and what follows
     * dropped; {@code \0} (the end of the keyspace) when there is none.
     */
    static ByteString prefixEnd(ByteString prefix) {
        byte[] end = prefix.toByteArray();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0});
    }

    @Override
    public String toString() {
        return request.toString();
    }
}
