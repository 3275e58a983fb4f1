package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The robustness harness's faults where they live, against a real store and a log the test drives
 * ({@link HeldProposals}): each breaks its guarantee when on, and nothing changes when off.
 * {@link TestFaultsClusterTest} shows them on real processes.
 */
class TestFaultsTest {
    @TempDir
    Path dir;

    private RevLog revLog;
    private long index;
    private final HeldProposals log = new HeldProposals();
    /** The ReadIndex a linearizable read waits for: completed by the test, or never. */
    private CompletableFuture<Void> readIndex = new CompletableFuture<>();
    private final AtomicInteger readIndexAsked = new AtomicInteger();
    private final AtomicBoolean leader = new AtomicBoolean();

    @BeforeEach
    void open() {
        revLog = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false));
    }

    @AfterEach
    void close() {
        revLog.close();
    }

    private KvService kv(TestFaults faults) {
        return new KvService(revLog, log, () -> {
            readIndexAsked.incrementAndGet();
            return readIndex;
        }, leader::get, new ResponseHeaders(1, 2, () -> 3), 128, faults, new Quota(Long.MAX_VALUE, revLog, new AlarmRaiser(log), 2));
    }

    private static PutRequest put(String key, String value) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build();
    }

    /** Applies a put straight to the store, as the apply thread would. */
    private void applied(String key, String value) {
        revLog.apply(List.of(new LogEntry(++index, InternalRequest.newBuilder().setPut(put(key, value)).build())));
    }

    private static RangeRequest linearizable(String key) {
        return RangeRequest.newBuilder().setKey(bytes(key)).build();
    }

    @Test
    void aFollowerWaitsForItsReadIndexUnlessStaleLinearizableReadIsOn() {
        applied("k", "v");
        CollectingObserver<RangeResponse> sound = new CollectingObserver<>();
        kv(TestFaults.NONE).range(linearizable("k"), sound);
        assertEquals(1, readIndexAsked.get());
        assertNull(sound.received.poll(), "no answer before the ReadIndex");

        TestFaults stale = TestFaults.named("stale-linearizable-read");
        CollectingObserver<RangeResponse> broken = new CollectingObserver<>();
        kv(stale).range(linearizable("k"), broken);
        assertEquals(1, readIndexAsked.get(), "the follower asked for no ReadIndex");
        RangeResponse answered = (RangeResponse) broken.received.poll();
        assertEquals("v", answered.getKvs(0).getValue().toStringUtf8(), "answered at once from what it has applied");
        assertEquals(CollectingObserver.COMPLETED, broken.received.poll());

        leader.set(true);
        CollectingObserver<RangeResponse> onLeader = new CollectingObserver<>();
        kv(stale).range(linearizable("k"), onLeader);
        assertEquals(2, readIndexAsked.get(), "the leader still confirms its reads");
        assertNull(onLeader.received.poll());

        readIndex.complete(null);
        assertEquals("v", ((RangeResponse) sound.received.poll()).getKvs(0).getValue().toStringUtf8());
        assertEquals("v", ((RangeResponse) onLeader.received.poll()).getKvs(0).getValue().toStringUtf8());
    }

    @Test
    void aPutIsAnsweredOnlyOnceAppliedUnlessAckBeforeSyncIsOn() {
        applied("k", "v0");
        long head = revLog.currentRevision();
        CollectingObserver<PutResponse> sound = new CollectingObserver<>();
        kv(TestFaults.NONE).put(put("k", "v1"), sound);
        assertEquals(1, log.requests().size());
        assertNull(sound.received.poll(), "no answer before the put is applied");
        log.applyTo(revLog, () -> ++index);
        assertEquals(head + 1, ((PutResponse) sound.received.poll()).getHeader().getRevision());
        head = revLog.currentRevision();

        KvService broken = kv(TestFaults.named("ack-before-sync"));
        List<Long> acknowledged = new ArrayList<>();
        for (int n = 2; n <= 4; n++) {
            CollectingObserver<PutResponse> early = new CollectingObserver<>();
            broken.put(put("k", "v" + n), early);
            acknowledged.add(((PutResponse) early.received.poll()).getHeader().getRevision());
            assertEquals(CollectingObserver.COMPLETED, early.received.poll());
        }
        assertEquals(3, log.requests().size(), "proposed, not applied");
        assertEquals(head, revLog.currentRevision(), "acknowledged before anything was applied");
        assertEquals(List.of(head + 1, head + 2, head + 3), acknowledged,
                "predicted: the revisions they get while they are the only writes");
        log.applyTo(revLog, () -> ++index);
        assertEquals(head + 3, revLog.currentRevision());

        // a put the log loses stays acknowledged: what a kill -9 before the WAL sync looks like
        CollectingObserver<PutResponse> lost = new CollectingObserver<>();
        broken.put(put("lost", "x"), lost);
        long claimed = ((PutResponse) lost.received.poll()).getHeader().getRevision();
        log.fail();
        assertEquals(head + 4, claimed);
        assertEquals(0, revLog.range(linearizable("lost")).getCount(), "acknowledged, and nowhere");
        assertEquals(head + 3, revLog.currentRevision());

        // etcd's checks still refuse a bad put before it is proposed
        CollectingObserver<PutResponse> refused = new CollectingObserver<>();
        broken.put(PutRequest.getDefaultInstance(), refused);
        assertTrue(refused.received.poll() instanceof io.grpc.StatusRuntimeException);
    }

    private static ApplyResult changed(long revision, String key) {
        KeyValue kv = KeyValue.newBuilder().setKey(bytes(key)).setModRevision(revision).build();
        return new ApplyResult(revision, revision, null, null, List.of(Event.newBuilder().setKv(kv).build()));
    }

    @Test
    void watchSkipRevisionDropsTheEventsOfEveryFiftiethRevisionAndNothingWhenOff() {
        Consumer<List<ApplyResult>> hub = results -> { };
        assertSame(hub, TestFaults.NONE.watchFeed(hub), "off: the hub is fed as it always is");
        assertSame(hub, TestFaults.named("stale-linearizable-read").watchFeed(hub));

        List<List<ApplyResult>> fed = new ArrayList<>();
        Consumer<List<ApplyResult>> skipping = TestFaults.named("watch-skip-revision").watchFeed(fed::add);
        skipping.accept(List.of(changed(49, "a"), changed(50, "b"), changed(51, "c")));
        skipping.accept(List.of(changed(100, "d")));
        List<ApplyResult> first = fed.get(0);
        assertEquals(List.of(49L, 50L, 51L), first.stream().map(ApplyResult::revision).toList(),
                "every revision is still handed on, so the hub's published revision moves past it");
        assertEquals(1, first.get(0).events().size());
        assertEquals(List.of(), first.get(1).events(), "revision 50's events are gone");
        assertEquals(1, first.get(2).events().size());
        assertEquals(List.of(), fed.get(1).get(0).events(), "and revision 100's");
    }
}
