package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.consensus.node.RaftNode;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderResponse;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.revlog.RevLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * etcd's Maintenance service: Status and MoveLeader. The rest (alarms, defragment, hash,
 * snapshot, downgrade) are not built yet and answer UNIMPLEMENTED.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
    /** The etcd API version Vigil speaks; clients read it to pick features. */
    static final String VERSION = "3.4.0";

    private final ReplicatedLog log;
    private final Membership membership;
    private final long selfId;
    private final RevLog revLog;
    private final ResponseHeaders headers;
    private final Path storeFile;

    MaintenanceService(ReplicatedLog log, Membership membership, RevLog revLog, ResponseHeaders headers, Path dataDir) {
        this.log = log;
        this.membership = membership;
        this.selfId = headers.memberId();
        this.revLog = revLog;
        this.headers = headers;
        this.storeFile = dataDir.resolve("data.mdb");
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        RaftNode node = log.node();
        long dbSize;
        try {
            dbSize = Files.size(storeFile);
        } catch (IOException e) {
            dbSize = 0;
        }
        out.onNext(StatusResponse.newBuilder()
                .setHeader(headers.at(revLog.currentRevision()))
                .setVersion(VERSION)
                .setDbSize(dbSize)
                .setDbSizeInUse(dbSize)
                .setLeader(node.leaderId())
                .setRaftIndex(node.commitIndex())
                .setRaftTerm(node.term())
                .setRaftAppliedIndex(log.appliedIndex())
                .setIsLearner(isLearner(selfId))
                .build());
        out.onCompleted();
    }

    /**
     * As etcd: only the leader moves leadership, only to a voting member; the answer comes once
     * the target has become leader (or the request times out).
     */
    @Override
    public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
        if (!log.isLeader()) {
            out.onError(EtcdErrors.NOT_LEADER);
            return;
        }
        Membership.Member target = membership.member(request.getTargetID());
        if (target == null || target.learner()) {
            out.onError(EtcdErrors.BAD_LEADER_TRANSFEREE);
            return;
        }
        log.moveLeader(request.getTargetID()).whenComplete((v, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else {
                out.onNext(MoveLeaderResponse.newBuilder().setHeader(headers.at(revLog.currentRevision())).build());
                out.onCompleted();
            }
        });
    }

    private boolean isLearner(long id) {
        Membership.Member m = membership.member(id);
        return m != null && m.learner();
    }
}
