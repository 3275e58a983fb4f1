package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.LeaseCheckpoint;
import io.vigil.proto.etcdserverpb.LeaseCheckpointRequest;
import io.vigil.proto.etcdserverpb.LeaseCheckpointResponse;
import io.vigil.proto.internal.InternalRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LeaseCheckpoint entry through {@link RevLog#apply}: it records remaining TTLs in the lease
 * table and the lessor without a revision, skips leases that are gone, and what it recorded
 * survives a restart, for the member's next promote.
 */
class LeaseCheckpointApplyTest {
    @TempDir
    Path dir;

    private final LeaseTest.FakeClock clock = new LeaseTest.FakeClock();
    private RevLog log;
    private long index;

    @BeforeEach
    void open() {
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false).clock(clock));
        index = log.appliedIndex();
    }

    @AfterEach
    void close() {
        log.close();
    }

    private void reopen() {
        log.close();
        open();
    }

    private ApplyResult apply(InternalRequest req) {
        List<ApplyResult> r = log.apply(List.of(new LogEntry(++index, req)));
        assertEquals(1, r.size());
        return r.get(0);
    }

    static InternalRequest checkpoint(long... idAndRemaining) {
        LeaseCheckpointRequest.Builder b = LeaseCheckpointRequest.newBuilder();
        for (int i = 0; i < idAndRemaining.length; i += 2) {
            b.addCheckpoints(LeaseCheckpoint.newBuilder().setID(idAndRemaining[i]).setRemainingTTL(idAndRemaining[i + 1]));
        }
        return InternalRequest.newBuilder().setLeaseCheckpoint(b).build();
    }

    @Test
    void aCheckpointRecordsRemainingTtlsWithoutARevisionAndSkipsUnknownLeases() {
        assertNull(apply(LeaseTest.grant(7, 100)).error());
        assertNull(apply(LeaseTest.grant(8, 100)).error());
        long revision = log.currentRevision();
        ApplyResult r = apply(checkpoint(7, 40, 99, 5, 8, -3));
        assertNull(r.error());
        assertEquals(revision, r.revision());
        assertEquals(revision, ((LeaseCheckpointResponse) r.response()).getHeader().getRevision());
        assertEquals(List.of(), r.events());
        assertEquals(40, log.lessor().recordedRemainingTtl(7));
        assertEquals(0, log.lessor().recordedRemainingTtl(8), "a negative value counts as none");
        assertTrue(log.lessor().timeToLive(99, false).isEmpty(), "a checkpoint creates no lease");
        assertEquals(index, log.appliedIndex());
    }

    @Test
    void recordedRemainingTtlsSurviveARestartAndANewLeaderStartsFromThem() {
        apply(LeaseTest.grant(7, 100));
        apply(LeaseTest.grant(8, 100));
        apply(checkpoint(7, 40, 8, 60));
        apply(checkpoint(8, 0));
        reopen();
        assertEquals(40, log.lessor().recordedRemainingTtl(7));
        assertEquals(0, log.lessor().recordedRemainingTtl(8), "the later clear stands");
        assertEquals(100, log.lessor().timeToLive(7, false).orElseThrow().grantedTtl());
        assertEquals(100, log.lessor().timeToLive(7, false).orElseThrow().remainingSeconds(),
                "opening gives the whole TTL; the leader decides");
        log.lessor().enableCheckpoints(Duration.ofSeconds(1), () -> { });
        log.lessor().promote(Duration.ofSeconds(1));
        assertEquals(41, log.lessor().timeToLive(7, false).orElseThrow().remainingSeconds());
        assertEquals(101, log.lessor().timeToLive(8, false).orElseThrow().remainingSeconds());
    }

    @Test
    void aRevokeDropsTheRecordAndAGrantOfTheSameIdStartsWhole() {
        apply(LeaseTest.grant(7, 100));
        apply(checkpoint(7, 40));
        apply(LeaseTest.revoke(7));
        apply(LeaseTest.grant(7, 50));
        assertEquals(0, log.lessor().recordedRemainingTtl(7));
        reopen();
        assertEquals(0, log.lessor().recordedRemainingTtl(7));
        assertEquals(50, log.lessor().timeToLive(7, false).orElseThrow().grantedTtl());
    }

    @Test
    void replayingTheSameEntriesAfterARestartRecordsNothingTwice() {
        apply(LeaseTest.grant(7, 100));
        InternalRequest cp = checkpoint(7, 40);
        apply(cp);
        long at = index;
        apply(checkpoint(7, 0));
        reopen();
        // an entry at or below the applied index is skipped, so an old checkpoint cannot come back
        log.apply(List.of(new LogEntry(at, cp)));
        assertEquals(0, log.lessor().recordedRemainingTtl(7));
    }
}
