package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.history.Response;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.List;

/** Compares an actual response with the model's, headers aside, and says where they differ. */
final class Responses {
    private Responses() {
    }

    /** Null when they agree; else the first difference, as a person reads it. */
    static String diff(Response expected, Response actual) {
        if (expected.getKindCase() != actual.getKindCase()) {
            return "expected a " + expected.getKindCase() + " response, got " + actual.getKindCase();
        }
        return switch (expected.getKindCase()) {
            case RANGE -> diff(expected.getRange(), actual.getRange());
            case PUT -> diff(expected.getPut(), actual.getPut());
            case DELETE_RANGE -> diff(expected.getDeleteRange(), actual.getDeleteRange());
            case TXN -> diff(expected.getTxn(), actual.getTxn(), "");
            default -> null;
        };
    }

    static String diff(RangeResponse expected, RangeResponse actual) {
        String kvs = diff("kvs", expected.getKvsList(), actual.getKvsList());
        if (kvs != null) {
            return kvs;
        }
        if (expected.getCount() != actual.getCount()) {
            return "expected count " + expected.getCount() + ", got " + actual.getCount();
        }
        if (expected.getMore() != actual.getMore()) {
            return "expected more=" + expected.getMore() + ", got more=" + actual.getMore();
        }
        return null;
    }

    static String diff(PutResponse expected, PutResponse actual) {
        if (!expected.getPrevKv().equals(actual.getPrevKv())) {
            return "expected prev_kv " + (expected.hasPrevKv() ? Events.show(expected.getPrevKv()) : "none") + ", got "
                    + (actual.hasPrevKv() ? Events.show(actual.getPrevKv()) : "none");
        }
        return null;
    }

    static String diff(DeleteRangeResponse expected, DeleteRangeResponse actual) {
        if (expected.getDeleted() != actual.getDeleted()) {
            return "expected deleted=" + expected.getDeleted() + ", got deleted=" + actual.getDeleted();
        }
        return diff("prev_kvs", expected.getPrevKvsList(), actual.getPrevKvsList());
    }

    /** Short lists in full; long ones from the first kv that differs. */
    private static String diff(String what, List<KeyValue> expected, List<KeyValue> actual) {
        if (expected.equals(actual)) {
            return null;
        }
        if (expected.size() <= 10 && actual.size() <= 10) {
            return "expected " + what + " " + Events.showKvs(expected) + ", got " + Events.showKvs(actual);
        }
        int i = 0;
        while (i < expected.size() && i < actual.size() && expected.get(i).equals(actual.get(i))) {
            i++;
        }
        return "expected " + expected.size() + " " + what + ", got " + actual.size() + "; the first difference, at "
                + i + ": expected " + (i < expected.size() ? Events.show(expected.get(i)) : "none") + ", got "
                + (i < actual.size() ? Events.show(actual.get(i)) : "none");
    }

    /** The branch is compared first: a wrong branch is reported as such by the caller. */
    static String diff(TxnResponse expected, TxnResponse actual, String path) {
        if (expected.getSucceeded() != actual.getSucceeded()) {
            return path + "expected succeeded=" + expected.getSucceeded() + ", got succeeded=" + actual.getSucceeded();
        }
        if (expected.getResponsesCount() != actual.getResponsesCount()) {
            return path + "expected " + expected.getResponsesCount() + " responses, got " + actual.getResponsesCount();
        }
        for (int i = 0; i < expected.getResponsesCount(); i++) {
            ResponseOp e = expected.getResponses(i);
            ResponseOp a = actual.getResponses(i);
            String where = path + "response " + i + ": ";
            if (e.getResponseCase() != a.getResponseCase()) {
                return where + "expected " + e.getResponseCase() + ", got " + a.getResponseCase();
            }
            String d = switch (e.getResponseCase()) {
                case RESPONSE_RANGE -> diff(e.getResponseRange(), a.getResponseRange());
                case RESPONSE_PUT -> diff(e.getResponsePut(), a.getResponsePut());
                case RESPONSE_DELETE_RANGE -> diff(e.getResponseDeleteRange(), a.getResponseDeleteRange());
                case RESPONSE_TXN -> diff(e.getResponseTxn(), a.getResponseTxn(), where);
                case RESPONSE_NOT_SET -> null;
            };
            if (d != null) {
                return e.getResponseCase() == ResponseOp.ResponseCase.RESPONSE_TXN ? d : where + d;
            }
        }
        return null;
    }
}
