package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The robustness harness's faults on real server processes, each doing what a checker must catch:
 * a stale linearizable read on an isolated follower, an acknowledged put lost to a kill -9, a
 * watch with a gap. The same situations with no fault keep every guarantee: see
 * {@link PartitionTest} (an isolated follower fails a linearizable read, no acknowledged write is
 * lost, watches are gap-free) and {@link TestFaultsTest} (each fault off changes nothing).
 */
class TestFaultsClusterTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** One channel per endpoint, however often a test polls it. */
    private final Map<String, ManagedChannel> channels = new HashMap<>();

    @AfterEach
    void closeChannels() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    private ManagedChannel channel(String endpoint) {
        return channels.computeIfAbsent(endpoint, e -> NettyChannelBuilder.forTarget(e).usePlaintext().build());
    }

    private KVGrpc.KVBlockingStub kv(String endpoint) {
        return KVGrpc.newBlockingStub(channel(endpoint));
    }

    private KVGrpc.KVBlockingStub kv(VigilCluster c, int i) {
        return kv(c.endpoint(i));
    }

    private static long put(KVGrpc.KVBlockingStub kv, String key, String value) {
        return kv.withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                .put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build())
                .getHeader().getRevision();
    }

    private static RangeResponse get(KVGrpc.KVBlockingStub kv, String key, boolean serializable) {
        return kv.withDeadlineAfter(5, TimeUnit.SECONDS)
                .range(RangeRequest.newBuilder().setKey(bytes(key)).setSerializable(serializable).build());
    }

    private static String value(RangeResponse r) {
        return r.getCount() == 0 ? null : r.getKvs(0).getValue().toStringUtf8();
    }

    /** The member every member names as leader, once they agree; -1 until then. */
    private int leader(VigilCluster c) {
        long leader = 0;
        int at = -1;
        for (int i = 0; i < c.size(); i++) {
            StatusResponse s;
            try {
                s = MaintenanceGrpc.newBlockingStub(channel(c.endpoint(i))).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .status(StatusRequest.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                return -1;
            }
            if (s.getLeader() == 0 || (leader != 0 && s.getLeader() != leader)) {
                return -1;
            }
            leader = s.getLeader();
            if (s.getHeader().getMemberId() == leader) {
                at = i;
            }
        }
        return at;
    }

    private int awaitLeader(VigilCluster c) {
        int[] leader = {-1};
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).until(() -> (leader[0] = leader(c)) >= 0);
        return leader[0];
    }

    private static void assertWarned(VigilProcess member, String fault) {
        assertTrue(member.output().stream().anyMatch(l -> l.contains("test fault " + fault
                + " is on: this member breaks its guarantees on purpose")), member.output().toString());
    }

    /** Done with the cluster: no need to wait for a graceful stop (a leader's hand-over, an isolated member's). */
    private static void killAll(VigilCluster c) throws InterruptedException {
        for (int i = 0; i < c.size(); i++) {
            c.kill(i);
        }
    }

    @Test
    void staleLinearizableReadAnswersOnAnIsolatedFollower() throws Exception {
        PeerNetwork.assumeSupported();
        try (VigilCluster c = VigilCluster.startPartitionable(dir, 3, "--experimental-test-fault=stale-linearizable-read")) {
            int leader = awaitLeader(c);
            int isolated = (leader + 1) % 3;
            assertWarned(c.member(isolated), "stale-linearizable-read");
            put(kv(c, leader), "x", "before");
            KVGrpc.KVBlockingStub onIsolated = kv(c, isolated);
            await().atMost(PATIENCE).until(() -> "before".equals(value(get(onIsolated, "x", true))));

            c.network().isolate(isolated);
            long written = put(kv(c, leader), "x", "after");
            // without the fault this read fails for want of a leader (PartitionTest); with it the
            // isolated follower answers from what it had
            RangeResponse stale = get(onIsolated, "x", false);
            assertEquals("before", value(stale));
            assertTrue(stale.getHeader().getRevision() < written,
                    "answered at revision " + stale.getHeader().getRevision() + ", before the write at " + written);
            assertEquals("after", value(get(kv(c, leader), "x", false)), "the leader's linearizable reads stay sound");
            killAll(c);
        }
    }

    @Test
    void ackBeforeSyncLosesAnAcknowledgedPutToAKill() throws Exception {
        PeerNetwork.assumeSupported();
        try (VigilCluster c = VigilCluster.startPartitionable(dir, 3, "--experimental-test-fault=ack-before-sync")) {
            int leader = awaitLeader(c);
            int victim = (leader + 1) % 3;
            assertWarned(c.member(victim), "ack-before-sync");
            long first = put(kv(c, leader), "k/0", "v");
            KVGrpc.KVBlockingStub onVictim = kv(c, victim);
            await().atMost(PATIENCE).until(() -> "v".equals(value(get(onVictim, "k/0", true))));

            // cut, not blackholed: nothing the victim sends now may reach the others later
            PeerNetwork net = c.network();
            for (int j = 0; j < 3; j++) {
                if (j != victim) {
                    net.link(victim, j).cut();
                    net.link(j, victim).cut();
                }
            }
            long acknowledged = put(onVictim, "k/1", "lost");
            assertEquals(first + 1, acknowledged, "acknowledged at once, at the revision it would have had");
            // a follower forwards its proposals and never logs them itself: after the kill the
            // put is in no member's memory or WAL
            c.kill(victim);

            put(kv(c, leader), "k/2", "v");
            for (int i : new int[] {leader, (leader + 2) % 3}) {
                KVGrpc.KVBlockingStub member = kv(c, i);
                await().atMost(PATIENCE).until(() -> value(get(member, "k/2", true)) != null);
                assertEquals(acknowledged, get(member, "k/2", true).getKvs(0).getModRevision(),
                        "another write holds the revision the lost put was acknowledged at");
                assertNull(value(get(member, "k/1", true)), "the acknowledged put is on no member: "
                        + VigilCluster.name(i));
            }
            killAll(c);
        }
    }

    @Test
    void watchSkipRevisionLeavesAGapInALiveWatch() throws Exception {
        try (VigilProcess member = VigilProcess.start(dir.resolve("m"), "--experimental-test-fault=watch-skip-revision")) {
            assertWarned(member, "watch-skip-revision");
            KVGrpc.KVBlockingStub kv = kv(member.endpoint());
            CollectingObserver<WatchResponse> live = watch(member.endpoint(), 0);
            List<Long> written = new ArrayList<>();
            for (int n = 0; n < 60; n++) {
                written.add(put(kv, "w/" + n, "v"));
            }
            assertEquals(LongStream.rangeClosed(2, 61).boxed().toList(), written);
            List<Long> expected = new ArrayList<>(written);
            expected.remove(Long.valueOf(50));
            assertEquals(expected, revisions(live, 61), "the live watch misses revision 50");
            // catch-up reads the log, which has every revision: only live watchers see the gap
            assertEquals(written, revisions(watch(member.endpoint(), 1), 61));
        }
    }

    /** A watch of w/ from {@code start} (0: from now on), once created. */
    private CollectingObserver<WatchResponse> watch(String endpoint, long start) throws InterruptedException {
        CollectingObserver<WatchResponse> events = new CollectingObserver<>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel(endpoint)).watch(events);
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(bytes("w/")).setRangeEnd(bytes("w0")).setStartRevision(start)).build());
        Object created = events.received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertTrue(created instanceof WatchResponse r && r.getCreated(), "created: " + created);
        return events;
    }

    /** The mod revisions of the events a watch delivers, until one at {@code last}. */
    private static List<Long> revisions(CollectingObserver<WatchResponse> watch, long last) throws InterruptedException {
        List<Long> out = new ArrayList<>();
        while (out.isEmpty() || out.get(out.size() - 1) < last) {
            Object o = watch.received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertTrue(o instanceof WatchResponse, "watch ended or stalled after " + out + ": " + o);
            for (Event e : ((WatchResponse) o).getEventsList()) {
                out.add(e.getKv().getModRevision());
            }
        }
        return out;
    }
}
