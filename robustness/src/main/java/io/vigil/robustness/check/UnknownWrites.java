package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import io.vigil.proto.mvccpb.Event;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Writes whose outcome is unknown (a timeout, a lost connection): each may explain at most one
 * revision, the one where applying it to the state before gives exactly the revision's events.
 * Puts carry unique values, so the requests that put a value the revision holds are tried first;
 * among requests that fit, the one called earliest is taken (the loosest real-time constraint).
 */
final class UnknownWrites {
    private final List<Op> byCall;
    private final Map<ByteString, List<Op>> byValue = new HashMap<>();
    private final Set<Integer> used = new HashSet<>();

    UnknownWrites(List<Op> ops) {
        byCall = new ArrayList<>(ops);
        byCall.sort(Comparator.comparingLong(Op::call).thenComparingInt(Op::index));
        for (Op op : byCall) {
            List<ByteString> values = new ArrayList<>();
            values(op.request(), values);
            for (ByteString v : values) {
                List<Op> list = byValue.computeIfAbsent(v, x -> new ArrayList<>());
                if (list.isEmpty() || list.get(list.size() - 1) != op) {
                    list.add(op);
                }
            }
        }
    }

    /** The request that wrote revision r, now used; null when none fits. */
    Op explain(long r, List<Event> actual, States states, BiPredicate<List<Event>, List<Event>> same) {
        Set<Integer> tried = new HashSet<>();
        for (Event e : actual) {
            if (e.getType() == Event.EventType.PUT) {
                for (Op op : byValue.getOrDefault(e.getKv().getValue(), List.of())) {
                    if (tried.add(op.index()) && fits(op, r, actual, states, same)) {
                        return op;
                    }
                }
            }
        }
        for (Op op : byCall) {
            if (tried.add(op.index()) && fits(op, r, actual, states, same)) {
                return op;
            }
        }
        return null;
    }

    private boolean fits(Op op, long r, List<Event> actual, States states, BiPredicate<List<Event>, List<Event>> same) {
        if (used.contains(op.index())) {
            return false;
        }
        Apply.Outcome o;
        try {
            o = Apply.apply(states.at(r - 1), r, op.request());
        } catch (Apply.Unsupported e) {
            return false;
        }
        if (o.error() == null && o.changed() && same.test(o.events(), actual)) {
            used.add(op.index());
            return true;
        }
        return false;
    }

    private static void values(Request r, List<ByteString> out) {
        switch (r.getKindCase()) {
            case PUT -> out.add(r.getPut().getValue());
            case TXN -> values(r.getTxn(), out);
            default -> {
            }
        }
    }

    private static void values(TxnRequest txn, List<ByteString> out) {
        for (List<RequestOp> branch : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (RequestOp op : branch) {
                if (op.hasRequestPut()) {
                    out.add(op.getRequestPut().getValue());
                } else if (op.hasRequestTxn()) {
                    values(op.getRequestTxn(), out);
                }
            }
        }
    }
}
