package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import java.util.List;

/** Short, readable descriptions of requests for violation messages. */
final class Requests {
    private Requests() {
    }

    static String describe(Request r) {
        return switch (r.getKindCase()) {
            case RANGE -> (r.getRange().getSerializable() ? "serializable " : "") + "range "
                    + Keys.showRange(r.getRange().getKey(), r.getRange().getRangeEnd())
                    + (r.getRange().getRevision() > 0 ? " at revision " + r.getRange().getRevision() : "");
            case PUT -> "put " + Keys.show(r.getPut().getKey()) + "=" + Keys.show(r.getPut().getValue())
                    + (r.getPut().getLease() != 0 ? " lease " + r.getPut().getLease() : "");
            case DELETE_RANGE -> "delete " + Keys.showRange(r.getDeleteRange().getKey(), r.getDeleteRange().getRangeEnd());
            case TXN -> "txn " + describe(r.getTxn());
            case COMPACTION -> "compact " + r.getCompaction().getRevision();
            case LEASE_GRANT -> "lease grant " + r.getLeaseGrant().getID();
            case LEASE_REVOKE -> "lease revoke " + r.getLeaseRevoke().getID();
            case LEASE_KEEP_ALIVE -> "lease keep-alive " + r.getLeaseKeepAlive().getID();
            case DEFRAGMENT -> "defragment";
            case KIND_NOT_SET -> "empty request";
        };
    }

    static String describe(TxnRequest t) {
        StringBuilder s = new StringBuilder("if(");
        for (int i = 0; i < t.getCompareCount(); i++) {
            s.append(i > 0 ? ", " : "").append(describe(t.getCompare(i)));
        }
        return s.append(") then(").append(describe(t.getSuccessList())).append(") else(")
                .append(describe(t.getFailureList())).append(')').toString();
    }

    static String describe(Compare c) {
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

    private static String describe(List<RequestOp> ops) {
        StringBuilder s = new StringBuilder();
        for (RequestOp op : ops) {
            if (!s.isEmpty()) {
                s.append("; ");
            }
            s.append(switch (op.getRequestCase()) {
                case REQUEST_RANGE -> describe(Request.newBuilder().setRange(op.getRequestRange()).build());
                case REQUEST_PUT -> describe(Request.newBuilder().setPut(op.getRequestPut()).build());
                case REQUEST_DELETE_RANGE -> describe(Request.newBuilder().setDeleteRange(op.getRequestDeleteRange()).build());
                case REQUEST_TXN -> "txn " + describe(op.getRequestTxn());
                case REQUEST_NOT_SET -> "empty";
            });
        }
        return s.toString();
    }
}
