package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.history.WatchRecord;
import java.util.List;

/**
 * Short, readable descriptions of history records: for violation messages, and for the reports
 * and timelines made from them (one way of writing a request everywhere).
 */
public final class Describe {
    private Describe() {
    }

    /** e.g. {@code put /k=c3-17 → rev 41}, or {@code ... → unknown: UNAVAILABLE: ...}. */
    public static String operation(Operation op) {
        String outcome = switch (op.getOutcomeCase()) {
            case RESPONSE -> response(op.getResponse());
            case ERROR -> (op.getDefinitelyFailed() ? "failed: " : "unknown: ") + op.getError();
            case OUTCOME_NOT_SET -> "no outcome";
        };
        return request(op.getRequest()) + " → " + outcome;
    }

    public static String response(Response r) {
        return switch (r.getKindCase()) {
            case RANGE -> rev(r.getRange().getHeader()) + ", " + r.getRange().getKvsCount() + " kv"
                    + (r.getRange().getKvsCount() == 1 ? " " + Keys.show(r.getRange().getKvs(0).getValue()) : "")
                    + (r.getRange().getMore() ? ", more" : "");
            case PUT -> rev(r.getPut().getHeader());
            case DELETE_RANGE -> rev(r.getDeleteRange().getHeader()) + ", deleted " + r.getDeleteRange().getDeleted();
            case TXN -> rev(r.getTxn().getHeader()) + (r.getTxn().getSucceeded() ? ", then" : ", else");
            case COMPACTION -> rev(r.getCompaction().getHeader());
            case LEASE_GRANT -> rev(r.getLeaseGrant().getHeader()) + ", id " + r.getLeaseGrant().getID();
            case LEASE_REVOKE -> rev(r.getLeaseRevoke().getHeader());
            case LEASE_KEEP_ALIVE -> rev(r.getLeaseKeepAlive().getHeader()) + ", ttl " + r.getLeaseKeepAlive().getTTL();
            case DEFRAGMENT -> "ok";
            case KIND_NOT_SET -> "empty response";
        };
    }

    public static String watch(WatchRecord w) {
        return switch (w.getKindCase()) {
            case CREATE -> "watch " + Keys.showRange(w.getCreate().getKey(), w.getCreate().getRangeEnd()) + " from revision "
                    + w.getCreate().getStartRevision();
            case RESPONSE -> watchResponse(w.getResponse());
            case PROGRESS_REQUESTED -> "progress requested";
            case ERROR -> "stream error: " + w.getError();
            case KIND_NOT_SET -> "empty watch record";
        };
    }

    /** Nanoseconds of the run as seconds, e.g. {@code 12.345s}. */
    public static String seconds(long nanos) {
        return Keys.seconds(nanos);
    }

    private static String watchResponse(WatchResponse r) {
        if (r.getCreated()) {
            return "created, " + rev(r.getHeader());
        }
        if (r.getCanceled()) {
            return "canceled: " + r.getCancelReason() + (r.getCompactRevision() != 0 ? " compacted " + r.getCompactRevision() : "");
        }
        if (r.getEventsCount() == 0) {
            return "progress, " + rev(r.getHeader());
        }
        return Events.show(r.getEventsList());
    }

    private static String rev(ResponseHeader h) {
        return "rev " + h.getRevision();
    }

    public static String request(Request r) {
        return switch (r.getKindCase()) {
            case RANGE -> (r.getRange().getSerializable() ? "serializable " : "") + "range "
                    + Keys.showRange(r.getRange().getKey(), r.getRange().getRangeEnd())
                    + (r.getRange().getRevision() > 0 ? " at revision " + r.getRange().getRevision() : "");
            case PUT -> "put " + Keys.show(r.getPut().getKey()) + "=" + Keys.show(r.getPut().getValue())
                    + (r.getPut().getLease() != 0 ? " lease " + r.getPut().getLease() : "");
            case DELETE_RANGE -> "delete " + Keys.showRange(r.getDeleteRange().getKey(), r.getDeleteRange().getRangeEnd());
            case TXN -> "txn " + txn(r.getTxn());
            case COMPACTION -> "compact " + r.getCompaction().getRevision();
            case LEASE_GRANT -> "lease grant " + r.getLeaseGrant().getID();
            case LEASE_REVOKE -> "lease revoke " + r.getLeaseRevoke().getID();
            case LEASE_KEEP_ALIVE -> "lease keep-alive " + r.getLeaseKeepAlive().getID();
            case DEFRAGMENT -> "defragment";
            case KIND_NOT_SET -> "empty request";
        };
    }

    static String txn(TxnRequest t) {
        StringBuilder s = new StringBuilder("if(");
        for (int i = 0; i < t.getCompareCount(); i++) {
            s.append(i > 0 ? ", " : "").append(compare(t.getCompare(i)));
        }
        return s.append(") then(").append(ops(t.getSuccessList())).append(") else(")
                .append(ops(t.getFailureList())).append(')').toString();
    }

    static String compare(Compare c) {
        String target = switch (c.getTarget()) {
            case VALUE -> "value";
            case VERSION -> "version";
            case CREATE -> "create_revision";
            case MOD -> "mod_revision";
            case LEASE -> "lease";
            case UNRECOGNIZED -> "?";
        };
        String op = switch (c.getResult()) {
            case EQUAL -> "==";
            case GREATER -> ">";
            case LESS -> "<";
            case NOT_EQUAL -> "!=";
            case UNRECOGNIZED -> "?";
        };
        String operand = switch (c.getTarget()) {
            case VALUE -> Keys.show(c.getValue());
            case VERSION -> Long.toString(c.getVersion());
            case CREATE -> Long.toString(c.getCreateRevision());
            case MOD -> Long.toString(c.getModRevision());
            case LEASE -> Long.toString(c.getLease());
            case UNRECOGNIZED -> "?";
        };
        return target + "(" + Keys.showRange(c.getKey(), c.getRangeEnd()) + ") " + op + " " + operand;
    }

    private static String ops(List<RequestOp> ops) {
        StringBuilder s = new StringBuilder();
        for (RequestOp op : ops) {
            if (!s.isEmpty()) {
                s.append("; ");
            }
            s.append(switch (op.getRequestCase()) {
                case REQUEST_RANGE -> request(Request.newBuilder().setRange(op.getRequestRange()).build());
                case REQUEST_PUT -> request(Request.newBuilder().setPut(op.getRequestPut()).build());
                case REQUEST_DELETE_RANGE -> request(Request.newBuilder().setDeleteRange(op.getRequestDeleteRange()).build());
                case REQUEST_TXN -> "txn " + txn(op.getRequestTxn());
                case REQUEST_NOT_SET -> "empty";
            });
        }
        return s.toString();
    }
}
