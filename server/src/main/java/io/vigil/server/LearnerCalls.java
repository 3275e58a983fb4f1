package io.vigil.server;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * What a learner serves: it applies the log but has no vote and no leader's deadlines, so it
 * answers serializable ranges, watches, member list, status and the hashes of its store, and every
 * other call with etcd's "rpc not supported for learner" (UNAVAILABLE, which clients take as "try
 * another endpoint"). etcd's learners refuse watches and hashes (etcd checks learners through its
 * peer port); Vigil's serve watches, so that learners can carry watch fan-out beyond what the
 * voters can send, and hashes, so that {@code etcdctl endpoint hashkv} and the corruption check
 * (which dials client URLs) cover them. The gRPC health and reflection services answer on a
 * learner as on any member.
 */
final class LearnerCalls implements ServerInterceptor {
    private static final Set<String> SERVED = Set.of(
            KVGrpc.getRangeMethod().getFullMethodName(),
            WatchGrpc.getWatchMethod().getFullMethodName(),
            ClusterGrpc.getMemberListMethod().getFullMethodName(),
            MaintenanceGrpc.getStatusMethod().getFullMethodName(),
            MaintenanceGrpc.getHashKVMethod().getFullMethodName(),
            MaintenanceGrpc.getHashMethod().getFullMethodName());
    /** Whole services a learner serves as any member: discovery ({@link GrpcDiscovery}). */
    private static final Set<String> SERVED_SERVICES = GrpcDiscovery.SERVICES;

    private final BooleanSupplier isLearner;

    LearnerCalls(BooleanSupplier isLearner) {
        this.isLearner = isLearner;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (!isLearner.getAsBoolean()) {
            return next.startCall(call, headers);
        }
        if (SERVED_SERVICES.contains(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        if (!SERVED.contains(call.getMethodDescriptor().getFullMethodName())) {
            call.close(EtcdErrors.NOT_SUPPORTED_FOR_LEARNER.getStatus(), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
                if (message instanceof RangeRequest range && !range.getSerializable()) {
                    // a linearizable read needs a member that takes part in the quorum's reads
                    refused = true;
                    call.close(EtcdErrors.NOT_SUPPORTED_FOR_LEARNER.getStatus(), new Metadata());
                    return;
                }
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (!refused) {
                    super.onHalfClose();
                }
            }
        };
    }
}
