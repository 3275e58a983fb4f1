package io.vigil.server;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.internal.LeasePeerGrpc;
import java.util.concurrent.TimeUnit;

/**
 * Lease calls only the leader can answer, because only the leader keeps expiry deadlines:
 * keep-alive and time-to-live. A follower carries them to the leader's peer URL
 * ({@link #toLeader}); the leader answers them with {@link Service} from its lessor. etcd's
 * followers forward the same two calls to the leader over its peer URL.
 */
final class LeaseForwarding {
    private final PeerChannels peers;
    private final long requestTimeoutMs;

    LeaseForwarding(PeerChannels peers, long requestTimeoutMs) {
        this.peers = peers;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /** What a leader answers; a member that is not (or no longer) leader says "not leader". */
    interface Leader {
        boolean isLeader();

        LeaseKeepAliveResponse keepAlive(LeaseKeepAliveRequest request);

        LeaseTimeToLiveResponse timeToLive(LeaseTimeToLiveRequest request);
    }

    /** The leader's half, on the peer port. */
    static final class Service extends LeasePeerGrpc.LeasePeerImplBase {
        private final Leader leader;

        Service(Leader leader) {
            this.leader = leader;
        }

        @Override
        public void keepAlive(LeaseKeepAliveRequest request, StreamObserver<LeaseKeepAliveResponse> out) {
            if (!leader.isLeader()) {
                out.onError(EtcdErrors.NOT_LEADER);
                return;
            }
            out.onNext(leader.keepAlive(request));
            out.onCompleted();
        }

        @Override
        public void timeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
            if (!leader.isLeader()) {
                out.onError(EtcdErrors.NOT_LEADER);
                return;
            }
            out.onNext(leader.timeToLive(request));
            out.onCompleted();
        }
    }

    /** A stub for the member {@code leaderId}, or null when there is no known leader. */
    LeasePeerGrpc.LeasePeerFutureStub toLeader(long leaderId) {
        ManagedChannel channel = peers.to(leaderId);
        if (channel == null) {
            return null;
        }
        return LeasePeerGrpc.newFutureStub(channel).withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS);
    }
}
