package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.v3electionpb.CampaignRequest;
import io.vigil.proto.v3electionpb.CampaignResponse;
import io.vigil.proto.v3electionpb.ElectionGrpc;
import io.vigil.proto.v3electionpb.LeaderKey;
import io.vigil.proto.v3electionpb.LeaderRequest;
import io.vigil.proto.v3electionpb.LeaderResponse;
import io.vigil.proto.v3electionpb.ProclaimRequest;
import io.vigil.proto.v3electionpb.ProclaimResponse;
import io.vigil.proto.v3electionpb.ResignRequest;
import io.vigil.proto.v3electionpb.ResignResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * etcd's Election service (v3election: clientv3/concurrency's Election on the server). A
 * campaigner is a key {@code name/hex(lease)} holding its value, put with its lease; the key
 * under {@code name/} with the lowest create revision is the leader, and a campaign waits until
 * every key created before its own is gone. A {@link LeaderKey} (key and create revision) names
 * one leadership: Proclaim and Resign act only while that key still exists with that create
 * revision, so a leader whose lease ended cannot overwrite its successor.
 *
 * <p>A Campaign that ends before it leads (the client cancelled it, or the server closed it)
 * resigns, as etcd's does when its context ends.
 */
final class ElectionService extends ElectionGrpc.ElectionImplBase {
    private final LocalKv kv;

    ElectionService(LocalKv kv) {
        this.kv = kv;
    }

    @Override
    public void campaign(CampaignRequest request, StreamObserver<CampaignResponse> out) {
        LocalKv.Scope scope = LocalKv.scopeOf((ServerCallStreamObserver<?>) out);
        ByteString prefix = LocalKv.prefix(request.getName());
        kv.session(scope, request.getLease())
                .thenCompose(lease -> {
                    ByteString key = LocalKv.key(prefix, lease);
                    TxnRequest enter = TxnRequest.newBuilder()
                            .addCompare(createRevisionIs(key, 0))
                            .addSuccess(put(key, request.getValue(), lease))
                            .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                            .build();
                    return kv.txn(scope, enter).thenCompose(txn -> {
                        LeaderKey leader = LeaderKey.newBuilder().setName(request.getName()).setKey(key)
                                .setLease(lease).setRev(txn.getSucceeded() ? txn.getHeader().getRevision()
                                        : txn.getResponses(0).getResponseRange().getKvs(0).getCreateRevision())
                                .build();
                        return reproclaim(scope, txn, leader, request.getValue())
                                .thenCompose(v -> awaitLeadership(scope, prefix, leader))
                                .thenApply(v -> CampaignResponse.newBuilder().setHeader(txn.getHeader())
                                        .setLeader(leader).build());
                    });
                })
                .whenComplete((resp, failure) -> Replies.answer(out, resp, failure));
    }

    /**
     * A campaign with a lease that already campaigns finds its key: when the value differs it is
     * proclaimed, and when that fails the old campaign resigns (etcd's Campaign).
     */
    private CompletableFuture<Void> reproclaim(LocalKv.Scope scope, TxnResponse enter, LeaderKey leader,
                                               ByteString value) {
        if (enter.getSucceeded() || enter.getResponses(0).getResponseRange().getKvs(0).getValue().equals(value)) {
            return CompletableFuture.completedFuture(null);
        }
        return proclaim(scope, leader, value).handle((txn, failure) -> {
            if (failure != null) {
                resign(scope, leader);
                throw LocalKv.asCompletion(failure);
            }
            return null;
        });
    }

    /** Waits for every key created before the leader's; if the call ends first, it resigns. */
    private CompletableFuture<Void> awaitLeadership(LocalKv.Scope scope, ByteString prefix, LeaderKey leader) {
        return kv.waitDeletes(scope, prefix, leader.getRev() - 1).handle((header, failure) -> {
            if (scope.isEnded()) {
                resign(scope, leader);
                throw new CompletionException(LocalKv.ENDED);
            }
            if (failure != null) {
                throw LocalKv.asCompletion(failure);
            }
            return null;
        });
    }

