package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static io.vigil.server.ClusterClients.describe;
import static io.vigil.server.ClusterClients.events;
import static io.vigil.server.ClusterClients.prefix;
import static io.vigil.server.ClusterClients.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real three-member clusters of server processes on loopback, driven by etcdctl and raw gRPC
 * clients: every member serves the same writes, reads and watches; a killed leader loses no
 * acknowledged write and stops no watch on the other members; a restarted member catches up.
 */
class ClusterTest {

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

    @Test
    void everyMemberServesTheSameWritesReadsAndWatches() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            awaitLeader(c);
            List<CollectingObserver<WatchResponse>> watches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                watches.add(clients.watch(c.endpoint(i), "k"));
            }
            for (int n = 0; n < 30; n++) {
                KVGrpc.newBlockingStub(clients.channel(c.endpoint(n % 3))).put(put("k" + n, "v" + n));
            }
            // linearizable by default: a write acknowledged by one member is read on any other at once
            for (int n = 0; n < 6; n++) {
                int writer = n % 3;
                int reader = (n + 1) % 3;
                assertEquals(0, Etcdctl.run(c.endpoint(writer), null, "put", "lin", "v" + n).exitCode());
                Etcdctl.Result got = Etcdctl.run(c.endpoint(reader), null, "get", "lin", "--print-value-only");
                assertEquals("v" + n, got.stdout().trim(), "read on m" + (reader + 1) + " after a write on m" + (writer + 1));
            }
            for (int i = 0; i < 3; i++) {
                RangeResponse all = KVGrpc.newBlockingStub(clients.channel(c.endpoint(i))).range(prefix("k", false));
                assertEquals(30, all.getCount(), "member " + i);
            }
            List<Event> first = events(watches.get(0), 30);
            for (int i = 1; i < 3; i++) {
                assertEquals(describe(first), describe(events(watches.get(i), 30)),
                        "the same events with the same revisions in the same order on every member");
            }
            long previous = 0;
            for (Event e : first) {
                assertTrue(e.getKv().getModRevision() > previous, "revisions increase: " + describe(first));
                previous = e.getKv().getModRevision();
            }
            // a serializable read on a follower is local: it sees what that member applied
            Etcdctl.Result s = Etcdctl.run(c.endpoint(1), null, "get", "k0", "--consistency=s", "--print-value-only");
            assertEquals("v0", s.stdout().trim());
        }
    }

    @Test
    void killingTheLeaderUnderWritesLosesNoAcknowledgedWriteAndWatchesGoOn() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            int writerAt = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            CollectingObserver<WatchResponse> watchA = clients.watch(c.endpoint(writerAt), "w");
            CollectingObserver<WatchResponse> watchB = clients.watch(c.endpoint(other), "w");
            Map<String, Long> acknowledged = new LinkedHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(writerAt)));
            Thread writer = new Thread(() -> {
                for (int n = 0; !stop.get(); n++) {
                    try {
                        long rev = kv.withDeadlineAfter(10, TimeUnit.SECONDS).put(put("w" + n, "v" + n))
                                .getHeader().getRevision();
                        synchronized (acknowledged) {
                            acknowledged.put("w" + n, rev);
                        }
                    } catch (StatusRuntimeException unknownOutcome) {
                        // may or may not have been applied; not counted as acknowledged
                    }
                }
            }, "cluster-test-writer");
            writer.start();
            try {
                await().atMost(PATIENCE).until(() -> size(acknowledged) >= 100);
                c.kill(leader);
                int before = size(acknowledged);
                await().atMost(PATIENCE).until(() -> size(acknowledged) >= before + 100);
            } finally {
                stop.set(true);
                writer.join();
            }
            int newLeader = awaitLeader(c);
            assertNotEquals(leader, newLeader);
            long previous = 0;
            for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
                assertTrue(e.getValue() > previous, "acknowledged revisions increase: " + e);
                previous = e.getValue();
            }
            for (int i : new int[] {writerAt, other}) {
                KVGrpc.KVBlockingStub reader = KVGrpc.newBlockingStub(clients.channel(c.endpoint(i)));
                Map<String, Long> stored = new LinkedHashMap<>();
                reader.range(prefix("w", false)).getKvsList().forEach(kvp ->
                        stored.put(kvp.getKey().toStringUtf8(), kvp.getModRevision()));
                for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
                    assertEquals(e.getValue(), stored.get(e.getKey()), "acknowledged write " + e + " on member " + i);
                }
            }
            int count = (int) KVGrpc.newBlockingStub(clients.channel(c.endpoint(writerAt))).range(prefix("w", false)).getCount();
            List<Event> a = events(watchA, count);
            List<Event> b = events(watchB, count);
            assertEquals(describe(a), describe(b), "both surviving members stream the same events");
            // the killed member comes back, catches up from the log, and serves the same data
            c.startMember(leader);
            KVGrpc.KVBlockingStub back = KVGrpc.newBlockingStub(clients.channel(c.endpoint(leader)));
            await().atMost(PATIENCE).until(() -> back.range(prefix("w", true)).getCount() == count);
            Map<String, Long> stored = new LinkedHashMap<>();
            back.range(prefix("w", true)).getKvsList().forEach(kvp ->
                    stored.put(kvp.getKey().toStringUtf8(), kvp.getModRevision()));
            acknowledged.forEach((k, rev) -> assertEquals(rev, stored.get(k), "restarted member: " + k));
        }
    }

    private static int size(Map<?, ?> m) {
        synchronized (m) {
            return m.size();
        }
    }

    private static final Pattern MEMBER_JSON = Pattern.compile(
            "\\{\"ID\":(\\d+),\"name\":\"([^\"]*)\",\"peerURLs\":\\[\"([^\"]+)\"\\],\"clientURLs\":\\[\"([^\"]+)\"\\]");

    @Test
    void memberListEndpointStatusAndMoveLeaderAnswerAsEtcd() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            // client URLs are published through the log once a member sees a leader, as in etcd
            Etcdctl.Result[] listed = new Etcdctl.Result[1];
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).until(() -> MEMBER_JSON.matcher(
                    (listed[0] = Etcdctl.run(c.endpoint((leader + 1) % 3), null, "member", "list", "-w", "json"))
                            .stdout()).results().count() == 3);
            Etcdctl.Result list = listed[0];
            assertEquals(0, list.exitCode(), list.stderr());
            Matcher m = MEMBER_JSON.matcher(list.stdout());
            int found = 0;
            while (m.find()) {
                found++;
                int i = Integer.parseInt(m.group(2).substring(1)) - 1;
                assertEquals(c.peerUrl(i), m.group(3));
                assertEquals("http://" + c.endpoint(i), m.group(4));
                assertEquals(Members.memberId(List.of(URI.create(c.peerUrl(i))), ServerConfig.INITIAL_CLUSTER_TOKEN_DEFAULT),
                        Long.parseUnsignedLong(m.group(1)), "etcd's member id for " + m.group(2));
            }
            assertEquals(3, found, list.stdout());
            Etcdctl.Result status = Etcdctl.run(c.endpoints(), null, "endpoint", "status", "-w", "table");
            assertEquals(0, status.exitCode(), status.stderr());
            assertEquals(1, status.stdout().lines().filter(l -> l.contains("|      true |      false |")).count(),
                    "exactly one leader, no learner:\n" + status.stdout());
            Etcdctl.Result health = Etcdctl.run(c.endpoints(), null, "endpoint", "health");
            assertEquals(3, health.stderr().lines().filter(l -> l.contains("is healthy")).count()
                    + health.stdout().lines().filter(l -> l.contains("is healthy")).count(), health.stdout() + health.stderr());
            // move-leader: only the leader can hand leadership over, and the target takes it
            int target = (leader + 2) % 3;
            long targetId = Members.memberId(List.of(URI.create(c.peerUrl(target))), ServerConfig.INITIAL_CLUSTER_TOKEN_DEFAULT);
            Etcdctl.Result notLeader = Etcdctl.run(c.endpoint(target), null, "move-leader", Long.toHexString(targetId));
            assertTrue(notLeader.exitCode() != 0, "move-leader on a follower: " + notLeader.stdout());
            Etcdctl.Result moved = Etcdctl.run(c.endpoints(), null, "move-leader", Long.toHexString(targetId));
            assertEquals(0, moved.exitCode(), moved.stdout() + moved.stderr());
            assertTrue(moved.stdout().contains("Leadership transferred"), moved.stdout());
            assertEquals(target, awaitLeader(c));
        }
    }

    @Test
    void leasesWorkThroughAFollower() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            String follower = c.endpoint((leader + 1) % 3);
            Etcdctl.Result grant = Etcdctl.run(follower, null, "lease", "grant", "30");
            assertEquals(0, grant.exitCode(), grant.stderr());
            String id = grant.stdout().split(" ")[1];
            assertEquals(0, Etcdctl.run(follower, null, "put", "svc", "up", "--lease", id).exitCode());
            Etcdctl.Result keepAlive = Etcdctl.run(follower, null, "lease", "keep-alive", "--once", id);
            assertTrue(keepAlive.stdout().contains("keepalived with TTL(30)"), keepAlive.stdout() + keepAlive.stderr());
            Etcdctl.Result ttl = Etcdctl.run(follower, null, "lease", "timetolive", id, "--keys");
            assertTrue(ttl.stdout().contains("granted with TTL(30s)") && ttl.stdout().contains("attached keys([svc])"),
                    ttl.stdout() + ttl.stderr());
            assertEquals(0, Etcdctl.run(follower, null, "lease", "revoke", id).exitCode());
            for (int i = 0; i < 3; i++) {
                assertEquals("", Etcdctl.run(c.endpoint(i), null, "get", "svc").stdout().trim(), "revoked on member " + i);
            }
            // only the leader expires leases, and it does so for a lease granted through a follower
            Etcdctl.Result shortGrant = Etcdctl.run(follower, null, "lease", "grant", "2");
            String shortId = shortGrant.stdout().split(" ")[1];
            assertEquals(0, Etcdctl.run(follower, null, "put", "eph", "x", "--lease", shortId).exitCode());
            await().atMost(PATIENCE).until(() -> Etcdctl.run(c.endpoint(leader), null, "get", "eph").stdout().isBlank());
        }
    }

    /**
     * Rolling restarts lose no watcher: a stopping member ends its streams with UNAVAILABLE, which
     * etcdctl (Go's clientv3) and jetcd retry, resuming on another member from the last revision
     * they saw.
     */
    @Test
    void etcdctlWatchCarriesOnThroughARollingRestart() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            awaitLeader(c);
            ProcessBuilder pb = new ProcessBuilder("etcdctl", "--endpoints", c.endpoints(), "watch", "--prefix", "r")
                    .redirectErrorStream(true);
            pb.environment().put("ETCDCTL_API", "3");
            Process watch = pb.start();
            StringBuffer printed = new StringBuffer();
            Thread reader = new Thread(() -> {
                try (var in = watch.getInputStream()) {
                    byte[] buf = new byte[4096];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        printed.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                } catch (java.io.IOException ignored) {
                    // the process ended
                }
            }, "etcdctl-watch-output");
            reader.start();
            // jetcd, over the same endpoints, from the first revision
            List<String> jetcdSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Throwable> jetcdErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
            StringBuilder urls = new StringBuilder();
            for (String ep : c.endpoints().split(",")) {
                urls.append(urls.length() == 0 ? "" : ",").append("http://").append(ep);
            }
            io.etcd.jetcd.Client jetcd = io.etcd.jetcd.Client.builder().endpoints(urls.toString().split(",")).build();
            io.etcd.jetcd.Watch.Watcher jetcdWatch = jetcd.getWatchClient().watch(
                    io.etcd.jetcd.ByteSequence.from("r", java.nio.charset.StandardCharsets.UTF_8),
                    io.etcd.jetcd.options.WatchOption.builder().isPrefix(true).withRevision(1).build(),
                    io.etcd.jetcd.Watch.listener(r -> r.getEvents().forEach(e ->
                            jetcdSeen.add(e.getKeyValue().getKey().toString(java.nio.charset.StandardCharsets.UTF_8))),
                            jetcdErrors::add));
            try {
                List<String> keys = new ArrayList<>();
                assertEquals(0, Etcdctl.run(c.endpoints(), null, "put", "r-start", "x").exitCode());
                keys.add("r-start");
                await().atMost(PATIENCE).untilAsserted(() -> assertTrue(printed.toString().contains("r-start"), printed::toString));
                for (int i = 0; i < 3; i++) {
                    c.stop(i);
                    Etcdctl.Result down = Etcdctl.run(c.endpoints(), null, "put", "r" + i + "-down", "x");
                    assertEquals(0, down.exitCode(), down.stderr());
                    keys.add("r" + i + "-down");
                    c.startMember(i);
                    awaitLeader(c);
                    assertEquals(0, Etcdctl.run(c.endpoints(), null, "put", "r" + i + "-up", "x").exitCode());
                    keys.add("r" + i + "-up");
                }
                await().atMost(PATIENCE).untilAsserted(() -> assertTrue(printed.toString().contains("r2-up"),
                        () -> "etcdctl watch printed:\n" + printed + "\nmember logs:\n" + c.logs()));
                assertTrue(watch.isAlive(), "etcdctl watch ended: " + printed);
                List<String> seen = printed.toString().lines().filter(l -> l.startsWith("r")).toList();
                assertEquals(keys, seen, "every put once, in order:\n" + printed);
                await().atMost(PATIENCE).untilAsserted(() -> assertEquals(keys, jetcdSeen,
                        "jetcd: every put once, in order; errors " + jetcdErrors));
            } finally {
                jetcdWatch.close();
                jetcd.close();
                watch.destroyForcibly();
                watch.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * What Kubernetes relies on: progress on a follower names a revision at least that of every
     * write acknowledged before it was asked; a watch that requires a leader (clientv3's
     * WithRequireLeader: metadata hasleader=true) ends with etcd's "no leader" once its member has
     * none, and a new one is refused there.
     */
    @Test
    void progressOnAFollowerIsLinearizableAndHasleaderWatchesEndWithoutALeader() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            int follower = (leader + 1) % 3;
            io.grpc.Metadata hasLeader = new io.grpc.Metadata();
            hasLeader.put(OpenCalls.HAS_LEADER, "true");
            WatchGrpc.WatchStub onFollower = WatchGrpc.newStub(clients.channel(c.endpoint(follower)))
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(hasLeader));
            CollectingObserver<WatchResponse> watch = new CollectingObserver<>();
            StreamObserver<WatchRequest> requests = onFollower.watch(watch);
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("elsewhere"))).build());
            Object created = watch.received.poll(30, TimeUnit.SECONDS);
            assertTrue(created instanceof WatchResponse r && r.getCreated(), "created: " + created);
            KVGrpc.KVBlockingStub onLeader = KVGrpc.newBlockingStub(clients.channel(c.endpoint(leader)));
            for (int round = 0; round < 20; round++) {
                long acknowledged = onLeader.put(put("p", "v" + round)).getHeader().getRevision();
                requests.onNext(WatchRequest.newBuilder().setProgressRequest(
                        io.vigil.proto.etcdserverpb.WatchProgressRequest.getDefaultInstance()).build());
                Object progress = watch.received.poll(30, TimeUnit.SECONDS);
                assertTrue(progress instanceof WatchResponse, "progress: " + progress);
                long named = ((WatchResponse) progress).getHeader().getRevision();
                assertTrue(named >= acknowledged, "progress on a follower named " + named
                        + " after a write at " + acknowledged + " was acknowledged");
            }
            // the follower loses its leader: the other two members go away
            c.kill(leader);
            c.kill((leader + 2) % 3);
            Object ended = watch.received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertTrue(ended instanceof StatusRuntimeException, "the hasleader watch ended with " + ended);
            io.grpc.Status status = ((StatusRuntimeException) ended).getStatus();
            assertEquals(io.grpc.Status.Code.UNAVAILABLE, status.getCode());
            assertEquals("etcdserver: no leader", status.getDescription());
            CollectingObserver<WatchResponse> refused = new CollectingObserver<>();
            onFollower.watch(refused).onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("k"))).build());
            Object again = refused.received.poll(30, TimeUnit.SECONDS);
            assertTrue(again instanceof StatusRuntimeException s
                    && "etcdserver: no leader".equals(s.getStatus().getDescription()), "a new hasleader watch: " + again);
            // without the metadata a watch is still served by the member that lost its leader
            CollectingObserver<WatchResponse> plain = clients.watch(c.endpoint(follower), "p");
            Object plainCreated = plain.received.poll(30, TimeUnit.SECONDS);
            assertTrue(plainCreated instanceof WatchResponse r && r.getCreated(), "plain watch: " + plainCreated);
        }
    }

    /** Five members survive the loss of two, the leader among them, and the lost come back. */
    @Test
    void fiveMembersLoseTwoAndCarryOn() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 5)) {
            int leader = awaitLeader(c);
            int other = (leader + 1) % 5;
            assertEquals(0, Etcdctl.run(c.endpoints(), null, "put", "five", "before").exitCode());
            c.kill(leader);
            c.kill(other);
            assertNotEquals(leader, awaitLeader(c));
            int alive = (leader + 2) % 5;
            Etcdctl.Result put = Etcdctl.run(c.endpoint(alive), null, "put", "five", "after");
            assertEquals(0, put.exitCode(), put.stderr());
            for (int i = 0; i < 5; i++) {
                if (i != leader && i != other) {
                    assertEquals("after", Etcdctl.run(c.endpoint(i), null, "get", "five", "--print-value-only")
                            .stdout().trim(), "member " + i);
                }
            }
            c.startMember(leader);
            await().atMost(PATIENCE).until(() -> "after".equals(Etcdctl.run(c.endpoint(leader), null, "get", "five",
                    "--print-value-only", "--consistency=s").stdout().trim()));
        }
    }
}
