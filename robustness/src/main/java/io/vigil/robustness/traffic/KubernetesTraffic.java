package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Traffic "kubernetes": what the apiserver's etcd3 storage sends for objects under
 * /registry/&lt;resource&gt;/&lt;namespace&gt;/&lt;name&gt;. Every write is a txn guarded by the
 * object's mod revision: create compares mod_revision == 0, update and delete compare it with the
 * last one this client saw (reading the object first when it does not know it), and on a failed
 * compare the txn reads the object back. Lists are paged at one revision ({@link PagedList}).
 * Values are unique in the run ("k&lt;client&gt;-&lt;n&gt;").
 */
final class KubernetesTraffic implements Workload {
    static final List<String> RESOURCES = List.of("pods", "configmaps");
    static final List<String> NAMESPACES = List.of("default", "kube-system");
    static final int NAMES = 6;

    /** The apiserver's compactor elects itself by bumping this key's version. */
    static final String COMPACT_REV_KEY = "compact_rev_key";

    private final Client client;
    private final Random random;
    private final Compactions compactions;
    /** The compactor's view: compact_rev_key's version, and the revision its last round saw. */
    private long compactVersion;
    private long compactRevision;
    /** The mod revision this client last saw of each object; 0 when it saw the object absent. */
    private final Map<ByteString, Long> modRevisions = new HashMap<>();
    private long writes;

    KubernetesTraffic(Client client, Random random, Compactions compactions) {
        this.client = client;
        this.random = random;
        this.compactions = compactions;
    }

    static String prefix(String resource) {
        return "/registry/" + resource + "/";
    }

    @Override
    public void step() {
        ByteString key = Keys.key(prefix(pick(RESOURCES)) + pick(NAMESPACES) + "/obj-" + random.nextInt(NAMES));
        int dice = random.nextInt(100);
        if (dice < 20) {
            create(key);
        } else if (dice < 55) {
            update(key);
        } else if (dice < 67) {
            delete(key);
        } else if (dice < 77) {
            get(key, random.nextInt(4) == 0);
        } else if (dice < 98) {
            list();
        } else {
            compact();
        }
    }

    private String pick(List<String> from) {
        return from.get(random.nextInt(from.size()));
    }

    private void create(ByteString key) {
        guarded(key, 0, put(key));
    }

    private void update(ByteString key) {
        Long known = modRevisions.containsKey(key) ? modRevisions.get(key) : get(key, false);
        if (known == null) {
            return;
        }
        if (known == 0) {
            create(key);
        } else {
            guarded(key, known, put(key));
        }
    }

    private void delete(ByteString key) {
        Long known = modRevisions.containsKey(key) ? modRevisions.get(key) : get(key, false);
        if (known == null || known == 0) {
            return;
        }
        guarded(key, known, RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(key)).build());
    }

    private RequestOp put(ByteString key) {
        ByteString value = Keys.key("k" + client.number() + "-" + (++writes));
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value)).build();
    }

    /**
     * One round of the apiserver's compactor (storage/etcd3/compact.go): the client whose txn bumps
     * compact_rev_key's version from the one it knows wins the round and compacts to the revision
     * its previous round saw — here also bounded by {@link Compactions}, so no recording watcher is
     * compacted. (The apiserver puts the revision as the value; values here stay unique instead.)
     */
    private void compact() {
        ByteString key = Keys.key(COMPACT_REV_KEY);
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.VERSION)
                        .setResult(Compare.CompareResult.EQUAL).setVersion(compactVersion))
                .addSuccess(put(key))
                .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .build();
        Response r = client.call(Request.newBuilder().setTxn(txn).build());
        if (r == null) {
            return;
        }
        TxnResponse t = r.getTxn();
        long previous = compactRevision;
        compactRevision = t.getHeader().getRevision();
        if (!t.getSucceeded()) {
            var kvs = t.getResponses(0).getResponseRange().getKvsList();
            compactVersion = kvs.isEmpty() ? 0 : kvs.get(0).getVersion();
            return;
        }
        compactVersion++;
        long revision = previous > 0 ? compactions.next(previous) : 0;
        if (revision > 0) {
            Response c = client.call(Request.newBuilder()
                    .setCompaction(CompactionRequest.newBuilder().setRevision(revision)).build());
            if (c != null) {
                compactions.compacted(revision);
            }
        }
    }

    /**
     * Txn: if mod_revision(key) == modRevision then {@code write} else get key. Afterwards this
     * client knows the object's mod revision (the txn's revision, 0 after a delete, or what the
     * failure branch read); after an error it knows nothing of it.
     */
    private void guarded(ByteString key, long modRevision, RequestOp write) {
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.MOD)
                        .setResult(Compare.CompareResult.EQUAL).setModRevision(modRevision))
                .addSuccess(write)
                .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .build();
        Response r = client.call(Request.newBuilder().setTxn(txn).build());
        if (r == null) {
            modRevisions.remove(key);
            return;
        }
        TxnResponse t = r.getTxn();
        if (t.getSucceeded()) {
            modRevisions.put(key, write.hasRequestPut() ? t.getHeader().getRevision() : 0L);
        } else {
            ResponseOp read = t.getResponses(0);
            modRevisions.put(key, read.getResponseRange().getKvsCount() == 0 ? 0L
                    : read.getResponseRange().getKvs(0).getModRevision());
        }
    }

    /** Reads the object; returns its mod revision (0: absent), or null when the read failed. */
    private Long get(ByteString key, boolean serializable) {
        Response r = client.call(Request.newBuilder()
                .setRange(RangeRequest.newBuilder().setKey(key).setSerializable(serializable)).build());
        if (r == null) {
            return null;
        }
        long modRevision = r.getRange().getKvsCount() == 0 ? 0 : r.getRange().getKvs(0).getModRevision();
        if (!serializable) {
            modRevisions.put(key, modRevision);
        }
        return modRevision;
    }

    /** A paged list of one resource, or of one namespace of it, learning every object's revision. */
    private void list() {
        String prefix = prefix(pick(RESOURCES)) + (random.nextBoolean() ? pick(NAMESPACES) + "/" : "");
        ByteString from = Keys.key(prefix);
        PagedList.Snapshot s = PagedList.list(client, from, Keys.prefixEnd(from), 2 + random.nextInt(4));
        if (s != null) {
            s.kvs().forEach(kv -> modRevisions.put(kv.getKey(), kv.getModRevision()));
        }
    }
}
