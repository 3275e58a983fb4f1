package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.proto.etcdserverpb.LeaseCheckpoint;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's checkpoint rounds against a real store on a fake clock, run by hand: batches of at
 * most 1000 leases, applied in proposal order they record the remaining TTLs, a keep-alive's
 * clear goes out first in the next round, and one that could not be proposed is proposed again.
 */
class LeaseCheckpointLoopTest {
    @TempDir
    Path dir;

    private final long[] now = {0};
    private RevLog revLog;
    private long index;
    private boolean leader = true;
    /** A log the test drives: proposals wait until it applies or fails them. */
    private final HeldProposals proposer = new HeldProposals();

    @BeforeEach
    void open() {
        revLog = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false)
                .clock(() -> now[0]));
    }

    @AfterEach
    void close() {
        revLog.close();
    }

    private LeaseExpiry grantAndLead(int leases, long ttl) {
        List<LogEntry> grants = new ArrayList<>();
        for (int i = 1; i <= leases; i++) {
            grants.add(new LogEntry(++index, InternalRequest.newBuilder()
                    .setLeaseGrant(LeaseGrantRequest.newBuilder().setID(i).setTTL(ttl)).build()));
        }
        revLog.apply(grants);
        LeaseExpiry loop = new LeaseExpiry(revLog.lessor(), proposer, () -> leader,
                LeaseExpiry.REVOKES_PER_SECOND_DEFAULT, Duration.ofSeconds(1));
        revLog.lessor().promote(Duration.ofSeconds(1));
        return loop;
    }

    @Test
    void aRoundProposesBatchesOfAThousandThatRecordTheRemainingTtls() {
        LeaseExpiry loop = grantAndLead(2500, 60);
        assertEquals(0, loop.checkpoint(), "nothing due before an interval");
        now[0] += TimeUnit.MILLISECONDS.toNanos(3500);
        assertEquals(3, loop.checkpoint());
        assertEquals(List.of(1000, 1000, 500), proposer.requests().stream()
                .map(r -> r.getLeaseCheckpoint().getCheckpointsCount()).toList());
        proposer.applyTo(revLog, () -> ++index);
        for (long id = 1; id <= 2500; id++) {
            assertEquals(58, revLog.lessor().recordedRemainingTtl(id), "60 s + 1 s extension - 3.5 s, rounded up");
        }
        assertEquals(0, loop.checkpoint(), "each lease once per interval");
        leader = false;
        now[0] += TimeUnit.SECONDS.toNanos(5);
        assertEquals(0, loop.checkpoint(), "only the leader checkpoints");
    }

    @Test
    void aKeepAlivesClearGoesFirstAndIsProposedAgainWhenItFails() {
        LeaseExpiry loop = grantAndLead(2, 60);
        now[0] += TimeUnit.SECONDS.toNanos(10);
        assertEquals(1, loop.checkpoint());
        proposer.applyTo(revLog, () -> ++index);
        assertEquals(51, revLog.lessor().recordedRemainingTtl(1));
        assertEquals(60, revLog.lessor().renew(1));
        now[0] += TimeUnit.SECONDS.toNanos(1);
        assertEquals(1, loop.checkpoint());
        List<LeaseCheckpoint> first = proposer.requests().get(0).getLeaseCheckpoint().getCheckpointsList();
        assertEquals(LeaseCheckpoint.newBuilder().setID(1).setRemainingTTL(0).build(), first.get(0));
        assertEquals(3, first.size(), "then the due checkpoints of both leases");
        proposer.fail();
        assertEquals(51, revLog.lessor().recordedRemainingTtl(1));
        assertEquals(1, loop.checkpoint(), "the clear again");
        assertEquals(List.of(LeaseCheckpoint.newBuilder().setID(1).setRemainingTTL(0).build()),
                proposer.requests().get(0).getLeaseCheckpoint().getCheckpointsList());
        proposer.applyTo(revLog, () -> ++index);
        assertEquals(0, revLog.lessor().recordedRemainingTtl(1));
        assertEquals(51, revLog.lessor().recordedRemainingTtl(2), "the failed round's 50 is lost; the older, larger value stands");
    }
}
