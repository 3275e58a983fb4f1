package io.vigil.robustness.cluster;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.DefragmentRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MemberAddRequest;
import io.vigil.proto.etcdserverpb.MemberAddResponse;
import io.vigil.proto.etcdserverpb.MemberListRequest;
import io.vigil.proto.etcdserverpb.MemberListResponse;
import io.vigil.proto.etcdserverpb.MemberRemoveRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The harness's own calls on members, over etcd's gRPC API (Maintenance and Cluster services), one
 * channel per endpoint for the whole run. Every call has a deadline: a paused or partitioned
 * member must not hang the harness. Calls throw {@link io.grpc.StatusRuntimeException} on failure.
 */
final class Admin implements AutoCloseable {
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    private ManagedChannel channel(String endpoint) {
        return channels.computeIfAbsent(endpoint, e -> NettyChannelBuilder.forTarget(e).usePlaintext().build());
    }

    StatusResponse status(String endpoint, long timeoutMs) {
        return MaintenanceGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .status(StatusRequest.getDefaultInstance());
    }

    /**
     * A linearizable read of one key, as etcdctl endpoint health does: it needs a leader and a
     * quorum. Returns the store's revision it was answered at.
     */
    long healthRead(String endpoint, long timeoutMs) {
        return KVGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .range(RangeRequest.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8("health")).build())
                .getHeader().getRevision();
    }

    /** Sent to the leader: etcd answers a follower's MoveLeader with "not leader". */
    void moveLeader(String leaderEndpoint, long targetId, long timeoutMs) {
        MaintenanceGrpc.newBlockingStub(channel(leaderEndpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(targetId).build());
    }

    void defragment(String endpoint, long timeoutMs) {
        MaintenanceGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .defragment(DefragmentRequest.getDefaultInstance());
    }

    void memberRemove(String endpoint, long id, long timeoutMs) {
        ClusterGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .memberRemove(MemberRemoveRequest.newBuilder().setID(id).build());
    }

    MemberAddResponse memberAdd(String endpoint, List<String> peerUrls, long timeoutMs) {
        return ClusterGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .memberAdd(MemberAddRequest.newBuilder().addAllPeerURLs(peerUrls).build());
    }

    /** A linearizable member list: what the cluster agreed on, not what this member last heard. */
    MemberListResponse memberList(String endpoint, long timeoutMs) {
        return ClusterGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                .memberList(MemberListRequest.newBuilder().setLinearizable(true).build());
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
