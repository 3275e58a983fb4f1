package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.proto.v3lockpb.LockGrpc;
import io.vigil.proto.v3lockpb.LockRequest;
import io.vigil.proto.v3lockpb.LockResponse;
import io.vigil.proto.v3lockpb.UnlockRequest;
import io.vigil.proto.v3lockpb.UnlockResponse;
import io.vigil.revlog.RequestChecks;
import io.vigil.revlog.RevLogException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lock service (v3lock: clientv3/concurrency's Mutex on the server). A lock is held by a
 * key {@code name/hex(lease)} put with the caller's lease; the key under {@code name/} with the
 * lowest create revision holds the lock, and the others wait, each for every key created before
 * its own to be deleted (by Unlock, or by its lease ending). Locking again with the same lease
 * finds its key and is the same acquisition.
 *
 * <p>A Lock that ends before it holds the lock (the client cancelled it, or the server closed
 * it) deletes its key, as etcd's Mutex does when its wait fails, so nobody queues behind a
 * caller that is gone.
 */
final class LockService extends LockGrpc.LockImplBase {
    private final LocalKv kv;

    LockService(LocalKv kv) {
        this.kv = kv;
    }

    @Override
    public void lock(LockRequest request, StreamObserver<LockResponse> out) {
        LocalKv.Scope scope = LocalKv.scopeOf((ServerCallStreamObserver<?>) out);
        ByteString prefix = LocalKv.prefix(request.getName());
        kv.session(scope, request.getLease())
                .thenCompose(lease -> {
                    ByteString key = LocalKv.key(prefix, lease);
                    return kv.txn(scope, enqueue(prefix, key, lease))
                            .thenCompose(txn -> awaitTurn(scope, prefix, key, txn));
                })
                .whenComplete((resp, failure) -> Replies.answer(out, resp, failure));
    }

    /**
     * Puts the key unless it exists (the same lease locking again), and reads the holder: if it
     * is this key, the lock is held with no second round trip.
     */
    private static TxnRequest enqueue(ByteString prefix, ByteString key, long lease) {
        RequestOp holder = RequestOp.newBuilder().setRequestRange(LocalKv.firstCreated(prefix)).build();
        return TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
                        .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setLease(lease)))
                .addSuccess(holder)
                .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .addFailure(holder)
                .build();
    }

    /**
     * Holds the lock now, or waits for every key created before this one to go, then checks
     * that this key is still there (its lease may have ended meanwhile: etcd 3.4's "mutex:
     * session is expired"). A wait that fails deletes the key.
     */
    private CompletableFuture<LockResponse> awaitTurn(LocalKv.Scope scope, ByteString prefix, ByteString key,
                                                      TxnResponse txn) {
        long myRevision = txn.getSucceeded() ? txn.getHeader().getRevision()
                : txn.getResponses(0).getResponseRange().getKvs(0).getCreateRevision();
        List<KeyValue> holder = txn.getResponses(1).getResponseRange().getKvsList();
        if (holder.isEmpty() || holder.get(0).getCreateRevision() == myRevision) {
            return held(scope, key, txn.getHeader());
        }
        return kv.waitDeletes(scope, prefix, myRevision - 1)
                .thenCompose(header -> kv.range(scope, RangeRequest.newBuilder().setKey(key).build()))
                .handle((mine, failure) -> {
                    if (failure != null) {
                        kv.delete(kv.callerOf(scope), key);
                        throw LocalKv.asCompletion(failure);
                    }
                    if (mine.getKvsCount() == 0) {
                        throw EtcdErrors.LOCK_SESSION_EXPIRED;
                    }
                    return mine.getHeader();
                })
                .thenCompose(header -> held(scope, key, header));
    }

    /** The answer for a lock now held; if the call ended meanwhile, its key goes instead. */
    private CompletableFuture<LockResponse> held(LocalKv.Scope scope, ByteString key, ResponseHeader header) {
        if (scope.isEnded()) {
            kv.delete(kv.callerOf(scope), key);
            return CompletableFuture.failedFuture(LocalKv.ENDED);
        }
        return CompletableFuture.completedFuture(LockResponse.newBuilder().setHeader(header).setKey(key).build());
    }

    /** Deletes the key Lock returned; a key that is not there is no error (etcd's Delete). */
    @Override
    public void unlock(UnlockRequest request, StreamObserver<UnlockResponse> out) {
        try {
            RequestChecks.checkDeleteRange(DeleteRangeRequest.newBuilder()
                    .setKey(request.getKey()).build());
        } catch (RevLogException e) {
            Replies.answer(out, null, e);
            return;
        }
        kv.delete(kv.currentCaller(), request.getKey()).whenComplete((resp, failure) -> Replies.answer(out,
                failure == null ? UnlockResponse.newBuilder().setHeader(resp.getHeader()).build() : null, failure));
    }
}
