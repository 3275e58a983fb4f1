package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.consensus.node.RaftNode;
import io.vigil.proto.etcdserverpb.AlarmMember;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AlarmResponse;
import io.vigil.proto.etcdserverpb.DefragmentRequest;
import io.vigil.proto.etcdserverpb.DefragmentResponse;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.HashKVResponse;
import io.vigil.proto.etcdserverpb.HashRequest;
import io.vigil.proto.etcdserverpb.HashResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderResponse;
import io.vigil.proto.etcdserverpb.SnapshotRequest;
import io.vigil.proto.etcdserverpb.SnapshotResponse;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.KvHash;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import io.vigil.revlog.StoreHash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * etcd's Maintenance service: Status, MoveLeader, Snapshot, Defragment, Alarm, Hash and HashKV.
 * Downgrade (etcd 3.5) answers UNIMPLEMENTED.
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
    private static final java.util.concurrent.ExecutorService COPIER = java.util.concurrent.Executors.newCachedThreadPool(DaemonThreads.named("vigil-backup-copy"));
    private final TestFaults faults;

    MaintenanceService(ReplicatedLog log, Membership membership, RevLog revLog, ResponseHeaders headers, Path dataDir,
                       TestFaults faults) {
        this.log = log;
        this.membership = membership;
        this.selfId = headers.memberId();
        this.revLog = revLog;
        this.headers = headers;
        this.dataDir = dataDir;
        this.faults = faults;
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
        try {
            // anyone may, as in etcd 3.4, but not with an invalid token (which etcd answers unconverted)
            AuthCalls.current(revLog.auth()).header();
        } catch (io.vigil.revlog.RevLogException e) {
            out.onError(EtcdErrors.authPackage(e));
            return;
        }
        Replies.whenApplied(log.propose(InternalRequest.newBuilder().setAlarm(request).build()), out,
                (AlarmResponse r) -> {
                    if (request.getAction() == AlarmRequest.AlarmAction.DEACTIVATE && r.getAlarmsCount() > 0) {
                        VigilServer.LOG.log(System.Logger.Level.INFO, "alarm disarmed: " + r.getAlarmsList());
                    }
                    return r.toBuilder().setHeader(headers.at(revLog.currentRevision())).build();
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
