package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;

/**
 * etcd's applier as a model: what a put, delete, txn or range does to a state and what it answers.
 * Responses are built without headers (the caller knows the revision). A request applied at
 * revision r sees S(r-1); its puts get mod_revision r; it creates revision r only when it produced
 * events.
 */
final class Apply {
    /** What applying a request gives: its events, its response, or the error etcd would return. */
    record Outcome(List<Event> events, Response response, String error) {
        boolean changed() {
            return !events.isEmpty();
        }
    }

    /** A request the model does not judge (sorting, revision filters). */
    static final class Unsupported extends RuntimeException {
        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    private static final class KeyNotFound extends RuntimeException {
        KeyNotFound() {
            super("etcdserver: key not found", null, false, false);
        }
    }

    private final Overlay state;
    private final long revision;
    private final List<Event> events = new ArrayList<>();

    private Apply(StateView base, long revision) {
        this.state = new Overlay(base);
        this.revision = revision;
    }

    /** Applies a put, delete, txn or range to {@code base} = S(revision - 1). */
    static Outcome apply(StateView base, long revision, Request request) {
        Apply a = new Apply(base, revision);
        try {
            Response response = switch (request.getKindCase()) {
                case PUT -> Response.newBuilder().setPut(a.put(request.getPut())).build();
                case DELETE_RANGE -> Response.newBuilder().setDeleteRange(a.delete(request.getDeleteRange())).build();
                case TXN -> Response.newBuilder().setTxn(a.txn(request.getTxn())).build();
                case RANGE -> Response.newBuilder().setRange(range(a.state, request.getRange())).build();
                default -> throw new IllegalArgumentException("not a key-value request: " + request.getKindCase());
            };
            return new Outcome(List.copyOf(a.events), response, null);
        } catch (KeyNotFound e) {
            return new Outcome(List.of(), null, e.getMessage());
        }
    }

    private PutResponse put(PutRequest req) {
        KeyValue prev = state.get(req.getKey());
        if ((req.getIgnoreValue() || req.getIgnoreLease()) && prev == null) {
            throw new KeyNotFound();
        }
        KeyValue kv = KeyValue.newBuilder()
                .setKey(req.getKey())
                .setCreateRevision(prev == null ? revision : prev.getCreateRevision())
                .setModRevision(revision)
                .setVersion(prev == null ? 1 : prev.getVersion() + 1)
                .setValue(req.getIgnoreValue() ? prev.getValue() : req.getValue())
                .setLease(req.getIgnoreLease() ? prev.getLease() : req.getLease())
                .build();
        state.put(kv);
        events.add(Events.put(kv));
        PutResponse.Builder response = PutResponse.newBuilder();
        if (req.getPrevKv() && prev != null) {
            response.setPrevKv(prev);
        }
        return response.build();
    }

    private DeleteRangeResponse delete(DeleteRangeRequest req) {
        List<KeyValue> deleted = state.range(req.getKey(), req.getRangeEnd());
        DeleteRangeResponse.Builder response = DeleteRangeResponse.newBuilder().setDeleted(deleted.size());
        for (KeyValue kv : deleted) {
            state.delete(kv.getKey());
            events.add(Events.delete(kv.getKey(), revision));
            if (req.getPrevKv()) {
                response.addPrevKvs(kv);
            }
        }
        return response.build();
    }

    private TxnResponse txn(TxnRequest req) {
        boolean succeeded = compares(state, req.getCompareList());
        TxnResponse.Builder response = TxnResponse.newBuilder().setSucceeded(succeeded);
        for (RequestOp op : succeeded ? req.getSuccessList() : req.getFailureList()) {
            response.addResponses(switch (op.getRequestCase()) {
                case REQUEST_RANGE -> ResponseOp.newBuilder().setResponseRange(range(state, op.getRequestRange()));
                case REQUEST_PUT -> ResponseOp.newBuilder().setResponsePut(put(op.getRequestPut()));
                case REQUEST_DELETE_RANGE -> ResponseOp.newBuilder().setResponseDeleteRange(delete(op.getRequestDeleteRange()));
                case REQUEST_TXN -> ResponseOp.newBuilder().setResponseTxn(txn(op.getRequestTxn()));
                case REQUEST_NOT_SET -> ResponseOp.newBuilder();
            });
        }
        return response.build();
    }

    static boolean compares(StateView view, List<Compare> compares) {
        for (Compare c : compares) {
            if (!holds(view, c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * etcd's compare: every key in the range must satisfy it; with no key, a VALUE compare fails
     * and the others compare against a zero key-value (version 0, revisions 0, lease 0).
     */
    static boolean holds(StateView view, Compare c) {
        List<KeyValue> kvs = view.range(c.getKey(), c.getRangeEnd());
        if (kvs.isEmpty()) {
            return c.getTarget() != Compare.CompareTarget.VALUE && holds(KeyValue.getDefaultInstance(), c);
        }
        for (KeyValue kv : kvs) {
            if (!holds(kv, c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean holds(KeyValue kv, Compare c) {
        int order = switch (c.getTarget()) {
            case VALUE -> ByteString.unsignedLexicographicalComparator().compare(kv.getValue(), c.getValue());
            case VERSION -> Long.compare(kv.getVersion(), c.getVersion());
            case CREATE -> Long.compare(kv.getCreateRevision(), c.getCreateRevision());
            case MOD -> Long.compare(kv.getModRevision(), c.getModRevision());
            case LEASE -> Long.compare(kv.getLease(), c.getLease());
            case UNRECOGNIZED -> throw new Unsupported("unknown compare target");
        };
        return switch (c.getResult()) {
            case EQUAL -> order == 0;
            case GREATER -> order > 0;
            case LESS -> order < 0;
            case NOT_EQUAL -> order != 0;
            case UNRECOGNIZED -> throw new Unsupported("unknown compare result");
        };
    }

    /**
     * etcd's range: the keys in the range in key order; count is every key in the range; with a
     * limit, the first limit keys and more when there were others.
     */
    static RangeResponse range(StateView view, RangeRequest req) {
        boolean keyOrder = req.getSortOrder() == RangeRequest.SortOrder.NONE
                || (req.getSortOrder() == RangeRequest.SortOrder.ASCEND && req.getSortTarget() == RangeRequest.SortTarget.KEY);
        if (!keyOrder) {
            throw new Unsupported("range sorted by " + req.getSortTarget() + " " + req.getSortOrder());
        }
        if (req.getMinModRevision() != 0 || req.getMaxModRevision() != 0 || req.getMinCreateRevision() != 0
                || req.getMaxCreateRevision() != 0) {
            throw new Unsupported("range with mod/create revision filters");
        }
        List<KeyValue> kvs = view.range(req.getKey(), req.getRangeEnd());
        RangeResponse.Builder response = RangeResponse.newBuilder().setCount(kvs.size());
        if (req.getCountOnly()) {
            return response.build();
        }
        if (req.getLimit() > 0 && kvs.size() > req.getLimit()) {
            kvs = kvs.subList(0, (int) req.getLimit());
            response.setMore(true);
        }
        for (KeyValue kv : kvs) {
            response.addKvs(req.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
        }
        return response.build();
    }
}
