package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;

/**
 * A list of [key, end) in pages of {@code limit}, as Kubernetes' apiserver lists etcd: the first
 * page is a linearizable read at the newest revision R; every next page reads at revision R from
 * the key after the previous page's last key, so the pages together are one snapshot at R. Each
 * page is one recorded operation of the client.
 */
final class PagedList {
    /** The listed key-values at {@code revision}; null from {@link #list} when a page failed. */
    record Snapshot(long revision, List<KeyValue> kvs) {
    }

    private PagedList() {
    }

    static Snapshot list(Client client, ByteString key, ByteString end, int limit) {
        long revision = 0;
        List<KeyValue> kvs = new ArrayList<>();
        ByteString from = key;
        while (true) {
            RangeRequest.Builder page = RangeRequest.newBuilder().setKey(from).setRangeEnd(end).setLimit(limit);
            if (revision > 0) {
                page.setRevision(revision);
            }
            Response r = client.call(Request.newBuilder().setRange(page).build());
            if (r == null) {
                return null;
            }
            RangeResponse range = r.getRange();
            if (revision == 0) {
                revision = range.getHeader().getRevision();
            }
            kvs.addAll(range.getKvsList());
            if (!range.getMore() || range.getKvsCount() == 0) {
                return new Snapshot(revision, kvs);
            }
            from = Keys.successor(range.getKvs(range.getKvsCount() - 1).getKey());
        }
    }
}
