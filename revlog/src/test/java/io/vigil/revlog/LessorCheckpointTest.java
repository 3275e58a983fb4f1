package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.LeaseCheckpoint;
import io.vigil.proto.etcdserverpb.LeaseCheckpointRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The lessor's checkpoint logic on a fake clock, without a store: what a new leader makes of a
 * recorded remaining TTL, when the leader hands out checkpoints and clears, and the safety
 * invariant that a recorded value never lets a promote end a lease before the leader would.
 */
class LessorCheckpointTest {
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final Duration ELECTION = Duration.ofSeconds(1);

    private final LeaseTest.FakeClock clock = new LeaseTest.FakeClock();
    private final Lessor lessor = new Lessor(clock);
    private final AtomicInteger clearsQueued = new AtomicInteger();

    private void enable() {
        lessor.enableCheckpoints(INTERVAL, clearsQueued::incrementAndGet);
    }

    private long remaining(long id) {
        return lessor.timeToLive(id, false).orElseThrow().remainingSeconds();
    }

    /** Hands out the due checkpoints and applies them in order, as the log would. */
    private List<LeaseCheckpoint> takeAndApply() {
        List<LeaseCheckpoint> all = new ArrayList<>();
        for (LeaseCheckpointRequest r : lessor.takeCheckpoints(Integer.MAX_VALUE)) {
            for (LeaseCheckpoint cp : r.getCheckpointsList()) {
                lessor.checkpoint(cp.getID(), cp.getRemainingTTL());
                all.add(cp);
            }
        }
        return all;
    }

    /** By lease: leases due at the same moment come out in no particular order. */
    private static List<LeaseCheckpoint> byId(List<LeaseCheckpoint> cps) {
        return cps.stream().sorted(Comparator.comparingLong(LeaseCheckpoint::getID)).toList();
    }

    private static LeaseCheckpoint cp(long id, long remaining) {
        return LeaseCheckpoint.newBuilder().setID(id).setRemainingTTL(remaining).build();
    }

    @Test
    void aNewLeaderStartsFromTheRecordedRemainingTtlPlusTheElectionTimeout() {
        enable();
        lessor.grant(1, 30);
        lessor.grant(2, 30);
        lessor.checkpoint(1, 12);
        clock.advanceSeconds(20);
        lessor.promote(ELECTION);
        assertEquals(13, remaining(1), "12 s recorded + 1 s election timeout");
        assertEquals(31, remaining(2), "nothing recorded: the whole TTL + 1 s");
        assertEquals(30, lessor.timeToLive(1, false).orElseThrow().grantedTtl());
    }

    @Test
    void withCheckpointsOffANewLeaderGivesTheWholeTtlWhateverWasRecorded() {
        lessor.grant(1, 30);
        lessor.checkpoint(1, 12);
        lessor.promote(ELECTION);
        assertEquals(31, remaining(1));
        clock.advanceSeconds(5);
        assertEquals(List.of(), lessor.takeCheckpoints(10), "nothing is checkpointed while off");
        assertEquals(30, lessor.renew(1));
        assertEquals(0, clearsQueued.get());
    }

    @Test
    void openingTheStoreGivesTheWholeTtlTheLeaderDecidesLater() {
        enable();
        lessor.grant(1, 30);
        lessor.checkpoint(1, 12);
        lessor.startDeadlines();
        assertEquals(30, remaining(1));
    }

