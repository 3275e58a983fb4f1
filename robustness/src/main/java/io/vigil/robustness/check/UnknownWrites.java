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
import java.util.TreeSet;
import java.util.function.BiPredicate;

/**
 * Writes whose outcome is unknown (a timeout, a lost connection): each may explain at most one
 * revision, the one where applying it to the state before gives exactly the revision's events.
 * Puts carry unique values, so the requests that put a value the revision holds are tried first;
 * among requests that fit, the one called earliest is taken (the loosest real-time constraint).
 */
final class UnknownWrites {
    private static final Comparator<Op> BY_CALL = Comparator.comparingLong(Op::call).thenComparingInt(Op::index);

    // every list in call order
    private final Map<ByteString, List<Op>> byValue = new HashMap<>();
    /** Requests that write only single keys, by each key they may write. */
    private final Map<ByteString, List<Op>> byKey = new HashMap<>();
    /** Requests that delete a range: they may write any key. */
    private final List<Op> wide = new ArrayList<>();
    private final Set<Integer> used = new HashSet<>();

    UnknownWrites(List<Op> ops) {
        List<Op> byCall = new ArrayList<>(ops);
        byCall.sort(BY_CALL);
        for (Op op : byCall) {
            List<ByteString> values = new ArrayList<>();
            List<ByteString> keys = new ArrayList<>();
            boolean isWide = writes(op.request(), values, keys);
            index(byValue, values, op);
            if (isWide) {
                wide.add(op);
            } else {
                index(byKey, keys, op);
            }
        }
    }

    private static void index(Map<ByteString, List<Op>> index, List<ByteString> keys, Op op) {
        for (ByteString k : keys) {
            List<Op> list = index.computeIfAbsent(k, x -> new ArrayList<>());
            if (list.isEmpty() || list.get(list.size() - 1) != op) {
                list.add(op);
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
        // a request that gives r's events writes at least one of r's keys
        Set<Op> candidates = new TreeSet<>(BY_CALL);
        candidates.addAll(wide);
        for (Event e : actual) {
            candidates.addAll(byKey.getOrDefault(e.getKv().getKey(), List.of()));
        }
        for (Op op : candidates) {
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

    /** Collects the values put and the keys written; true when some delete covers a range. */
    private static boolean writes(Request r, List<ByteString> values, List<ByteString> keys) {
        return switch (r.getKindCase()) {
            case PUT -> {
                values.add(r.getPut().getValue());
                keys.add(r.getPut().getKey());
                yield false;
            }
            case DELETE_RANGE -> {
                keys.add(r.getDeleteRange().getKey());
                yield !r.getDeleteRange().getRangeEnd().isEmpty();
            }
            case TXN -> writes(r.getTxn(), values, keys);
            default -> false;
        };
    }

    private static boolean writes(TxnRequest txn, List<ByteString> values, List<ByteString> keys) {
        boolean isWide = false;
        for (List<RequestOp> branch : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (RequestOp op : branch) {
                switch (op.getRequestCase()) {
                    case REQUEST_PUT -> {
                        values.add(op.getRequestPut().getValue());
                        keys.add(op.getRequestPut().getKey());
                    }
                    case REQUEST_DELETE_RANGE -> {
                        keys.add(op.getRequestDeleteRange().getKey());
                        isWide |= !op.getRequestDeleteRange().getRangeEnd().isEmpty();
                    }
                    case REQUEST_TXN -> isWide |= writes(op.getRequestTxn(), values, keys);
                    default -> {
                    }
                }
            }
        }
        return isWide;
    }
}
