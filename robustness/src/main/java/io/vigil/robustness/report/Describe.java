package io.vigil.robustness.report;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.history.WatchRecord;
import io.vigil.proto.mvccpb.Event;
import java.util.stream.Collectors;

/** One-line, human-readable summaries of history records, for reports and timelines. */
public final class Describe {
    private static final int MAX_TEXT = 40;

    private Describe() {}

    /** e.g. {@code put /k = c3-17 → rev 41}, {@code get /k (serializable) → rev 40, 1 kv}, {@code put /k → UNAVAILABLE: ...}. */
    public static String operation(Operation op) {
        String outcome = switch (op.getOutcomeCase()) {
            case RESPONSE -> response(op.getResponse());
            case ERROR -> (op.getDefinitelyFailed() ? "failed: " : "unknown: ") + op.getError();
            case OUTCOME_NOT_SET -> "no outcome";
        };
        return request(op.getRequest()) + " → " + outcome;
    }

    public static String request(Request r) {
        return switch (r.getKindCase()) {
            case RANGE -> range(r.getRange());
            case PUT -> "put " + text(r.getPut().getKey()) + " = " + text(r.getPut().getValue())
                    + (r.getPut().getLease() != 0 ? " lease " + Long.toHexString(r.getPut().getLease()) : "");
            case DELETE_RANGE -> "delete " + keys(r.getDeleteRange().getKey(), r.getDeleteRange().getRangeEnd());
            case TXN -> "txn if " + r.getTxn().getCompareList().stream().map(Describe::compare).collect(Collectors.joining(" and "))
                    + " then " + ops(r.getTxn().getSuccessList()) + " else " + ops(r.getTxn().getFailureList());
            case COMPACTION -> "compact " + r.getCompaction().getRevision();
            case LEASE_GRANT -> "lease grant ttl " + r.getLeaseGrant().getTTL();
            case LEASE_REVOKE -> "lease revoke " + Long.toHexString(r.getLeaseRevoke().getID());
            case LEASE_KEEP_ALIVE -> "lease keep-alive " + Long.toHexString(r.getLeaseKeepAlive().getID());
            case DEFRAGMENT -> "defragment";
            case KIND_NOT_SET -> "(empty request)";
        };
    }

    public static String response(Response r) {
        return switch (r.getKindCase()) {
            case RANGE -> header(r.getRange().getHeader()) + ", " + r.getRange().getKvsCount() + " kv"
                    + (r.getRange().getKvsCount() == 1 ? " " + text(r.getRange().getKvs(0).getValue()) : "")
                    + (r.getRange().getMore() ? ", more" : "");
            case PUT -> header(r.getPut().getHeader());
            case DELETE_RANGE -> header(r.getDeleteRange().getHeader()) + ", deleted " + r.getDeleteRange().getDeleted();
            case TXN -> header(r.getTxn().getHeader()) + (r.getTxn().getSucceeded() ? ", then" : ", else");
            case COMPACTION -> header(r.getCompaction().getHeader());
            case LEASE_GRANT -> header(r.getLeaseGrant().getHeader()) + ", id " + Long.toHexString(r.getLeaseGrant().getID());
            case LEASE_REVOKE -> header(r.getLeaseRevoke().getHeader());
            case LEASE_KEEP_ALIVE -> header(r.getLeaseKeepAlive().getHeader()) + ", ttl " + r.getLeaseKeepAlive().getTTL();
            case DEFRAGMENT -> "ok";
            case KIND_NOT_SET -> "(empty response)";
        };
    }

    public static String watch(WatchRecord w) {
        return switch (w.getKindCase()) {
            case CREATE -> "watch " + keys(w.getCreate().getKey(), w.getCreate().getRangeEnd()) + " from rev "
                    + w.getCreate().getStartRevision();
            case RESPONSE -> watchResponse(w.getResponse());
            case PROGRESS_REQUESTED -> "progress requested";
            case ERROR -> "stream error: " + w.getError();
            case KIND_NOT_SET -> "(empty watch record)";
        };
    }

    private static String watchResponse(WatchResponse r) {
        if (r.getCreated()) {
            return "created " + header(r.getHeader());
        }
        if (r.getCanceled()) {
            return "canceled: " + r.getCancelReason() + (r.getCompactRevision() != 0 ? " compacted " + r.getCompactRevision() : "");
        }
        if (r.getEventsCount() == 0) {
            return "progress " + header(r.getHeader());
        }
        return r.getEventsList().stream().map(Describe::event).collect(Collectors.joining("; "));
    }

    public static String event(Event e) {
        return (e.getType() == Event.EventType.PUT ? "put " : "delete ") + text(e.getKv().getKey())
                + (e.getType() == Event.EventType.PUT ? " = " + text(e.getKv().getValue()) : "") + " @" + e.getKv().getModRevision();
    }

    private static String range(RangeRequest r) {
        return "get " + keys(r.getKey(), r.getRangeEnd()) + (r.getRevision() != 0 ? " at rev " + r.getRevision() : "")
                + (r.getLimit() != 0 ? " limit " + r.getLimit() : "") + (r.getSerializable() ? " (serializable)" : "");
    }

    private static String compare(Compare c) {
        String target = switch (c.getTarget()) {
            case VERSION -> "version=" + c.getVersion();
            case CREATE -> "create=" + c.getCreateRevision();
            case MOD -> "mod=" + c.getModRevision();
            case VALUE -> "value=" + text(c.getValue());
            case LEASE -> "lease=" + c.getLease();
            case UNRECOGNIZED -> "?";
        };
        String op = switch (c.getResult()) {
            case EQUAL -> "";
            case GREATER -> ">";
            case LESS -> "<";
            case NOT_EQUAL -> "!";
            case UNRECOGNIZED -> "?";
        };
        return op + target.replaceFirst("=", op.isEmpty() ? "=" : "") + "(" + text(c.getKey()) + ")";
    }

    private static String ops(java.util.List<RequestOp> ops) {
        if (ops.isEmpty()) {
            return "nothing";
        }
        return ops.stream().map(o -> switch (o.getRequestCase()) {
            case REQUEST_RANGE -> range(o.getRequestRange());
            case REQUEST_PUT -> "put " + text(o.getRequestPut().getKey()) + " = " + text(o.getRequestPut().getValue());
            case REQUEST_DELETE_RANGE -> "delete " + keys(o.getRequestDeleteRange().getKey(), o.getRequestDeleteRange().getRangeEnd());
            case REQUEST_TXN -> "txn";
            case REQUEST_NOT_SET -> "?";
        }).collect(Collectors.joining(", "));
    }

    private static String header(ResponseHeader h) {
        return "rev " + h.getRevision();
    }

    private static String keys(ByteString key, ByteString rangeEnd) {
        if (rangeEnd.isEmpty()) {
            return text(key);
        }
        return "[" + text(key) + ", " + (rangeEnd.equals(ByteString.copyFrom(new byte[] {0})) ? "∞" : text(rangeEnd)) + ")";
    }

    /** Printable text as is, shortened; anything else as hex. */
    static String text(ByteString b) {
        String s;
        if (b.toStringUtf8().chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            s = b.toStringUtf8();
        } else {
            StringBuilder hex = new StringBuilder("0x");
            for (int i = 0; i < b.size(); i++) {
                hex.append(String.format("%02x", b.byteAt(i)));
            }
            s = hex.toString();
        }
        return s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "…" : s;
    }
}
