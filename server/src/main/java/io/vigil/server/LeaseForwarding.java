package io.vigil.server;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.internal.LeasePeerGrpc;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Lease calls only the leader can answer, because only the leader keeps expiry deadlines:
 * keep-alive and time-to-live. A follower carries them to the leader's peer URL
 * ({@link #toLeader}); the leader answers them with {@link Service} from its lessor. etcd's
 * followers forward the same two calls to the leader over its peer URL.
 */
final class LeaseForwarding implements AutoCloseable {
    private final Members members;
    private final long requestTimeoutMs;
    private final Map<Long, ManagedChannel> channels = new ConcurrentHashMap<>();

    LeaseForwarding(Members members, long requestTimeoutMs) {
        this.members = members;
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
        Members.Member m = members.byId().get(leaderId);
        if (m == null) {
            return null;
        }
        ManagedChannel channel = channels.computeIfAbsent(leaderId, id -> {
            URI u = m.peerUrls().get(0);
            return Grpc.newChannelBuilder(u.getHost() + ":" + u.getPort(), InsecureChannelCredentials.create()).build();
        });
        if (channel.getState(false) == io.grpc.ConnectivityState.TRANSIENT_FAILURE) {
            // the leader was unreachable before (restarting): try it now rather than after gRPC's backoff
            channel.resetConnectBackoff();
        }
        return LeasePeerGrpc.newFutureStub(channel).withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The leader's answer as a CompletableFuture, completed on the gRPC thread that received it. */
    static <T> CompletableFuture<T> completable(ListenableFuture<T> call) {
        CompletableFuture<T> out = new CompletableFuture<>();
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(T value) {
                out.complete(value);
            }

            @Override
            public void onFailure(Throwable t) {
                out.completeExceptionally(t);
            }
        }, MoreExecutors.directExecutor());
        return out;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
