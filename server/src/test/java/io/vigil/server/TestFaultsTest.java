package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
        }, leader::get, new ResponseHeaders(1, 2, () -> 3), 1 << 20, 128, faults);
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
}
