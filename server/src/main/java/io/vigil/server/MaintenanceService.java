package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.consensus.node.RaftNode;
import io.vigil.proto.etcdserverpb.AlarmMember;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AlarmResponse;
import io.vigil.proto.etcdserverpb.DefragmentRequest;
import io.vigil.proto.etcdserverpb.DefragmentResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderResponse;
import io.vigil.proto.etcdserverpb.SnapshotRequest;
import io.vigil.proto.etcdserverpb.SnapshotResponse;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.RevLog;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;

/**
 * etcd's Maintenance service: Status, MoveLeader, Snapshot, Defragment and Alarm. The rest (hash,
 * downgrade) are not built yet and answer UNIMPLEMENTED.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
    /** The etcd API version Vigil speaks; clients read it to pick features. */
    static final String VERSION = "3.4.0";

    private final ReplicatedLog log;
    private final Membership membership;
    private final long selfId;
    private final RevLog revLog;
    private final ResponseHeaders headers;
    private final Path dataDir;
    /** Makes the store copies backups stream; each reads the whole store, so off the transport threads. */
    private static final java.util.concurrent.ExecutorService COPIER = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "vigil-backup-copy");
        t.setDaemon(true);
        return t;
    });

    MaintenanceService(ReplicatedLog log, Membership membership, RevLog revLog, ResponseHeaders headers, Path dataDir) {
        this.log = log;
        this.membership = membership;
        this.selfId = headers.memberId();
        this.revLog = revLog;
        this.headers = headers;
        this.dataDir = dataDir;
        DurableFile.deleteTree(dataDir.resolve(BackupStream.DIR)); // copies a crash left behind
    }

    /** {@code etcdctl snapshot save}: see {@link BackupStream}. */
    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> out) {
        BackupStream.start(log, revLog, headers, dataDir, COPIER, out);
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        RaftNode node = log.node();
        out.onNext(StatusResponse.newBuilder()
                .setHeader(headers.at(revLog.currentRevision()))
                .setVersion(VERSION)
                .setDbSize(revLog.dbSizeBytes())
                .setDbSizeInUse(revLog.dbSizeInUseBytes())
                .setLeader(node.leaderId())
                .setRaftIndex(node.commitIndex())
                .setRaftTerm(node.term())
                .setRaftAppliedIndex(log.appliedIndex())
                .setIsLearner(isLearner(selfId))
                .addAllErrors(errors(node))
                .build());
        out.onCompleted();
    }

    /**
     * etcd's defragmentation, of this member only: the space compactions freed goes back to the
     * file system (see {@link RevLog#defragment}). Writes on this member wait meanwhile, as on etcd.
     */
    @Override
    public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
        long started = System.nanoTime();
        long before = revLog.dbSizeBytes();
        log.withStoreCommitted(() -> {
            revLog.defragment();
            return null;
        }).whenComplete((v, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
                return;
            }
            VigilServer.LOG.log(System.Logger.Level.INFO, String.format("defragmented the store: %d bytes before, %d after, in %d ms",
                    before, revLog.dbSizeBytes(), (System.nanoTime() - started) / 1_000_000));
            out.onNext(DefragmentResponse.newBuilder().setHeader(headers.at(revLog.currentRevision())).build());
            out.onCompleted();
        });
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

    /** etcd's status errors: no leader, and each active alarm in etcd's text form. */
    private List<String> errors(RaftNode node) {
        List<String> errors = new ArrayList<>();
        if (node.leaderId() == 0) {
            errors.add(EtcdErrors.NO_LEADER.getStatus().getDescription());
        }
        for (AlarmMember a : revLog.alarms()) {
            errors.add("memberID:" + Long.toUnsignedString(a.getMemberID()) + " alarm:" + a.getAlarm() + " ");
        }
        return errors;
    }

    /**
     * etcd's Alarm: listing, raising and disarming go through the log (as in etcd), so the answer
     * is the alarms as of that entry, the same on every member.
     */
    @Override
    public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> out) {
        Replies.whenApplied(log.propose(InternalRequest.newBuilder().setAlarm(request).build()), out,
                (AlarmResponse r) -> {
                    if (request.getAction() == AlarmRequest.AlarmAction.DEACTIVATE && r.getAlarmsCount() > 0) {
                        VigilServer.LOG.log(System.Logger.Level.INFO, "alarm disarmed: " + r.getAlarmsList());
                    }
                    return r.toBuilder().setHeader(headers.at(revLog.currentRevision())).build();
                });
    }

    private boolean isLearner(long id) {
        Membership.Member m = membership.member(id);
        return m != null && m.learner();
    }
}
