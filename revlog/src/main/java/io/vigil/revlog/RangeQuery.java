package io.vigil.revlog;

import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A Range evaluated at one revision, with etcd 3.4's semantics: {@code count} is every live key in
 * the range at that revision, regardless of limit and filters; {@code more} is set only when the
 * limit cut the result; a sort order and the min/max revision filters see the whole range before
 * the limit applies; the header revision is the store's current revision, not the one read.
 */
final class RangeQuery {
    @FunctionalInterface
    interface RecordReader {
        byte[] read(long mainRevision, int subRevision);
    }

    private RangeQuery() {
    }

    /** Live KeyValues in [key, rangeEnd) at atRevision, in key order. */
    static List<KeyValue> liveKeyValues(KeyIndex index, RecordReader records, byte[] key, byte[] rangeEnd,
                                        long atRevision) {
        List<KeyValue> out = new ArrayList<>();
        for (Map.Entry<byte[], KeyHistory> e : index.range(key, rangeEnd)) {
            KeyHistory.Snapshot s = e.getValue().snapshot();
            int i = s.liveAt(atRevision);
            if (i != KeyHistory.NOT_FOUND) {
                out.add(Records.keyValue(records.read(s.main(i), s.sub(i))));
            }
        }
        return out;
    }

    static RangeResponse run(KeyIndex index, RecordReader records, RangeRequest r, long atRevision,
                             long headerRevision) {
        // As in etcd 3.4, a sort target without a sort order does not widen the fetch: the first
        // limit+1 keys in key order are read and then sorted.
        boolean wholeRange = r.getSortOrder() != RangeRequest.SortOrder.NONE
                || r.getMinModRevision() != 0 || r.getMaxModRevision() != 0
                || r.getMinCreateRevision() != 0 || r.getMaxCreateRevision() != 0;
        // one past the limit, so that "more" can be told
        // (a limit of Long.MAX_VALUE overflows limit+1; etcd then reads everything, and so do we)
        long fetchLimit = wholeRange || r.getLimit() <= 0 || r.getLimit() == Long.MAX_VALUE
                ? Long.MAX_VALUE : r.getLimit() + 1;

        long count = 0;
        List<KeyValue> kvs = new ArrayList<>();
        for (Map.Entry<byte[], KeyHistory> e : index.range(r.getKey().toByteArray(), r.getRangeEnd().toByteArray())) {
            KeyHistory.Snapshot s = e.getValue().snapshot();
            int i = s.liveAt(atRevision);
            if (i == KeyHistory.NOT_FOUND) {
                continue;
            }
            count++;
            if (!r.getCountOnly() && kvs.size() < fetchLimit) {
                kvs.add(Records.keyValue(records.read(s.main(i), s.sub(i))));
            }
        }

        RangeResponse.Builder resp = RangeResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setRevision(headerRevision))
                .setCount(count);
        if (r.getCountOnly()) {
            return resp.build();
        }
        kvs.removeIf(kv -> filteredOut(r, kv));
        sort(r, kvs);
        if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
            kvs = kvs.subList(0, (int) r.getLimit());
            resp.setMore(true);
        }
        for (KeyValue kv : kvs) {
            resp.addKvs(r.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
        }
        return resp.build();
    }

    private static boolean filteredOut(RangeRequest r, KeyValue kv) {
        return (r.getMinModRevision() != 0 && kv.getModRevision() < r.getMinModRevision())
                || (r.getMaxModRevision() != 0 && kv.getModRevision() > r.getMaxModRevision())
                || (r.getMinCreateRevision() != 0 && kv.getCreateRevision() < r.getMinCreateRevision())
                || (r.getMaxCreateRevision() != 0 && kv.getCreateRevision() > r.getMaxCreateRevision());
    }

    private static void sort(RangeRequest r, List<KeyValue> kvs) {
        RangeRequest.SortOrder order = r.getSortOrder();
        if (r.getSortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
            // results come in key order; any other target sorts ascending by default (etcd)
            order = RangeRequest.SortOrder.ASCEND;
        }
        if (order == RangeRequest.SortOrder.NONE) {
            return;
        }
        Comparator<KeyValue> c = switch (r.getSortTarget()) {
            case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
            case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
            case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
            case VALUE -> (a, b) -> Arrays.compareUnsigned(a.getValue().toByteArray(), b.getValue().toByteArray());
            default -> (a, b) -> Arrays.compareUnsigned(a.getKey().toByteArray(), b.getKey().toByteArray());
        };
        kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
}
