package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.consensus.node.RaftNode;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.HashKVResponse;
import io.vigil.proto.etcdserverpb.HashRequest;
import io.vigil.proto.etcdserverpb.HashResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderResponse;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.revlog.KvHash;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import io.vigil.revlog.StoreHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * etcd's Maintenance service: Status, MoveLeader, Hash and HashKV. The rest (alarms, defragment,
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
    private final TestFaults faults;

    MaintenanceService(ReplicatedLog log, Membership membership, RevLog revLog, ResponseHeaders headers, Path dataDir,
                       TestFaults faults) {
        this.log = log;
        this.membership = membership;
        this.selfId = headers.memberId();
        this.revLog = revLog;
        this.headers = headers;
        this.storeFile = dataDir.resolve("data.mdb");
        this.faults = faults;
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

    /**
     * etcd's HashKV: this member's hash of its key-value history through the revision asked for
     * ({@link RevLog#hashKv}); equal on members that applied the same log and stand at the same
     * compact revision. The header names the current revision, as etcd's. Serializable: it
     * hashes what this member has applied, on the transport thread, like a serializable range.
     */
    @Override
    public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> out) {
        KvHash h;
        try {
            h = revLog.hashKv(request.getRevision());
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        out.onNext(HashKVResponse.newBuilder()
                .setHeader(headers.at(h.revision()))
                .setHash(faults.hash(h.hash()))
                .setCompactRevision(h.compactRevision())
                .setHashRevision(h.hashRevision())
                .build());
        out.onCompleted();
    }

    /**
     * etcd's Hash, of the whole store: Vigil hashes its replicated contents (revision records,
     * leases, current and compacted revision; {@link RevLog#hash}), not its file, so members agree
     * whenever they have applied the same entries.
     */
    @Override
    public void hash(HashRequest request, StreamObserver<HashResponse> out) {
        StoreHash h = revLog.hash();
        out.onNext(HashResponse.newBuilder()
                .setHeader(headers.at(h.revision()))
                .setHash(faults.hash(h.hash()))
                .build());
        out.onCompleted();
    }

    private boolean isLearner(long id) {
        Membership.Member m = membership.member(id);
        return m != null && m.learner();
    }
}
