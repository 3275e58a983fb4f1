package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static io.vigil.server.ClusterClients.describe;
import static io.vigil.server.ClusterClients.events;
import static io.vigil.server.ClusterClients.prefix;
import static io.vigil.server.ClusterClients.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members the leader's log no longer reaches catch up from a snapshot of the store sent in
 * chunks: a follower that was down while the log moved on, and a member added after it did. The
 * cluster keeps only 150 entries below its store's applied index, so a few hundred writes are
 * enough. A watch resumed on the follower from its last revision misses nothing and never goes
 * back in time (etcd issue 15271's trigger was exactly such a snapshot).
 */
class SnapshotTransferTest {
    private static final String[] SHORT_LOG = {"--snapshot-count", "100", "--experimental-snapshot-catchup-entries", "50"};

    @TempDir
    Path dir;

    private final ClusterClients clients = new ClusterClients();

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled();
    }

    @AfterEach
    void closeChannels() {
        clients.close();
    }

    private long count(String endpoint) {
        return KVGrpc.newBlockingStub(clients.channel(endpoint)).range(prefix("k", true).toBuilder().setCountOnly(true).build()).getCount();
    }

    /** A watch of prefix k from {@code revision} on the member at {@code endpoint}. */
    private CollectingObserver<WatchResponse> watchFrom(String endpoint, long revision) {
        CollectingObserver<WatchResponse> events = new CollectingObserver<>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(clients.channel(endpoint)).watch(events);
        RangeRequest r = prefix("k", false);
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(r.getKey()).setRangeEnd(r.getRangeEnd()).setStartRevision(revision)).build());
        return events;
    }

    @Test
    void membersBeyondTheRetainedLogCatchUpFromASnapshot() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3, SHORT_LOG)) {
            int leader = awaitLeader(c);
            int follower = (leader + 1) % 3;
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(leader)));
            for (int n = 0; n < 20; n++) {
                kv.put(put("k" + n, "before"));
            }
            CollectingObserver<WatchResponse> onFollower = clients.watch(c.endpoint(follower), "k");
            List<Event> seen = new ArrayList<>(events(onFollower, 20));
            CollectingObserver<WatchResponse> onLeader = clients.watch(c.endpoint(leader), "k");

            c.stop(follower);
            for (int n = 20; n < 420; n++) {
                kv.put(put("k" + n, "while it was down"));
            }
            c.startMember(follower);
            await().atMost(PATIENCE).ignoreExceptions().until(() -> count(c.endpoint(follower)) == 420);
            assertTrue(c.member(follower).output().stream().anyMatch(l -> l.contains("installed the snapshot at index")),
                    c.logs());
            // the watch resumed from the revision after the last one it saw: nothing missed, nothing twice
            long next = seen.get(seen.size() - 1).getKv().getModRevision() + 1;
            seen.addAll(events(watchFrom(c.endpoint(follower), next), 400));
            assertEquals(describe(events(onLeader, 420)), describe(seen));
            kv.put(put("k420", "after"));
            await().atMost(PATIENCE).ignoreExceptions().until(() -> count(c.endpoint(follower)) == 421);
            Etcdctl.Result linearizable = Etcdctl.run(c.endpoint(follower), null, "get", "k420", "--print-value-only");
            assertEquals("after", linearizable.stdout().trim(), linearizable.stderr());

            // a member added now starts from a snapshot too: the log from index 2 is long gone
            AddedMember added = AddedMember.add(dir, c.endpoint(leader), "m4", false, SHORT_LOG);
            try (VigilProcess m4 = added.process()) {
                await().atMost(PATIENCE).ignoreExceptions().until(() -> count(m4.endpoint()) == 421);
                assertTrue(m4.output().stream().anyMatch(l -> l.contains("installed the snapshot at index")),
                        String.join("\n", m4.output()));
                List<Event> last = events(onLeader, 1);
                assertEquals(describe(last), describe(events(watchFrom(m4.endpoint(), last.get(0).getKv().getModRevision()), 1)));
                // its own addition may come after the snapshot's index (conf changes do not move the store's)
                await().atMost(PATIENCE).until(() -> Etcdctl.run(m4.endpoint(), null, "member", "list").stdout()
                        .lines().count() == 4);
                kv.put(put("k421", "the newcomer votes"));
                await().atMost(PATIENCE).ignoreExceptions().until(() -> count(m4.endpoint()) == 422);
            }
        }
    }

    /**
     * Regression (found by review): with a small {@code --max-request-bytes} a follower still
     * catches up, first from the log and then from a snapshot. The peer port used to take only
     * the client's request limit (plus gRPC's framing) while Raft sends up to 1 MiB of entries in
     * one append and a snapshot travels in 1 MiB chunks, so the first catch-up message broke the
     * peer stream, every time: the follower never caught up.
     */
    @Test
    void aFollowerCatchesUpUnderASmallRequestLimit() throws Exception {
        String value = "v".repeat(60 << 10);
        try (VigilCluster c = VigilCluster.start(dir, 3, "--max-request-bytes", String.valueOf(64 << 10),
                "--snapshot-count", "100", "--experimental-snapshot-catchup-entries", "50")) {
            int leader = awaitLeader(c);
            int follower = (leader + 1) % 3;
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(leader)));
            c.stop(follower);
            // 40 entries of 60 KiB: within the retained log, more than one 1 MiB append
            for (int n = 0; n < 40; n++) {
                kv.put(put("k" + n, value));
            }
            c.startMember(follower);
            await().atMost(PATIENCE).ignoreExceptions().until(() -> count(c.endpoint(follower)) == 40);
            assertTrue(c.member(follower).output().stream().noneMatch(l -> l.contains("installed the snapshot")),
                    c.logs());

            c.stop(follower);
            // beyond the retained log: a snapshot of several MiB, in chunks
            for (int n = 40; n < 200; n++) {
                kv.put(put("k" + n, value));
            }
            c.startMember(follower);
            await().atMost(PATIENCE).ignoreExceptions().until(() -> count(c.endpoint(follower)) == 200);
            assertTrue(c.member(follower).output().stream().anyMatch(l -> l.contains("installed the snapshot at index")),
                    c.logs());
        }
    }

    /**
     * Members may differ in --max-request-bytes (it is raised one member at a time): an entry one
     * member took under its larger limit reaches the others, whose own limit is smaller, whether
     * it travels as a forwarded proposal or in an append.
     */
    @Test
    void membersWithDifferentRequestLimitsTakeEachOthersEntries() throws Exception {
        String value = "v".repeat(2 << 20);
        try (VigilCluster c = VigilCluster.start(dir, 3, "--max-request-bytes", String.valueOf(64 << 10))) {
            awaitLeader(c);
            c.stop(0);
            c.startMember(0, "--max-request-bytes", String.valueOf(4 << 20));
            KVGrpc.newBlockingStub(clients.channel(c.endpoint(0))).put(put("k-large", value));
            for (int i = 0; i < 3; i++) {
                String endpoint = c.endpoint(i);
                await().atMost(PATIENCE).ignoreExceptions().until(() -> count(endpoint) == 1);
            }
        }
    }

    /**
     * Regression (found by the robustness harness): a member that joins while writes go on takes
     * one snapshot, not one after each restart to install the last. The leader used to probe it
     * from the core's snapshot index, 1000 entries below the store copy it had shipped, and the log
     * keeps sliding under writes, so that index was compacted away by the time the member
     * answered: another snapshot, another restart, as long as writes went on.
     */
    @Test
    void aMemberJoiningUnderWritesTakesOneSnapshot() throws Exception {
        String[] log = {"--snapshot-count", "100", "--experimental-snapshot-catchup-entries", "900"};
        try (VigilCluster c = VigilCluster.start(dir, 3, log)) {
            int leader = awaitLeader(c);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(leader)));
            for (int n = 0; n < 1100; n++) {
                kv.put(put("k" + (n % 50), "before " + n));
            }
            java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                // about 10 writes a second: the joiner's restart would have to last 90 s for the
                // 1000 retained entries to slide past the snapshot it took
                while (writing.get()) {
                    try {
                        kv.put(put("w", "during the join " + written.incrementAndGet()));
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // a write that failed is not needed: the writes only keep the log moving
                    }
                }
            }, "writer");
            writer.start();
            try {
                AddedMember added = AddedMember.add(dir, c.endpoint(leader), "m4", false, log);
                try (VigilProcess m4 = added.process()) {
                    KVGrpc.KVBlockingStub onM4 = KVGrpc.newBlockingStub(clients.channel(m4.endpoint()));
                    await().atMost(PATIENCE).ignoreExceptions().until(() -> onM4.range(prefix("w", false)).getKvsCount() == 1);
                    writing.set(false);
                    writer.join();
                    // written after m4 installed its snapshot: it arrives through the log, or (as
                    // it did) only in another snapshot
                    kv.put(put("w", "final"));
                    await().atMost(PATIENCE).ignoreExceptions().until(() ->
                            onM4.range(prefix("w", false)).getKvs(0).getValue().toStringUtf8().equals("final"));
                    long snapshots = m4.output().stream().filter(l -> l.contains("received a snapshot at index")).count();
                    assertEquals(1, snapshots, String.join("\n", m4.output()));
                }
            } finally {
                writing.set(false);
                writer.join();
            }
        }
    }
}
