package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Traffic "etcd": a mix of every KV and lease request over {@link #KEYS} keys under
 * {@link #PREFIX}, few enough that clients collide on keys and transactions conflict.
 *
 * <p>Every put value is unique in the run ("c&lt;client&gt;-&lt;n&gt;"), so the checker can tell
 * which put an event or a read shows, even of a put whose outcome is unknown. Compares use what
 * this client last read of a key, so they hold often but not always and both branches run.
 */
final class EtcdTraffic implements Workload {
    static final String PREFIX = "/etcd/";
    static final int KEYS = 20;
    private static final int MAX_LEASES = 3;

    private final Client client;
    private final Random random;
    private final Compactions compactions;
    /** What this client last read of each key; absent when unknown. */
    private final Map<ByteString, KeyValue> seen = new HashMap<>();
    /** Leases this client was granted and has not revoked (they may have expired meanwhile). */
    private final List<Long> leases = new ArrayList<>();
    private long puts;

    EtcdTraffic(Client client, Random random, Compactions compactions) {
        this.client = client;
        this.random = random;
        this.compactions = compactions;
    }

    static ByteString key(int i) {
        return Keys.key(PREFIX + "key-" + i);
    }

    @Override
    public void step() {
        int dice = random.nextInt(100);
        if (dice < 22) {
            put();
        } else if (dice < 30) {
            get(randomKey(), false);
        } else if (dice < 35) {
            get(randomKey(), true);
        } else if (dice < 40) {
            rangeOfPrefix(false);
        } else if (dice < 43) {
            rangeOfPrefix(true);
        } else if (dice < 51) {
            call(Request.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(randomKey())).build());
        } else if (dice < 54) {
            deletePrefix();
        } else if (dice < 80) {
            txn();
        } else if (dice < 86) {
            grant();
        } else if (dice < 89) {
            revoke();
        } else if (dice < 96) {
            keepAlive();
        } else {
            compact();
        }
    }

    private ByteString randomKey() {
        return key(random.nextInt(KEYS));
    }

    private ByteString nextValue() {
        return Keys.key("c" + client.number() + "-" + (++puts));
    }

    private Response call(Request request) {
        Response r = client.call(request);
        if (r != null) {
            learn(r);
        }
        return r;
    }

    private void put() {
        PutRequest.Builder put = PutRequest.newBuilder().setKey(randomKey()).setValue(nextValue());
        if (!leases.isEmpty() && random.nextInt(3) == 0) {
            put.setLease(leases.get(random.nextInt(leases.size())));
        }
        call(Request.newBuilder().setPut(put).build());
    }

    private void get(ByteString key, boolean serializable) {
        call(Request.newBuilder().setRange(RangeRequest.newBuilder().setKey(key).setSerializable(serializable)).build());
    }

    /** A range over the whole prefix, sometimes limited, sometimes at the revision last seen. */
    private void rangeOfPrefix(boolean serializable) {
        ByteString prefix = Keys.key(PREFIX);
        RangeRequest.Builder range = RangeRequest.newBuilder().setKey(prefix).setRangeEnd(Keys.prefixEnd(prefix))
                .setSerializable(serializable);
        if (random.nextInt(3) == 0) {
            range.setLimit(1 + random.nextInt(5));
        }
        call(Request.newBuilder().setRange(range).build());
    }

    /** Deletes every key starting with key-d for a digit d: key-d and key-d0 … key-d9 where they exist. */
    private void deletePrefix() {
        ByteString prefix = Keys.key(PREFIX + "key-" + random.nextInt(10));
        call(Request.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(prefix)
                .setRangeEnd(Keys.prefixEnd(prefix))).build());
    }

    /**
     * A txn comparing key a's value, version or mod revision with what this client last read of it
     * (or a guess): on success it puts a and puts, reads or deletes b (b != a); on failure it reads
     * a and puts or deletes b. One txn in 40 puts a twice, which etcd refuses before proposing.
     */
    private void txn() {
        ByteString a = randomKey();
        ByteString b = key((indexOf(a) + 1 + random.nextInt(KEYS - 1)) % KEYS);
        KeyValue known = seen.get(a);
        Compare.Builder cmp = Compare.newBuilder().setKey(a).setResult(Compare.CompareResult.EQUAL);
        switch (random.nextInt(3)) {
            case 0 -> cmp.setTarget(Compare.CompareTarget.VALUE)
                    .setValue(known != null ? known.getValue() : Keys.key("c" + client.number() + "-" + puts));
            case 1 -> cmp.setTarget(Compare.CompareTarget.VERSION).setVersion(known != null ? known.getVersion() : 0);
            default -> cmp.setTarget(Compare.CompareTarget.MOD).setModRevision(known != null ? known.getModRevision() : 0);
        }
        TxnRequest.Builder txn = TxnRequest.newBuilder().addCompare(cmp)
                .addSuccess(putOp(a))
                .addSuccess(random.nextInt(40) == 0 ? putOp(a) : anyOp(b))
                .addFailure(getOp(a))
                .addFailure(random.nextBoolean() ? putOp(b) : deleteOp(b));
        call(Request.newBuilder().setTxn(txn).build());
    }

    private RequestOp anyOp(ByteString key) {
        return switch (random.nextInt(3)) {
            case 0 -> putOp(key);
            case 1 -> getOp(key);
            default -> deleteOp(key);
        };
    }

    private static int indexOf(ByteString key) {
        return Integer.parseInt(key.toStringUtf8().substring((PREFIX + "key-").length()));
    }

    private RequestOp putOp(ByteString key) {
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(nextValue())).build();
    }

    private static RequestOp getOp(ByteString key) {
        return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)).build();
    }

    private static RequestOp deleteOp(ByteString key) {
        return RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(key)).build();
    }

    private void grant() {
        if (leases.size() >= MAX_LEASES) {
            revoke();
            return;
        }
        // short TTLs, so some leases expire between keep-alives and their keys go with them
        Response r = call(Request.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setTTL(3 + random.nextInt(6))).build());
        if (r != null && r.getLeaseGrant().getError().isEmpty()) {
            leases.add(r.getLeaseGrant().getID());
        }
    }

    private void revoke() {
        if (leases.isEmpty()) {
            grant();
            return;
        }
        long id = leases.remove(random.nextInt(leases.size()));
        call(Request.newBuilder().setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)).build());
    }

    private void keepAlive() {
        if (leases.isEmpty()) {
            grant();
            return;
        }
        long id = leases.get(random.nextInt(leases.size()));
        Response r = call(Request.newBuilder().setLeaseKeepAlive(LeaseKeepAliveRequest.newBuilder().setID(id)).build());
        if (r != null && r.getLeaseKeepAlive().getTTL() <= 0) {
            leases.remove(id); // expired: etcd answers a keep-alive of a missing lease with TTL 0
        }
    }

    private void compact() {
        long revision = compactions.next(Long.MAX_VALUE);
        if (revision <= 0) {
            get(randomKey(), false);
            return;
        }
        Response r = call(Request.newBuilder().setCompaction(CompactionRequest.newBuilder().setRevision(revision)).build());
        if (r != null) {
            compactions.compacted(revision);
        }
    }

    /** Remembers the key-values a response showed, for later compares. */
    private void learn(Response r) {
        switch (r.getKindCase()) {
            case RANGE -> r.getRange().getKvsList().forEach(kv -> seen.put(kv.getKey(), kv));
            case TXN -> r.getTxn().getResponsesList().forEach(op -> {
                if (op.hasResponseRange()) {
                    op.getResponseRange().getKvsList().forEach(kv -> seen.put(kv.getKey(), kv));
                }
            });
            default -> {
            }
        }
    }
}
