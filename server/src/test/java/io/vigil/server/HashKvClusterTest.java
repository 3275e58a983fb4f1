package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.put;
import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.HashKVResponse;
import io.vigil.proto.etcdserverpb.HashRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HashKV as the corruption check and {@code etcdctl endpoint hashkv} use it, on three real member
 * processes: after writes through every member (puts, overwrites, deletes, a txn, a lease, a
 * compaction) each member answers the same hash at every revision it holds, also after one of them
 * was killed and replayed its WAL; and etcdctl's {@code endpoint hashkv --cluster} lists them all
 * with one hash.
 */
class HashKvClusterTest {
    private static final Pattern HASH = Pattern.compile("\"hash\":(\\d+)");

    @TempDir
    Path dir;

    private final List<io.grpc.ManagedChannel> channels = new ArrayList<>();

    @Test
    void everyMemberHasTheSameHashAtEveryRevision() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3); ClusterClients clients = new ClusterClients()) {
            ClusterClients.awaitLeader(c);
            List<MaintenanceGrpc.MaintenanceBlockingStub> maintenance = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                channels.add(clients.channel(c.endpoint(i)));
                maintenance.add(MaintenanceGrpc.newBlockingStub(channels.get(i)));
            }
            long lease = LeaseGrpc.newBlockingStub(clients.channel(c.endpoint(1))).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                    .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build()).getID();
            for (int i = 0; i < 30; i++) {
                kv(i % 3).put(put("k" + (i % 7), "v" + i));
            }
            kv(1).put(put("leased", "x").toBuilder().setLease(lease).build());
            kv(2).deleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("k3")).build());
            kv(0).txn(TxnRequest.newBuilder()
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("t1", "a")))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("t2", "b"))).build());
            long compactAt = kv(0).put(put("k0", "before compaction")).getHeader().getRevision();
            kv(1).compact(CompactionRequest.newBuilder().setRevision(compactAt).build());
            kv(2).deleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("k1")).build());
            for (int i = 0; i < 5; i++) {
                kv(i % 3).put(put("after" + i, "v"));
            }
            long head = kv(0).put(put("last", "v")).getHeader().getRevision();

            awaitAllAt(maintenance, head);
            assertSameHashes(maintenance, compactAt, head);
            HashKVResponse atHead = maintenance.get(0).hashKV(HashKVRequest.newBuilder().build());
            assertEquals(head, atHead.getHeader().getRevision());
            assertEquals(compactAt, atHead.getCompactRevision());
            for (int i = 0; i < 3; i++) {
                assertEquals(maintenance.get(0).hash(HashRequest.getDefaultInstance()).getHash(),
                        maintenance.get(i).hash(HashRequest.getDefaultInstance()).getHash(), "Hash of member " + i);
            }

            // a member killed with records not yet in LMDB replays its WAL and agrees again
            c.kill(2);
            c.startMember(2);
            // when member 2 led, the others still follow it until their election timeout: a put
            // forwarded to it now reaches a member that has no leader and drops it, and the
            // client gets "request timed out" (etcd's raft drops it too); write once they agree
            ClusterClients.awaitLeader(c);
            long later = kv(0).put(put("after-restart", "v")).getHeader().getRevision();
            awaitAllAt(maintenance, later);
            assertSameHashes(maintenance, compactAt, later);

            Etcdctl.Result table = Etcdctl.run(c.endpoint(0), null, "endpoint", "hashkv", "--cluster", "-w", "json");
            assertEquals(0, table.exitCode(), table.stderr());
            Set<String> hashes = new HashSet<>();
            Matcher m = HASH.matcher(table.stdout());
            int members = 0;
            while (m.find()) {
                hashes.add(m.group(1));
                members++;
            }
            assertEquals(3, members, table.stdout());
            assertEquals(Set.of(Integer.toUnsignedString(maintenance.get(0).hashKV(
                    HashKVRequest.newBuilder().setRevision(later).build()).getHash())), hashes, table.stdout());
        }
    }

    /** Member i's KV, with a fresh deadline. */
    private KVGrpc.KVBlockingStub kv(int i) {
        return KVGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    /** Every member at {@code revision} or past it. */
    private static void awaitAllAt(List<MaintenanceGrpc.MaintenanceBlockingStub> members, long revision) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> members.stream()
                .allMatch(m -> m.hashKV(HashKVRequest.newBuilder().build()).getHeader().getRevision() >= revision));
    }

    private static void assertSameHashes(List<MaintenanceGrpc.MaintenanceBlockingStub> members, long compactAt, long head) {
        Set<Integer> distinct = new HashSet<>();
        for (long rev = compactAt + 1; rev <= head; rev++) {
            HashKVResponse first = members.get(0).hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
            distinct.add(first.getHash());
            assertEquals(compactAt, first.getCompactRevision());
            for (int i = 1; i < members.size(); i++) {
                HashKVResponse other = members.get(i).hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
                assertEquals(first.getHash(), other.getHash(), "member " + i + " at revision " + rev);
                assertEquals(first.getCompactRevision(), other.getCompactRevision());
            }
        }
        assertEquals(head - compactAt, distinct.size(), "each revision changes the hash");
        assertTrue(distinct.stream().noneMatch(h -> h == 0));
    }
}
