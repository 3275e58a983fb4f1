package io.vigil.robustness.traffic;

import io.grpc.Status;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import java.util.Map;

/**
 * Which failed calls prove that the request had no effect ({@code Operation.definitely_failed}).
 *
 * <p>A request that cannot write (a Range, a Txn with no put or delete in either branch) has no
 * effect whatever happened to it, so every failure of one is definite. For a write, an error is
 * definite only when etcd returns it without proposing the request, or when applying it refuses it
 * before anything is written; both are recognised by status code and etcd's exact message
 * (etcd's {@code api/v3rpc/rpctypes}, which Vigil returns alike):
 *
 * <pre>
 * code                 message (after "etcdserver: ")               why it proves no effect
 * INVALID_ARGUMENT     key is not provided                          checked by the gRPC layer before proposing
 * INVALID_ARGUMENT     value is provided / lease is provided        checked before proposing (ignore_value/ignore_lease)
 * INVALID_ARGUMENT     too many operations in txn request           checked before proposing
 * INVALID_ARGUMENT     duplicate key given in txn request           checked before proposing
 * INVALID_ARGUMENT     request is too large                         checked before proposing
 * INVALID_ARGUMENT     key not found                                applied, refused before writing (ignore_value on a missing key)
 * OUT_OF_RANGE         mvcc: required revision has been compacted   a Txn's ranges are checked before it writes; a compaction
 * OUT_OF_RANGE         mvcc: required revision is a future revision   at or below the compacted revision is refused when applied
 * OUT_OF_RANGE         too large lease TTL                          checked before proposing
 * NOT_FOUND            requested lease not found                    a put's lease is looked up before writing; a revoke of a
 *                                                                   lease that is gone revokes nothing
 * FAILED_PRECONDITION  lease already exists                         a grant with a taken ID is refused when applied
 * RESOURCE_EXHAUSTED   mvcc: database space exceeded                the NOSPACE alarm's applier refuses writes
 * RESOURCE_EXHAUSTED   too many requests                            refused before proposing (apply lags commit)
 * </pre>
 *
 * Never definite for a write: UNAVAILABLE (no leader, leader changed, server stopped, request
 * timed out — the proposal may still commit — and every transport failure), DEADLINE_EXCEEDED and
 * CANCELLED (the request may have reached the server), UNKNOWN, INTERNAL, DATA_LOSS, and any other
 * message, including "not leader" (FAILED_PRECONDITION, which etcd only returns for MoveLeader).
 */
final class Outcomes {
    private static final Map<String, Status.Code> DEFINITE = Map.ofEntries(
            Map.entry("etcdserver: key is not provided", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: value is provided", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: lease is provided", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: too many operations in txn request", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: duplicate key given in txn request", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: request is too large", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: key not found", Status.Code.INVALID_ARGUMENT),
            Map.entry("etcdserver: mvcc: required revision has been compacted", Status.Code.OUT_OF_RANGE),
            Map.entry("etcdserver: mvcc: required revision is a future revision", Status.Code.OUT_OF_RANGE),
            Map.entry("etcdserver: too large lease TTL", Status.Code.OUT_OF_RANGE),
            Map.entry("etcdserver: requested lease not found", Status.Code.NOT_FOUND),
            Map.entry("etcdserver: lease already exists", Status.Code.FAILED_PRECONDITION),
            Map.entry("etcdserver: mvcc: database space exceeded", Status.Code.RESOURCE_EXHAUSTED),
            Map.entry("etcdserver: too many requests", Status.Code.RESOURCE_EXHAUSTED));

    private Outcomes() {
    }

    /** True when the failed call with {@code status} proves {@code request} had no effect. */
    static boolean definitelyFailed(Request request, Status status) {
        if (!writes(request)) {
            return true;
        }
        String description = status.getDescription();
        return description != null && DEFINITE.get(description) == status.getCode();
    }

    /** The error as the history records it: the status code, then the description if any. */
    static String describe(Status status) {
        String description = status.getDescription();
        return description == null ? status.getCode().name() : status.getCode() + ": " + description;
    }

    /** Whether the request can change anything: the store, a lease, or the compacted revision. */
    static boolean writes(Request request) {
        return switch (request.getKindCase()) {
            case RANGE -> false;
            case TXN -> writes(request.getTxn());
            case KIND_NOT_SET -> throw new IllegalArgumentException("empty request");
            default -> true;
        };
    }

    private static boolean writes(TxnRequest txn) {
        for (RequestOp op : txn.getSuccessList()) {
            if (writes(op)) {
                return true;
            }
        }
        for (RequestOp op : txn.getFailureList()) {
            if (writes(op)) {
                return true;
            }
        }
        return false;
    }

    private static boolean writes(RequestOp op) {
        return switch (op.getRequestCase()) {
            case REQUEST_PUT, REQUEST_DELETE_RANGE -> true;
            case REQUEST_TXN -> writes(op.getRequestTxn());
            default -> false;
        };
    }
}
