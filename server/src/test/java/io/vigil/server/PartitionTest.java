package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real three-member clusters of server processes whose peer links run through fault proxies
 * ({@link PeerNetwork}), partitioned by blackholing every link to and from one member. What must
 * hold: the majority carries on; the isolated member never answers a linearizable read with stale
 * data, still answers serializable ones, and ends hasleader watches with etcd's "no leader"; after
 * the heal it catches up, no acknowledged write is lost anywhere, and a watch opened on any member
 * delivers the same events with the same revisions in the same order, without a gap and without
 * ever going back in time (etcd issue 15271).
 */
class PartitionTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void needsEtcdctlAndLoopbackAddresses() {
        ReferenceEtcd.assumeInstalled();
        PeerNetwork.assumeSupported();
    }

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    private ManagedChannel channel(String endpoint) {
        ManagedChannel c = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        channels.add(c);
        return c;
    }

    /** A write that must be acknowledged: its key and revision. */
    private static long put(KVGrpc.KVBlockingStub kv, String key, String value) {
        return kv.withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS).put(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build())
                .getHeader().getRevision();
    }

    private static RangeRequest prefix(String p, boolean serializable) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(p))
                .setRangeEnd(ByteString.copyFromUtf8(p.substring(0, p.length() - 1) + (char) (p.charAt(p.length() - 1) + 1)))
                .setSerializable(serializable).build();
    }

    private static long memberId(VigilCluster c, int i) {
        return Members.memberId(List.of(URI.create(c.peerUrl(i))), ServerConfig.INITIAL_CLUSTER_TOKEN_DEFAULT);
    }

    private StatusResponse status(VigilCluster c, int i) {
        return MaintenanceGrpc.newBlockingStub(channel(c.endpoint(i))).withDeadlineAfter(5, TimeUnit.SECONDS)
                .status(StatusRequest.getDefaultInstance());
    }

    /**
     * The member that every one of {@code among} names as leader, once they agree and it is one
     * of them; -1 until then.
     */
    private int leaderAmong(VigilCluster c, int... among) {
        long leader = 0;
        for (int i : among) {
            long l;
            try {
                l = status(c, i).getLeader();
            } catch (StatusRuntimeException e) {
                return -1;
            }
            if (l == 0 || (leader != 0 && l != leader)) {
                return -1;
            }
            leader = l;
        }
        for (int i : among) {
            if (memberId(c, i) == leader) {
                return i;
            }
        }
        return -1;
    }

    private int awaitLeaderAmong(VigilCluster c, int... among) {
        int[] leader = {-1};
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).until(() -> (leader[0] = leaderAmong(c, among)) >= 0);
        return leader[0];
    }

    /** A watch of {@code p} from revision 1 on member i, with or without etcd's hasleader metadata. */
    private CollectingObserver<WatchResponse> watch(VigilCluster c, int i, String p, boolean requireLeader) {
        WatchGrpc.WatchStub stub = WatchGrpc.newStub(channel(c.endpoint(i)));
        if (requireLeader) {
            Metadata hasLeader = new Metadata();
            hasLeader.put(OpenCalls.HAS_LEADER, "true");
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(hasLeader));
        }
        CollectingObserver<WatchResponse> events = new CollectingObserver<>();
        StreamObserver<WatchRequest> requests = stub.watch(events);
        RangeRequest r = prefix(p, false);
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(r.getKey()).setRangeEnd(r.getRangeEnd()).setStartRevision(1)).build());
        return events;
    }

    private static void awaitCreated(CollectingObserver<WatchResponse> watch) throws InterruptedException {
        Object created = watch.received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertTrue(created instanceof WatchResponse r && r.getCreated(), "created: " + created);
    }

    /**
     * Takes events from a watch until {@code count} have come. Fails on an error, a cancel, a
     * stall, an event at or below one already delivered, or a response header older than the
     * previous one: a watch never goes back in time.
     */
    private static List<Event> events(CollectingObserver<WatchResponse> watch, int count) throws InterruptedException {
        List<Event> out = new ArrayList<>();
        long lastEvent = 0;
        long lastHeader = 0;
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (out.size() < count) {
            Object o = watch.received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertTrue(o instanceof WatchResponse, "watch ended or stalled after " + describe(out) + ": " + o);
            WatchResponse r = (WatchResponse) o;
            assertFalse(r.getCanceled(), "watch canceled: " + r);
            assertTrue(r.getHeader().getRevision() >= lastHeader, "header revision went back from " + lastHeader + ": " + r);
            lastHeader = r.getHeader().getRevision();
            for (Event e : r.getEventsList()) {
                assertTrue(e.getKv().getModRevision() > lastEvent,
                        "event " + e.getKv().getKey().toStringUtf8() + "@" + e.getKv().getModRevision()
                                + " after " + describe(out));
                lastEvent = e.getKv().getModRevision();
                out.add(e);
            }
        }
        return out;
    }

    private static String describe(List<Event> events) {
        StringBuilder sb = new StringBuilder();
        for (Event e : events) {
            sb.append(e.getKv().getKey().toStringUtf8()).append('@').append(e.getKv().getModRevision()).append(' ');
        }
        return sb.toString();
    }

    /** Every revision from the first event's to the last's is there: one put per revision, no gap. */
    private static void assertGapFree(List<Event> events) {
        for (int n = 1; n < events.size(); n++) {
            assertEquals(events.get(n - 1).getKv().getModRevision() + 1, events.get(n).getKv().getModRevision(),
                    "a gap or a repeat at event " + n + ": " + describe(events));
        }
    }

    /** A hasleader watch ends with etcd's "no leader", as clientv3's WithRequireLeader expects. */
    private static void assertEndsWithNoLeader(CollectingObserver<WatchResponse> watch) throws InterruptedException {
        Object ended;
        do {
            ended = watch.received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } while (ended instanceof WatchResponse r && !r.getCanceled());
        assertTrue(ended instanceof StatusRuntimeException, "the hasleader watch ended with " + ended);
        Status status = ((StatusRuntimeException) ended).getStatus();
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: no leader", status.getDescription());
    }

    @Test
    void anIsolatedFollowerServesNoStaleLinearizableReadAndCatchesUpWithAGapFreeWatch() throws Exception {
        try (VigilCluster c = VigilCluster.startPartitionable(dir, 3)) {
            PeerNetwork net = c.network();
            int leader = awaitLeaderAmong(c, 0, 1, 2);
            int isolated = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            CollectingObserver<WatchResponse> watchIsolated = watch(c, isolated, "a/", false);
            CollectingObserver<WatchResponse> watchOther = watch(c, other, "a/", false);
            CollectingObserver<WatchResponse> hasLeader = watch(c, isolated, "elsewhere/", true);
            awaitCreated(watchIsolated);
            awaitCreated(watchOther);
            awaitCreated(hasLeader);
            KVGrpc.KVBlockingStub onLeader = KVGrpc.newBlockingStub(channel(c.endpoint(leader)));
            KVGrpc.KVBlockingStub onOther = KVGrpc.newBlockingStub(channel(c.endpoint(other)));
            Map<String, Long> acknowledged = new LinkedHashMap<>();
            for (int n = 0; n < 10; n++) {
                acknowledged.put("a/" + n, put(onLeader, "a/" + n, "v" + n));
            }
            acknowledged.put("a/x@before", put(onLeader, "a/x", "before"));
            await().atMost(PATIENCE).until(() -> "before".equals(Etcdctl.run(c.endpoint(isolated), null,
                    "get", "a/x", "--print-value-only", "--consistency=s").stdout().trim()));

            net.isolate(isolated);
            // the majority carries on, through its leader and through its follower
            for (int n = 10; n < 30; n++) {
                acknowledged.put("a/" + n, put(n % 2 == 0 ? onLeader : onOther, "a/" + n, "v" + n));
            }
            acknowledged.put("a/x@after", put(onOther, "a/x", "after"));
            // the isolated member cannot confirm a read: it fails rather than answer "before"
            Etcdctl.Result linearizable = Etcdctl.run(c.endpoint(isolated), null, "get", "a/x",
                    "--command-timeout=3s");
            assertNotEquals(0, linearizable.exitCode(), "a linearizable read on the isolated member answered: "
                    + linearizable.stdout());
            assertFalse(linearizable.stdout().contains("before"), linearizable.stdout());
            // a write there waits for a leader until the request timeout ends it, as etcd's does
            KVGrpc.KVBlockingStub kvIsolated = KVGrpc.newBlockingStub(channel(c.endpoint(isolated)));
            StatusRuntimeException timedOut = assertThrows(StatusRuntimeException.class,
                    () -> put(kvIsolated, "lost/x", "never")); // outside the watched a/
            assertEquals(Status.Code.UNAVAILABLE, timedOut.getStatus().getCode());
            assertEquals("etcdserver: request timed out", timedOut.getStatus().getDescription());
            // a serializable read is local: it answers, with what the member had
            Etcdctl.Result serializable = Etcdctl.run(c.endpoint(isolated), null, "get", "a/x",
                    "--print-value-only", "--consistency=s");
            assertEquals(0, serializable.exitCode(), serializable.stderr());
            assertEquals("before", serializable.stdout().trim());
            assertEndsWithNoLeader(hasLeader);
            assertNotEquals(-1, leaderAmong(c, leader, other), "the majority keeps its leader");

            net.heal();
            await().atMost(PATIENCE).until(() -> "after".equals(Etcdctl.run(c.endpoint(isolated), null,
                    "get", "a/x", "--print-value-only").stdout().trim()));
            List<Event> onIsolated = events(watchIsolated, acknowledged.size());
            List<Event> onMajority = events(watchOther, acknowledged.size());
            assertEquals(describe(onMajority), describe(onIsolated),
                    "the same events with the same revisions in the same order on both members");
            assertGapFree(onIsolated);
            List<Long> revisions = onIsolated.stream().map(e -> e.getKv().getModRevision()).toList();
            assertEquals(List.copyOf(acknowledged.values()), revisions, "every acknowledged write, at its revision");
        }
    }

    @Test
    void anIsolatedLeaderStepsDownLosesNoAcknowledgedWriteAndItsWatchNeverGoesBack() throws Exception {
        try (VigilCluster c = VigilCluster.startPartitionable(dir, 3)) {
            PeerNetwork net = c.network();
            int leader = awaitLeaderAmong(c, 0, 1, 2);
            int m1 = (leader + 1) % 3;
            int m2 = (leader + 2) % 3;
            CollectingObserver<WatchResponse> watchOld = watch(c, leader, "b/", false);
            CollectingObserver<WatchResponse> watchMajority = watch(c, m1, "b/", false);
            CollectingObserver<WatchResponse> hasLeader = watch(c, leader, "elsewhere/", true);
            awaitCreated(watchOld);
            awaitCreated(watchMajority);
            awaitCreated(hasLeader);
            Map<String, Long> acknowledged = new LinkedHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            // one writer on the member that will be cut off, one on the majority; every write a new key
            List<Thread> writers = new ArrayList<>();
            for (int at : new int[] {leader, m2}) {
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel(c.endpoint(at)));
                String p = "b/" + VigilCluster.name(at) + "-";
                Thread w = new Thread(() -> {
                    for (int n = 0; !stop.get(); n++) {
                        try {
                            long rev = kv.withDeadlineAfter(10, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                                    .setKey(ByteString.copyFromUtf8(p + n)).setValue(ByteString.copyFromUtf8("v")).build())
                                    .getHeader().getRevision();
                            synchronized (acknowledged) {
                                acknowledged.put(p + n, rev);
                            }
                        } catch (StatusRuntimeException unknownOutcome) {
                            // may or may not be applied: not acknowledged, so not checked
                        }
                    }
                }, "partition-writer-" + VigilCluster.name(at));
                writers.add(w);
                w.start();
            }
            int newLeader;
            try {
                await().atMost(PATIENCE).until(() -> size(acknowledged) >= 50);
                net.isolate(leader);
                // check-quorum: the old leader, hearing from no majority, steps down by itself
                await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200))
                        .ignoreExceptionsInstanceOf(StatusRuntimeException.class)
                        .until(() -> status(c, leader).getLeader() != memberId(c, leader));
                newLeader = awaitLeaderAmong(c, m1, m2);
                int before = size(acknowledged);
                await().atMost(PATIENCE).until(() -> size(acknowledged) >= before + 50);
                assertEndsWithNoLeader(hasLeader);
                net.heal();
                awaitLeaderAmong(c, 0, 1, 2);
                int healed = size(acknowledged);
                await().atMost(PATIENCE).until(() -> size(acknowledged) >= healed + 20);
            } finally {
                stop.set(true);
                for (Thread w : writers) {
                    w.join();
                }
            }
            assertNotEquals(leader, newLeader);
            Map<String, Long> stored = null;
            for (int i = 0; i < 3; i++) {
                Map<String, Long> onMember = new LinkedHashMap<>();
                KVGrpc.newBlockingStub(channel(c.endpoint(i))).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                        .range(prefix("b/", false)).getKvsList()
                        .forEach(kv -> onMember.put(kv.getKey().toStringUtf8(), kv.getModRevision()));
                for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
                    assertEquals(e.getValue(), onMember.get(e.getKey()),
                            "acknowledged write " + e + " on " + VigilCluster.name(i) + "\n" + c.logs());
                }
                if (stored != null) {
                    assertEquals(stored, onMember, "the same keys at the same revisions on " + VigilCluster.name(i));
                }
                stored = onMember;
            }
            assertNotNull(stored);
            List<Event> onOld = events(watchOld, stored.size());
            List<Event> onMajority = events(watchMajority, stored.size());
            assertEquals(describe(onMajority), describe(onOld),
                    "the old leader's watch and a majority member's: same events, same revisions, same order");
            assertGapFree(onOld);
        }
    }

    /**
     * A one-way partition: the leader's messages no longer reach a follower, while the follower's
     * still reach everyone. The follower loses its leader and keeps asking for votes, but PreVote
     * and CheckQuorum keep those from deposing a leader the majority still hears: the leader and
     * its term stay, the majority carries on, and after the heal the follower catches up.
     */
    @Test
    void aFollowerThatCannotHearTheLeaderDoesNotDeposeIt() throws Exception {
        try (VigilCluster c = VigilCluster.startPartitionable(dir, 3)) {
            PeerNetwork net = c.network();
            int leader = awaitLeaderAmong(c, 0, 1, 2);
            int deaf = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            CollectingObserver<WatchResponse> watchDeaf = watch(c, deaf, "c/", false);
            CollectingObserver<WatchResponse> watchOther = watch(c, other, "c/", false);
            CollectingObserver<WatchResponse> hasLeader = watch(c, deaf, "elsewhere/", true);
            awaitCreated(watchDeaf);
            awaitCreated(watchOther);
            awaitCreated(hasLeader);
            KVGrpc.KVBlockingStub onLeader = KVGrpc.newBlockingStub(channel(c.endpoint(leader)));
            KVGrpc.KVBlockingStub onOther = KVGrpc.newBlockingStub(channel(c.endpoint(other)));
            List<Long> acknowledged = new ArrayList<>();
            for (int n = 0; n < 5; n++) {
                acknowledged.add(put(onLeader, "c/" + n, "v"));
            }
            long term = status(c, leader).getRaftTerm();

            net.link(leader, deaf).block();
            assertEndsWithNoLeader(hasLeader);
            for (int n = 5; n < 25; n++) {
                acknowledged.add(put(n % 2 == 0 ? onLeader : onOther, "c/" + n, "v"));
            }
            Etcdctl.Result linearizable = Etcdctl.run(c.endpoint(deaf), null, "get", "c/24", "--command-timeout=3s");
            assertNotEquals(0, linearizable.exitCode(), "a linearizable read on the member that hears no leader answered: "
                    + linearizable.stdout());
            assertEquals(leader, leaderAmong(c, leader, other), "the majority keeps its leader");
            assertEquals(term, status(c, leader).getRaftTerm(), "the deaf member's campaigns moved no term on");

            net.heal();
            await().atMost(PATIENCE).until(() -> "v".equals(Etcdctl.run(c.endpoint(deaf), null,
                    "get", "c/24", "--print-value-only").stdout().trim()));
            assertEquals(leader, awaitLeaderAmong(c, 0, 1, 2), "the healed member rejoins under the same leader");
            assertEquals(term, status(c, leader).getRaftTerm(), "and in the same term");
            List<Event> onDeaf = events(watchDeaf, acknowledged.size());
            assertEquals(describe(events(watchOther, acknowledged.size())), describe(onDeaf),
                    "the same events with the same revisions in the same order on both members");
            assertGapFree(onDeaf);
            assertEquals(acknowledged, onDeaf.stream().map(e -> e.getKv().getModRevision()).toList());
        }
    }

    private static int size(Map<?, ?> m) {
        synchronized (m) {
            return m.size();
        }
    }
}
