package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.AlarmType;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.util.List;

/**
 * etcd's space quota ({@code --quota-backend-bytes}), checked before a put, a txn with a put or a
 * lease grant is proposed: when the store's file size plus the request's estimated cost reaches the quota, the
 * request is refused with "database space exceeded" and this member raises the NOSPACE alarm
 * through the log. From then on every member refuses data-adding writes at apply (see the
 * store's alarms) until a client disarms the alarm; a file still over the quota raises it again
 * at the next such write, so the way out is compaction, then defragmentation, then disarm.
 *
 * <p>The store's LMDB map is larger than the quota ({@link #mapSizeFor}), so the alarm, not the
 * map's end, is what a client meets.
 */
final class Quota {
    /** etcd's estimate of a put's cost beyond its key and value. */
    static final int KV_OVERHEAD = 256;
    /** etcd's estimate of a lease grant's cost. */
    static final int LEASE_OVERHEAD = 64;

    private final long quotaBytes;
    private final RevLog revLog;
    private final AlarmRaiser alarms;
    private final long selfId;

    Quota(long quotaBytes, RevLog revLog, AlarmRaiser alarms, long selfId) {
        this.quotaBytes = quotaBytes;
        this.revLog = revLog;
        this.alarms = alarms;
        this.selfId = selfId;
    }

    /** The LMDB map for a quota: room past it for what is applied after the alarm is raised. */
    static long mapSizeFor(long quotaBytes) {
        return 2 * quotaBytes + (1L << 30);
    }

    /**
     * Whether {@code request} (a put, txn or lease grant) fits; when it does not, it raises the
     * alarm, answers {@code out} with etcd's error and returns false.
     */
    boolean admits(InternalRequest request, StreamObserver<?> out) {
        long cost = cost(request);
        if (cost == 0 || revLog.dbSizeBytes() + cost < quotaBytes) {
            return true; // as etcd: what adds nothing passes, however full the store
        }
        raiseNoSpace();
        out.onError(EtcdErrors.of(new RevLogException(RevLogException.Code.NO_SPACE)));
        return false;
    }

    private void raiseNoSpace() {
        boolean raised = revLog.alarms().stream()
                .anyMatch(a -> a.getMemberID() == selfId && a.getAlarm() == AlarmType.NOSPACE);
        if (!raised) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "the store reached its space quota (" + quotaBytes
                    + " bytes); writes are refused until compaction, defragmentation and alarm disarm");
            alarms.raise(selfId, AlarmType.NOSPACE);
        }
    }

    /** etcd's cost estimate: a put's key and value plus overhead; a txn's costlier branch; a lease grant's overhead. */
    static long cost(InternalRequest request) {
        return switch (request.getRequestCase()) {
            case PUT -> cost(request.getPut());
            case LEASE_GRANT -> LEASE_OVERHEAD;
            case TXN -> Math.max(cost(request.getTxn().getSuccessList()), cost(request.getTxn().getFailureList()));
            default -> 0;
        };
    }

    private static long cost(PutRequest put) {
        return KV_OVERHEAD + put.getKey().size() + put.getValue().size();
    }

    private static long cost(List<RequestOp> ops) {
        long c = 0;
        for (RequestOp op : ops) {
            if (op.hasRequestPut()) {
                c += cost(op.getRequestPut());
            }
        }
        return c;
    }
}