    @Test
    void theLeaderHandsOutEachLeaseRemainingTtlOnceAnIntervalRoundedUp() {
        enable();
        lessor.promote(Duration.ZERO);
        lessor.grant(1, 30);
        lessor.grant(2, 5);
        clock.advanceSeconds(0.5);
        assertEquals(List.of(), takeAndApply(), "not due before an interval");
        clock.advanceSeconds(0.6);
        assertEquals(List.of(cp(1, 29), cp(2, 4)), byId(takeAndApply()), "28.9 s and 3.9 s left, rounded up");
        assertEquals(29, lessor.recordedRemainingTtl(1));
        assertEquals(List.of(), takeAndApply(), "each once per interval");
        clock.advanceSeconds(1);
        assertEquals(List.of(cp(1, 28), cp(2, 3)), byId(takeAndApply()));
        clock.advanceSeconds(1);
        assertEquals(List.of(cp(1, 27), cp(2, 2)), byId(takeAndApply()));
        clock.advanceSeconds(1);
        assertEquals(List.of(cp(1, 26), cp(2, 1)), byId(takeAndApply()));
        clock.advanceSeconds(1);
        // lease 2 had 0.9 s left at its last checkpoint, not more than an interval: no more of it
        assertEquals(List.of(cp(1, 25)), takeAndApply());
        assertEquals(0, clearsQueued.get(), "the leader's own checkpoints never look stale to it");
    }

    @Test
    void aLeaseNoLongerThanTheIntervalIsNeverCheckpointed() {
        lessor.enableCheckpoints(Duration.ofMinutes(5), () -> { });
        lessor.promote(Duration.ZERO);
        lessor.grant(1, 300);
        lessor.grant(2, 301);
        clock.advanceSeconds(300);
        assertEquals(List.of(cp(2, 1)), takeAndApply());
    }

    @Test
    void expiredAndRevokedLeasesAreNotCheckpointed() {
        enable();
        lessor.promote(Duration.ZERO);
        lessor.grant(1, 2);
        lessor.grant(2, 30);
        lessor.grant(3, 30);
        lessor.revoke(3);
        clock.advanceSeconds(1.5);
        assertEquals(List.of(cp(1, 1), cp(2, 29)), byId(takeAndApply()));
        clock.advanceSeconds(1);
        assertEquals(List.of(1L), lessor.claimExpired(10));
        clock.advanceSeconds(1);
        assertEquals(List.of(cp(2, 27)), takeAndApply(), "26.5 s left");
        assertFalse(lessor.checkpoint(3, 5), "a checkpoint of a revoked lease is skipped");
    }

    @Test
    void requestsCarryAtMostAThousandLeasesAndTheRestWaitsForTheNextCall() {
        enable();
        lessor.promote(Duration.ZERO);
        for (long id = 1; id <= 2500; id++) {
            lessor.grant(id, 60);
        }
        clock.advanceSeconds(1.5);
        List<LeaseCheckpointRequest> first = lessor.takeCheckpoints(2);
        assertEquals(List.of(1000, 1000), first.stream().map(LeaseCheckpointRequest::getCheckpointsCount).toList());
        List<LeaseCheckpointRequest> rest = lessor.takeCheckpoints(2);
        assertEquals(List.of(500), rest.stream().map(LeaseCheckpointRequest::getCheckpointsCount).toList());
        assertEquals(List.of(), lessor.takeCheckpoints(2));
    }

    @Test
    void aKeepAliveQueuesAClearThatIsHandedOutAheadOfEveryCheckpoint() {
        enable();
        lessor.promote(Duration.ZERO);
        lessor.grant(1, 30);
        lessor.grant(2, 30);
        clock.advanceSeconds(10.5);
        assertEquals(List.of(cp(1, 20), cp(2, 20)), byId(takeAndApply()));
        clock.advanceSeconds(0.7);
        assertEquals(30, lessor.renew(2));
        assertEquals(1, clearsQueued.get(), "the loop is told at once");
        assertEquals(30, lessor.renew(2));
        assertEquals(1, clearsQueued.get(), "one clear per recorded value, however many keep-alives");
        clock.advanceSeconds(0.5);
        assertEquals(List.of(cp(2, 0), cp(1, 19)), takeAndApply(), "the clear first; the renewed lease is whole");
        assertEquals(0, lessor.recordedRemainingTtl(2));
        assertEquals(30, lessor.renew(2));
        assertEquals(1, clearsQueued.get(), "nothing recorded, nothing to clear");
    }

