package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import java.util.List;
import java.util.Set;

/** One operation of the history with its index, and what its outcome tells about its effect. */
record Op(int index, Operation operation) {
    /** Errors etcd returns only for requests it did not apply. */
    private static final Set<String> DEFINITE_ERRORS = Set.of(
            "mvcc: required revision has been compacted",
            "mvcc: required revision is a future revision");

    enum Status { OK, UNKNOWN, FAILED }

    long call() {
        return operation.getCallNanos();
    }

    long ret() {
        return operation.getReturnNanos();
    }

    int client() {
        return operation.getClient();
    }

    Request request() {
        return operation.getRequest();
    }

    Response response() {
        return operation.getResponse();
    }

    Status status() {
        if (operation.getOutcomeCase() == Operation.OutcomeCase.RESPONSE) {
            return Status.OK;
        }
        if (operation.getDefinitelyFailed() || operation.getOutcomeCase() != Operation.OutcomeCase.ERROR) {
            return Status.FAILED;
        }
        String error = operation.getError();
        for (String definite : DEFINITE_ERRORS) {
            if (error.contains(definite)) {
                return Status.FAILED;
            }
        }
        return Status.UNKNOWN;
    }

    /** A put, delete or txn: a request that may create a revision. */
    boolean isKvWrite() {
        return switch (request().getKindCase()) {
            case PUT, DELETE_RANGE, TXN -> true;
            default -> false;
        };
    }

    boolean isRange() {
        return request().getKindCase() == Request.KindCase.RANGE;
    }

    long headerRevision() {
        Response r = response();
        return switch (r.getKindCase()) {
            case RANGE -> r.getRange().getHeader().getRevision();
            case PUT -> r.getPut().getHeader().getRevision();
            case DELETE_RANGE -> r.getDeleteRange().getHeader().getRevision();
            case TXN -> r.getTxn().getHeader().getRevision();
            case COMPACTION -> r.getCompaction().getHeader().getRevision();
            case LEASE_GRANT -> r.getLeaseGrant().getHeader().getRevision();
            case LEASE_REVOKE -> r.getLeaseRevoke().getHeader().getRevision();
            case LEASE_KEEP_ALIVE -> r.getLeaseKeepAlive().getHeader().getRevision();
            case DEFRAGMENT -> r.getDefragment().getHeader().getRevision();
            case KIND_NOT_SET -> 0;
        };
    }

    /**
     * Whether a successful write's response says it changed the store (and so created the revision
     * its header names): a put always does; a delete when it deleted a key; a txn when the branch it
     * took did either.
     */
    boolean responseClaimsChange() {
        Response r = response();
        return switch (r.getKindCase()) {
            case PUT -> true;
            case DELETE_RANGE -> r.getDeleteRange().getDeleted() > 0;
            case TXN -> {
                var txn = request().getTxn();
                yield txnClaimsChange(r.getTxn().getSucceeded() ? txn.getSuccessList() : txn.getFailureList(),
                        r.getTxn());
            }
            default -> false;
        };
    }

    private static boolean txnClaimsChange(List<RequestOp> ops, TxnResponse response) {
        for (int i = 0; i < ops.size(); i++) {
            RequestOp op = ops.get(i);
            ResponseOp answer = i < response.getResponsesCount() ? response.getResponses(i) : ResponseOp.getDefaultInstance();
            switch (op.getRequestCase()) {
                case REQUEST_PUT -> {
                    return true;
                }
                case REQUEST_DELETE_RANGE -> {
                    DeleteRangeResponse d = answer.getResponseDeleteRange();
                    if (d.getDeleted() > 0) {
                        return true;
                    }
                }
                case REQUEST_TXN -> {
                    TxnResponse nested = answer.getResponseTxn();
                    var req = op.getRequestTxn();
                    if (txnClaimsChange(nested.getSucceeded() ? req.getSuccessList() : req.getFailureList(), nested)) {
                        return true;
                    }
                }
                default -> {
                }
            }
        }
        return false;
    }

    /** "client 3 put k=v called at 12.300s, returned at 12.400s" */
    String describe() {
        StringBuilder s = new StringBuilder("client ").append(client()).append(' ').append(Describe.request(request()));
        s.append(" on ").append(operation.getMember());
        s.append(" called at ").append(Keys.seconds(call()));
        switch (status()) {
            case OK -> s.append(", returned at ").append(Keys.seconds(ret()));
            case UNKNOWN -> s.append(", outcome unknown (").append(operation.getError()).append(')');
            case FAILED -> s.append(", failed (").append(operation.getError()).append(')');
        }
        return s.toString();
    }
}
