package io.vigil.revlog;

import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks etcd makes on a request before it is proposed, with etcd's errors. A request that
 * passes them can still be refused at apply time, by state (see {@link RevisionWriter}).
 */
public final class RequestChecks {
    public static final int MAX_TXN_OPS_DEFAULT = 128;

    private RequestChecks() {
    }

    public static void checkRange(RangeRequest r) {
        requireKey(r.getKey().size());
    }

    public static void checkPut(PutRequest p) {
        requireKey(p.getKey().size());
        if (p.getIgnoreValue() && !p.getValue().isEmpty()) {
            throw new RevLogException(RevLogException.Code.VALUE_PROVIDED);
        }
        if (p.getIgnoreLease() && p.getLease() != 0) {
            throw new RevLogException(RevLogException.Code.LEASE_PROVIDED);
        }
    }

    public static void checkDeleteRange(DeleteRangeRequest d) {
        requireKey(d.getKey().size());
    }

    /** Operation counts, keys of every nested op, then no key written twice on any path. */
    public static void checkTxn(TxnRequest t, int maxTxnOps) {
        checkTxnOps(t, maxTxnOps);
        checkIntervals(t.getSuccessList());
        checkIntervals(t.getFailureList());
    }

    /** True when no branch of the txn, at any depth, puts or deletes. */
    public static boolean isReadOnly(TxnRequest t) {
        return t.getSuccessList().stream().allMatch(RequestChecks::isReadOnly)
                && t.getFailureList().stream().allMatch(RequestChecks::isReadOnly);
    }

    private static boolean isReadOnly(RequestOp op) {
        return op.hasRequestRange() || (op.hasRequestTxn() && isReadOnly(op.getRequestTxn()));
    }

    private static void checkTxnOps(TxnRequest t, int maxTxnOps) {
        int ops = Math.max(t.getCompareCount(), Math.max(t.getSuccessCount(), t.getFailureCount()));
        if (ops > maxTxnOps) {
            throw new RevLogException(RevLogException.Code.TOO_MANY_OPS);
        }
        for (Compare c : t.getCompareList()) {
            requireKey(c.getKey().size());
        }
        for (RequestOp op : t.getSuccessList()) {
            checkOp(op, maxTxnOps - ops);
        }
        for (RequestOp op : t.getFailureList()) {
            checkOp(op, maxTxnOps - ops);
        }
    }

    private static void checkOp(RequestOp op, int maxTxnOps) {
        switch (op.getRequestCase()) {
            case REQUEST_RANGE -> checkRange(op.getRequestRange());
            case REQUEST_PUT -> checkPut(op.getRequestPut());
            case REQUEST_DELETE_RANGE -> checkDeleteRange(op.getRequestDeleteRange());
            case REQUEST_TXN -> checkTxnOps(op.getRequestTxn(), maxTxnOps);
            // an empty op: etcd answers "key not found"
            default -> throw new RevLogException(RevLogException.Code.KEY_NOT_FOUND);
        }
    }

    private static void requireKey(int keyBytes) {
        if (keyBytes == 0) {
            throw new RevLogException(RevLogException.Code.EMPTY_KEY);
        }
    }

    /**
     * A delete interval as etcd 3.4 compares it: a single key, or [key, rangeEnd) where rangeEnd
     * is compared as plain bytes. Note the etcd quirk kept here on purpose: a from-key delete
     * (rangeEnd "\0") is an interval that contains no key, so it never conflicts with a put.
     */
    private record Interval(byte[] start, byte[] end) {
        boolean contains(byte[] key) {
            if (end.length == 0) {
                return Arrays.equals(start, key);
            }
            return Arrays.compareUnsigned(start, key) <= 0 && Arrays.compareUnsigned(key, end) < 0;
        }
    }

    private record Writes(Set<String> puts, List<Interval> deletes) {
        boolean deleted(String key) {
            byte[] k = key.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            return deletes.stream().anyMatch(d -> d.contains(k));
        }
    }

    /**
     * etcd's checkIntervals: within one level, a put may not repeat a put or fall in a delete of
     * that level or of a nested txn; a nested txn's success and failure branches may put the same
     * key, since only one of them runs.
     */
    private static Writes checkIntervals(List<RequestOp> ops) {
        List<Interval> dels = new ArrayList<>();
        for (RequestOp op : ops) {
            if (op.hasRequestDeleteRange()) {
                DeleteRangeRequest d = op.getRequestDeleteRange();
                dels.add(new Interval(d.getKey().toByteArray(), d.getRangeEnd().toByteArray()));
            }
        }
        Writes level = new Writes(new HashSet<>(), dels);
        for (RequestOp op : ops) {
            if (!op.hasRequestTxn()) {
                continue;
            }
            Writes then = checkIntervals(op.getRequestTxn().getSuccessList());
            Writes otherwise = checkIntervals(op.getRequestTxn().getFailureList());
            for (String k : then.puts) {
                if (level.puts.contains(k) || level.deleted(k)) {
                    throw duplicate();
                }
                level.puts.add(k);
            }
            for (String k : otherwise.puts) {
                if ((level.puts.contains(k) && !then.puts.contains(k)) || level.deleted(k)) {
                    throw duplicate();
                }
                level.puts.add(k);
            }
            dels.addAll(then.deletes);
            dels.addAll(otherwise.deletes);
        }
        for (RequestOp op : ops) {
            if (!op.hasRequestPut()) {
                continue;
            }
            // ISO-8859-1 maps every byte to one char, so the string is an exact key identity
            String k = op.getRequestPut().getKey().toString(java.nio.charset.StandardCharsets.ISO_8859_1);
            if (level.puts.contains(k) || level.deleted(k)) {
                throw duplicate();
            }
            level.puts.add(k);
        }
        return level;
    }

    private static RevLogException duplicate() {
        return new RevLogException(RevLogException.Code.DUPLICATE_KEY);
    }
}
