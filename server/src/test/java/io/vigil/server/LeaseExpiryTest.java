package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.MonotonicClock;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The expiry loop against a real store on a fake clock, ticked by hand: a mass expiry is proposed
 * in bounded batches, every expired lease is revoked exactly once, and a revoke that could not be
 * proposed is retried, not lost.
 */
class LeaseExpiryTest {
    private static final int LEASES = 10_000;

    @TempDir
    Path dir;

    private final long[] now = {0};
    private RevLog revLog;
    private long index;
    /** A log the test drives: proposals wait until it applies or fails them. */
    private final HeldProposals proposer = new HeldProposals();

    @BeforeEach
    void open() {
        MonotonicClock clock = () -> now[0];
        revLog = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(256L << 20).syncOnCommit(false).clock(clock));
    }

    @AfterEach
    void close() {
        revLog.close();
    }

    @Test
    void tenThousandLeasesExpiringAtOnceAreRevokedInBoundedBatches() {
        List<LogEntry> grants = new ArrayList<>();
        for (int i = 1; i <= LEASES; i++) {
            grants.add(new LogEntry(++index, InternalRequest.newBuilder()
                    .setLeaseGrant(LeaseGrantRequest.newBuilder().setID(i).setTTL(5)).build()));
            grants.add(new LogEntry(++index, InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                    .setKey(CrashRecoveryTest.bytes("k" + i)).setLease(i)).build()));
        }
        revLog.apply(grants);
        long revisionBefore = revLog.currentRevision();
        LeaseExpiry expiry = new LeaseExpiry(revLog.lessor(), proposer, () -> true, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT);
        int bound = LeaseExpiry.REVOKES_PER_SECOND_DEFAULT / 2;

        assertEquals(0, expiry.tick(), "nothing expired yet");
        now[0] += TimeUnit.SECONDS.toNanos(5);

        Set<Long> revoked = new HashSet<>();
        int ticks = 0;
        int deleteEvents = 0;
        while (revLog.lessor().size() > 0) {
            int n = expiry.tick();
            ticks++;
            assertTrue(n <= bound, "tick proposed " + n + " revokes, more than " + bound);
            assertEquals(n, proposer.requests().size());
            assertEquals(0, expiry.tick(), "nothing more while a full batch is in flight");
            for (InternalRequest r : proposer.requests()) {
                assertTrue(revoked.add(r.getLeaseRevoke().getID()), "revoked twice");
            }
            for (ApplyResult r : proposer.applyTo(revLog, () -> ++index)) {
                assertEquals(1, r.events().size());
                assertEquals(Event.EventType.DELETE, r.events().get(0).getType());
                deleteEvents++;
            }
            assertEquals(0, expiry.inFlight());
            assertTrue(ticks <= LEASES / bound, "took too many ticks");
        }
        assertEquals(LEASES / bound, ticks);
        assertEquals(LEASES, revoked.size());
        assertEquals(LEASES, deleteEvents);
        assertEquals(revisionBefore + LEASES, revLog.currentRevision(), "one revision per revoked lease with a key");
    }

    @Test
    void aRevokeThatCouldNotBeProposedIsRetriedLater() {
        revLog.apply(List.of(new LogEntry(++index, InternalRequest.newBuilder()
                .setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(2)).build())));
        LeaseExpiry expiry = new LeaseExpiry(revLog.lessor(), proposer, () -> true, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT);
        now[0] += TimeUnit.SECONDS.toNanos(2);
        assertEquals(1, expiry.tick());
        proposer.fail();
        assertEquals(0, expiry.tick(), "handed back, not offered again at once");
        assertEquals(0, revLog.lessor().renew(7), "still expired: keep-alive refuses it");
        now[0] += TimeUnit.SECONDS.toNanos(3);
        assertEquals(1, expiry.tick());
        proposer.applyTo(revLog, () -> ++index);
        assertEquals(0, revLog.lessor().size());
    }

    @Test
    void aLeaseTheClientRevokedFirstIsDone() {
        revLog.apply(List.of(new LogEntry(++index, InternalRequest.newBuilder()
                .setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(2)).build())));
        LeaseExpiry expiry = new LeaseExpiry(revLog.lessor(), proposer, () -> true, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT);
        now[0] += TimeUnit.SECONDS.toNanos(2);
        assertEquals(1, expiry.tick());
        revLog.apply(List.of(new LogEntry(++index, proposer.requests().get(0))));
        proposer.applyTo(revLog, () -> ++index);
        now[0] += TimeUnit.SECONDS.toNanos(10);
        assertEquals(0, expiry.tick());
        assertEquals(0, expiry.inFlight());
    }
}
