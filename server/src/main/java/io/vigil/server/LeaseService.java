package io.vigil.server;

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
import io.vigil.revlog.Lessor;
import io.vigil.revlog.RevLog;

/**
 * etcd's Lease service. Grant and revoke are writes: they go through the log and answer once
 * applied and durable. Keep-alive, time-to-live and list are the leader's in-memory lessor,
 * answered on the transport thread without blocking, as etcd's leader answers them.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {
    /**
     * etcd raises a smaller TTL to its minLeaseTTL, ceil(1.5 × election timeout): 2 s with etcd's
     * default election timeout of 1 s (verified: etcd 3.4 grants "lease grant 1" with TTL 2).
     */
    static final long MIN_TTL_SECONDS = 2;

    private final RevLog revLog;
    private final Lessor lessor;
    private final Proposer proposer;
    private final ResponseHeaders headers;
    private final LeaseIds ids;

    LeaseService(RevLog revLog, Proposer proposer, ResponseHeaders headers, LeaseIds ids) {
        this.revLog = revLog;
        this.lessor = revLog.lessor();
        this.proposer = proposer;
        this.headers = headers;
        this.ids = ids;
    }

    /**
     * etcd picks the ID before proposing (so every member applies the same one) and the lessor
     * raises the TTL to the minimum; here both happen before proposing, so the log entry carries
     * the effective grant. The remaining checks (ID taken, TTL too large) are made at apply.
     */
    @Override
    public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
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
        Replies.whenApplied(proposer.propose(InternalRequest.newBuilder().setLeaseGrant(grant).build()), out,
                (LeaseGrantResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
        Replies.whenApplied(proposer.propose(InternalRequest.newBuilder().setLeaseRevoke(request).build()), out,
                (LeaseRevokeResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    /**
     * etcd answers an unknown lease with TTL -1 and no error (its gRPC layer turns the lessor's
     * "not found" into that), and an expired one not yet revoked with its remaining TTL, ≤ 0.
     */
    @Override
    public void leaseTimeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
        LeaseTimeToLiveResponse.Builder resp = LeaseTimeToLiveResponse.newBuilder().setID(request.getID()).setTTL(-1);
        lessor.timeToLive(request.getID(), request.getKeys()).ifPresent(t -> resp
                .setTTL(t.remainingSeconds())
                .setGrantedTTL(t.grantedTtl())
                .addAllKeys(t.keys()));
        out.onNext(resp.setHeader(headers.at(revLog.currentRevision())).build());
        out.onCompleted();
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
     * One keep-alive stream: each request is answered at once, in order, with the lease's granted
     * TTL or 0 (unknown or expired; clients report "requested lease not found"). Backpressure:
     * the next request is read only while the response stream is ready, so a client that sends
     * keep-alives without reading the answers stalls its own stream instead of filling memory.
     * gRPC calls the methods of one call one at a time, so {@code waiting} needs no lock.
     */
    private final class KeepAliveStream implements StreamObserver<LeaseKeepAliveRequest> {
        private final ServerCallStreamObserver<LeaseKeepAliveResponse> out;
        private boolean waiting;

        KeepAliveStream(ServerCallStreamObserver<LeaseKeepAliveResponse> out) {
            this.out = out;
            out.disableAutoRequest();
            out.setOnCancelHandler(() -> { });
            out.setOnReadyHandler(this::onReady);
            out.request(1);
        }

        @Override
        public void onNext(LeaseKeepAliveRequest request) {
            long ttl = lessor.renew(request.getID());
            out.onNext(LeaseKeepAliveResponse.newBuilder()
                    .setHeader(headers.at(revLog.currentRevision()))
                    .setID(request.getID())
                    .setTTL(ttl)
                    .build());
            if (out.isReady()) {
                out.request(1);
            } else {
                waiting = true;
            }
        }

        private void onReady() {
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
        public void onCompleted() {
            out.onCompleted();
        }
    }

}