    @Test
    void aRecordedValueThatStillCoversTheDeadlineWithTheExtensionNeedsNoClear() {
        enable();
        lessor.grant(1, 30);
        lessor.checkpoint(1, 29);
        lessor.promote(ELECTION);
        assertEquals(30, lessor.renew(1));
        assertEquals(0, clearsQueued.get(), "now + 29 s + 1 s is the renewed deadline: a promote would not shorten it");
        lessor.checkpoint(1, 20);
        assertEquals(1, clearsQueued.get());
    }

    @Test
    void anOlderLeadersCheckpointAppliedAfterAKeepAliveIsCleared() {
        enable();
        lessor.grant(1, 30);
        lessor.promote(ELECTION);
        clock.advanceSeconds(15);
        assertEquals(30, lessor.renew(1));
        // an entry the previous leader proposed, committed before this one's first entry
        lessor.checkpoint(1, 14);
        assertEquals(1, clearsQueued.get());
        assertEquals(List.of(cp(1, 0)), takeAndApply());
    }

    @Test
    void aFailedClearIsQueuedAgainAndOthersAreNot() {
        enable();
        lessor.promote(Duration.ZERO);
        lessor.grant(1, 30);
        lessor.checkpoint(1, 10);
        assertEquals(30, lessor.renew(1));
        List<LeaseCheckpointRequest> lost = lessor.takeCheckpoints(10);
        assertEquals(List.of(cp(1, 0)), lost.get(0).getCheckpointsList());
        lessor.checkpointFailed(lost.get(0));
        lessor.checkpointFailed(LeaseCheckpointRequest.newBuilder().addCheckpoints(cp(1, 7)).build());
        assertEquals(List.of(cp(1, 0)), takeAndApply());
    }

    @Test
    void aDemotedMemberHandsOutNothingAndQueuesNoClears() {
        enable();
        lessor.grant(1, 30);
        lessor.checkpoint(1, 10);
        lessor.promote(Duration.ZERO);
        lessor.demote();
        clock.advanceSeconds(2);
        assertEquals(30, lessor.renew(1));
        assertEquals(0, clearsQueued.get());
        assertEquals(List.of(), lessor.takeCheckpoints(10));
        lessor.promote(Duration.ZERO);
        assertEquals(10, remaining(1));
    }

    /**
     * Random keep-alives, clock steps, checkpoint rounds (applied in order) and leader changes on
     * a few leases: whenever no clear is waiting, a promote at this moment would give every live
     * lease at least the deadline the leader has, so no failover expires a lease early.
     */
    @Test
    void noRecordedRemainingTtlEverShortensALeaseAtAFailover() {
        long seed = Long.getLong("vigil.revlog.seed", System.nanoTime());
        Random random = new Random(seed);
        enable();
        long extension = TimeUnit.SECONDS.toNanos(1);
        lessor.promote(ELECTION);
        long[] ttl = {3, 7, 30, 60};
        for (int i = 0; i < ttl.length; i++) {
            lessor.grant(i + 1, ttl[i]);
        }
        for (int step = 0; step < 20_000; step++) {
            int op = random.nextInt(10);
            long id = 1 + random.nextInt(ttl.length);
            if (op < 4) {
                clock.advanceSeconds(random.nextDouble() * 0.8);
            } else if (op < 7) {
                lessor.renew(id);
            } else if (op < 9) {
                takeAndApply();
            } else {
                // a failover to a member with the same applied state
                lessor.demote();
                lessor.promote(ELECTION);
            }
            takeAndApply();
            long now = clock.nanoTime();
            for (long lease = 1; lease <= ttl.length; lease++) {
                long left = lessor.deadlineNanos(lease) - now;
                long recorded = lessor.recordedRemainingTtl(lease);
                if (left <= 0) {
                    // expired: renew refuses it; give it a fresh start as a new grant would
                    lessor.revoke(lease);
                    lessor.grant(lease, ttl[(int) lease - 1]);
                    continue;
                }
                assertTrue(recorded == 0 || left <= TimeUnit.SECONDS.toNanos(recorded) + extension,
                        "seed " + seed + " step " + step + ": lease " + lease + " has " + left
                                + " ns left but " + recorded + " s recorded");
            }
        }
    }
}
