package io.vigil.server;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.LeaseLeasesRequest;
import io.vigil.proto.etcdserverpb.LeaseLeasesResponse;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import io.vigil.proto.etcdserverpb.LeaseStatus;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.internal.LeasePeerGrpc.LeasePeerFutureStub;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.Lessor;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * etcd's Lease service. Grant and revoke are writes: they go through the log and answer once
 * applied and durable. Keep-alive and time-to-live are the leader's in-memory lessor, answered
 * on the transport thread without blocking, as etcd's leader answers them; a follower carries
 * them to the leader ({@link LeaseForwarding}). List is every member's own lessor.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase implements LeaseForwarding.Leader {
    /**
     * etcd raises a smaller TTL to its minLeaseTTL, ceil(1.5 × election timeout): 2 s with etcd's
     * default election timeout of 1 s (verified: etcd 3.4 grants "lease grant 1" with TTL 2).
     */
    static final long MIN_TTL_SECONDS = 2;

    private final RevLog revLog;
    private final Lessor lessor;
    private final Proposer proposer;
    private final ResponseHeaders headers;
    private final IdGenerator ids;
    private final ReplicatedLog log;
    private final LeaseForwarding forwarding;
    private final Quota quota;

    LeaseService(RevLog revLog, ReplicatedLog log, ResponseHeaders headers, IdGenerator ids,
                 LeaseForwarding forwarding, Quota quota) {
        this.revLog = revLog;
        this.lessor = revLog.lessor();
        this.proposer = log;
        this.log = log;
        this.headers = headers;
        this.ids = ids;
        this.forwarding = forwarding;
        this.quota = quota;
    }

    @Override
    public boolean isLeader() {
        return log.isLeader();
    }

    /** The leader's lessor renews the lease: its granted TTL, or 0 when unknown or expired. */
    @Override
    public LeaseKeepAliveResponse keepAlive(LeaseKeepAliveRequest request) {
        return LeaseKeepAliveResponse.newBuilder()
                .setHeader(headers.at(revLog.currentRevision()))
                .setID(request.getID())
                .setTTL(lessor.renew(request.getID()))
                .build();
    }

    /**
     * etcd answers an unknown lease with TTL -1 and no error (its gRPC layer turns the lessor's
     * "not found" into that), and an expired one not yet revoked with its remaining TTL, ≤ 0.
     */
    @Override
    public LeaseTimeToLiveResponse timeToLive(LeaseTimeToLiveRequest request) {
        LeaseTimeToLiveResponse.Builder resp = LeaseTimeToLiveResponse.newBuilder().setID(request.getID()).setTTL(-1);
        lessor.timeToLive(request.getID(), request.getKeys()).ifPresent(t -> resp
                .setTTL(t.remainingSeconds())
                .setGrantedTTL(t.grantedTtl())
                .addAllKeys(t.keys()));
        return resp.setHeader(headers.at(revLog.currentRevision())).build();
    }

    /**
     * The leader's answer to a keep-alive or time-to-live: from this member's lessor when it is
     * the leader, else from the leader over its peer URL, restamped with this member's header.
     */
    private <R> CompletableFuture<R> atLeader(Supplier<R> local,
                                              Function<LeasePeerFutureStub, ListenableFuture<R>> remote) {
        if (log.isLeader()) {
            return CompletableFuture.completedFuture(local.get());
        }
        LeasePeerFutureStub stub = forwarding.toLeader(log.node().leaderId());
        if (stub == null) {
            return CompletableFuture.failedFuture(EtcdErrors.NO_LEADER);
        }
        return PeerChannels.completable(remote.apply(stub));
    }

    /**
     * etcd picks the ID before proposing (so every member applies the same one) and the lessor
     * raises the TTL to the minimum; here both happen before proposing, so the log entry carries
     * the effective grant. The remaining checks (ID taken, TTL too large) are made at apply.
     */
    @Override
    public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
        if (!quota.admits(InternalRequest.newBuilder().setLeaseGrant(request).build(), out)) {
            return;
        }
        try {
            AuthCalls.current(revLog.auth()).header(); // etcd 3.4 lets anyone grant, but not with an invalid token
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        Replies.whenApplied(proposeGrant(request), out,
                (LeaseGrantResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    /** Proposes {@code request} with etcd's choices made: an ID when it asks for none, at least the minimum TTL. */
    CompletableFuture<ApplyResult> proposeGrant(LeaseGrantRequest request) {
        LeaseGrantRequest.Builder grant = request.toBuilder();
        if (grant.getID() == 0) {
            long id;
            do {
                id = ids.next();
            } while (lessor.exists(id));
            grant.setID(id);
        }
        if (grant.getTTL() < MIN_TTL_SECONDS) {
            grant.setTTL(MIN_TTL_SECONDS);
        }
        return proposer.propose(InternalRequest.newBuilder().setLeaseGrant(grant).build());
    }

    @Override
    public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
        InternalRequest.Builder revoke = InternalRequest.newBuilder().setLeaseRevoke(request);
        try {
            // the applier checks that the caller may write every key attached to the lease
            revoke.setHeader(AuthCalls.current(revLog.auth()).header());
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        Replies.whenApplied(proposer.propose(revoke.build()), out,
                (LeaseRevokeResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void leaseTimeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
        atLeader(() -> timeToLive(request), stub -> stub.timeToLive(request)).whenComplete((resp, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
                return;
            }
            out.onNext(resp.toBuilder().setHeader(headers.at(revLog.currentRevision())).build());
            out.onCompleted();
        });
    }

    @Override
    public void leaseLeases(LeaseLeasesRequest request, StreamObserver<LeaseLeasesResponse> out) {
        LeaseLeasesResponse.Builder resp = LeaseLeasesResponse.newBuilder();
        for (long id : lessor.leases()) {
            resp.addLeases(LeaseStatus.newBuilder().setID(id));
        }
        out.onNext(resp.setHeader(headers.at(revLog.currentRevision())).build());
        out.onCompleted();
    }

    @Override
    public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> responses) {
        return new KeepAliveStream((ServerCallStreamObserver<LeaseKeepAliveResponse>) responses);
    }

    /**
     * One keep-alive stream: each request is answered in order with the lease's granted TTL or 0
     * (unknown or expired; clients report "requested lease not found"), by the leader. The next
     * request is read only once the previous one is answered (at once on the leader, when the
     * leader's answer arrives on a follower) and while the response stream is ready, so a client
     * that sends keep-alives without reading the answers stalls its own stream instead of filling
     * memory. An answer from the leader arrives on another thread than the stream's own events,
     * so everything that touches {@code out} holds the stream's lock.
     */
    private final class KeepAliveStream implements StreamObserver<LeaseKeepAliveRequest> {
        private final ServerCallStreamObserver<LeaseKeepAliveResponse> out;
        private boolean waiting;
        private boolean ended;

        KeepAliveStream(ServerCallStreamObserver<LeaseKeepAliveResponse> out) {
            this.out = out;
            out.disableAutoRequest();
            out.setOnCancelHandler(() -> { });
            out.setOnReadyHandler(this::onReady);
            out.request(1);
        }

        @Override
        public void onNext(LeaseKeepAliveRequest request) {
            atLeader(() -> keepAlive(request), stub -> stub.keepAlive(request)).whenComplete(this::answer);
        }

        private synchronized void answer(LeaseKeepAliveResponse resp, Throwable failure) {
            if (ended) {
                return;
            }
            if (failure != null) {
                ended = true;
                out.onError(EtcdErrors.toStatus(failure));
                return;
            }
            out.onNext(resp.toBuilder().setHeader(headers.at(revLog.currentRevision())).build());
            if (out.isReady()) {
                out.request(1);
            } else {
                waiting = true;
            }
        }

        private synchronized void onReady() {
            if (waiting) {
                waiting = false;
                out.request(1);
            }
        }

        @Override
        public void onError(Throwable t) {
            // the client went away; nothing to clean up, expiry does not depend on the stream
        }

        @Override
        public synchronized void onCompleted() {
            if (!ended) {
                ended = true;
                out.onCompleted();
            }
        }
    }
}