    @Override
    public void proclaim(ProclaimRequest request, StreamObserver<ProclaimResponse> out) {
        if (!request.hasLeader()) {
            Replies.answer(out, null, EtcdErrors.ELECTION_MISSING_LEADER_KEY);
            return;
        }
        LocalKv.Scope scope = LocalKv.scopeOf((ServerCallStreamObserver<?>) out);
        LeaderKey leader = request.getLeader();
        kv.session(scope, leader.getLease())
                .thenCompose(lease -> proclaim(scope, leader.toBuilder().setLease(lease).build(), request.getValue()))
                .whenComplete((txn, failure) -> Replies.answer(out,
                        failure == null ? ProclaimResponse.newBuilder().setHeader(txn.getHeader()).build() : null,
                        failure));
    }

    /** Puts the leader's new value if its key still has its create revision; else "election: not leader". */
    private CompletableFuture<TxnResponse> proclaim(LocalKv.Scope scope, LeaderKey leader, ByteString value) {
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(createRevisionIs(leader.getKey(), leader.getRev()))
                .addSuccess(put(leader.getKey(), value, leader.getLease()))
                .build();
        return kv.txn(scope, txn).thenApply(resp -> {
            if (!resp.getSucceeded()) {
                throw EtcdErrors.ELECTION_NOT_LEADER;
            }
            return resp;
        });
    }

    /** Deletes the leader key if it is still that leadership's; answers the same either way. */
    @Override
    public void resign(ResignRequest request, StreamObserver<ResignResponse> out) {
        if (!request.hasLeader()) {
            Replies.answer(out, null, EtcdErrors.ELECTION_MISSING_LEADER_KEY);
            return;
        }
        LocalKv.Scope scope = LocalKv.scopeOf((ServerCallStreamObserver<?>) out);
        // etcd opens a session here too: with lease 0 it grants one, which nothing uses
        kv.session(scope, request.getLeader().getLease())
                .thenCompose(lease -> resign(scope, request.getLeader()))
                .whenComplete((txn, failure) -> Replies.answer(out,
                        failure == null ? ResignResponse.newBuilder().setHeader(txn.getHeader()).build() : null,
                        failure));
    }

    private CompletableFuture<TxnResponse> resign(LocalKv.Scope scope, LeaderKey leader) {
        return kv.txn(scope, TxnRequest.newBuilder()
                .addCompare(createRevisionIs(leader.getKey(), leader.getRev()))
                .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(leader.getKey())))
                .build());
    }

    /** The current leader's key-value, read linearizably; "election: no leader" when there is none. */
    @Override
    public void leader(LeaderRequest request, StreamObserver<LeaderResponse> out) {
        LocalKv.Scope scope = LocalKv.scopeOf((ServerCallStreamObserver<?>) out);
        kv.range(scope, LocalKv.firstCreated(LocalKv.prefix(request.getName()))).thenApply(r -> {
            if (r.getKvsCount() == 0) {
                throw EtcdErrors.ELECTION_NO_LEADER;
            }
            return LeaderResponse.newBuilder().setHeader(r.getHeader()).setKv(r.getKvs(0)).build();
        }).whenComplete((resp, failure) -> Replies.answer(out, resp, failure));
    }

    @Override
    public void observe(LeaderRequest request, StreamObserver<LeaderResponse> out) {
        ServerCallStreamObserver<LeaderResponse> call = (ServerCallStreamObserver<LeaderResponse>) out;
        new LeaderObserver(kv, LocalKv.scopeOf(call), LocalKv.prefix(request.getName()), call).start();
    }

    private static Compare createRevisionIs(ByteString key, long revision) {
        return Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
                .setResult(Compare.CompareResult.EQUAL).setCreateRevision(revision).build();
    }

    private static RequestOp put(ByteString key, ByteString value, long lease) {
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value).setLease(lease))
                .build();
    }
}
