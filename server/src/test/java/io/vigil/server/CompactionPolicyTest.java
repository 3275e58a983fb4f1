package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The auto-compaction decisions on a fake clock, in the cases of etcd 3.4's compactor tests
 * (periodic_test.go, revision_test.go): which revision is compacted at which tick.
 */
class CompactionPolicyTest {
    /**
     * A fake clock and a store whose revision goes up by one at every tick (etcd's fakeRevGetter),
     * ticking a policy and recording what it compacts; every compaction succeeds unless told.
     */
    private static final class Run {
        final CompactionPolicy policy;
        long now;
        long revision = 1;
        boolean leader = true;
        boolean compactionsFail;
        final List<Long> compacted = new ArrayList<>();

        Run(CompactionPolicy.Start start) {
            policy = start.at(now, revision);
        }

        /** Advances the clock by one tick interval and ticks; the revision is one higher each tick. */
        long tick() {
            now += policy.tickInterval().toNanos();
            revision++;
            long target = policy.tick(now, revision, leader);
            if (target != CompactionPolicy.NONE) {
                policy.completed(now, target, !compactionsFail);
                if (!compactionsFail) {
                    compacted.add(target);
                }
            }
            return target;
        }

        void ticks(int n) {
            for (int i = 0; i < n; i++) {
                tick();
            }
        }
    }

    private static CompactionPolicy.Start periodic(Duration retention) {
        return (now, rev) -> new CompactionPolicy.Periodic(retention, now, rev);
    }

    @Test
    void periodicHourlyWaitsTheRetentionThenCompactsEveryHour() {
        Run r = new Run(periodic(Duration.ofHours(2)));
        assertEquals(Duration.ofMinutes(6), r.policy.tickInterval());
        r.ticks(19);
        assertEquals(List.of(), r.compacted, "nothing before 2 hours");
        assertEquals(1, r.tick(), "at 2 hours: the revision at the start");
        for (int hour = 1; hour <= 3; hour++) {
            r.ticks(9);
            assertEquals(1 + hour - 1, r.compacted.size());
            // etcd's expectation: 10, 20, 30 (the oldest of the 21 samples kept)
            assertEquals(hour * 10L, r.tick());
        }
    }

    @Test
    void periodicMinutesCompactsEveryRetention() {
        Run r = new Run(periodic(Duration.ofMinutes(5)));
        assertEquals(Duration.ofSeconds(30), r.policy.tickInterval());
        r.ticks(9);
        assertEquals(List.of(), r.compacted);
        assertEquals(1, r.tick());
        for (int i = 1; i <= 5; i++) {
            r.ticks(9);
            assertEquals(i * 10L, r.tick());
        }
        assertEquals(List.of(1L, 10L, 20L, 30L, 40L, 50L), r.compacted);
    }

    @Test
    void periodicNotLeaderKeepsSamplingAndCompactsWhenItLeads() {
        Run r = new Run(periodic(Duration.ofHours(1)));
        r.leader = false;
        r.ticks(11 * 3);
        assertEquals(List.of(), r.compacted, "a member that does not lead never compacts");
        r.leader = true;
        // etcd's TestPeriodicPause: the revision from one hour and one tick ago
        assertEquals(1 + 2 * 11 + 1, r.tick());
    }

    @Test
    void periodicFailureIsRetriedNextTick() {
        Run r = new Run(periodic(Duration.ofMinutes(10)));
        r.compactionsFail = true;
        r.ticks(9);
        assertEquals(1, r.tick());
        assertEquals(1, r.tick(), "tried again a tick later");
        r.compactionsFail = false;
        assertEquals(2, r.tick(), "once the window is full, the oldest sample moves on each tick");
        r.ticks(9);
        assertEquals(12, r.tick(), "then one compaction interval after the success");
    }

    @Test
    void periodicRetentionOverAnHourCompactsHourly() {
        Run r = new Run(periodic(Duration.ofHours(24)));
        assertEquals(Duration.ofMinutes(6), r.policy.tickInterval());
        r.ticks(239);
        assertEquals(List.of(), r.compacted);
        assertEquals(1, r.tick(), "at 24 hours");
        r.ticks(9);
        assertEquals(10, r.tick(), "an hour later, to the oldest of the 241 samples kept");
    }

    @Test
    void revisionModeKeepsRetentionRevisionsBehindTheHead() {
        CompactionPolicy p = new CompactionPolicy.Revisions(10, CompactionPolicy.Revisions.INTERVAL);
        assertEquals(Duration.ofMinutes(5), p.tickInterval());
        long t = 0;
        assertEquals(CompactionPolicy.NONE, p.tick(t += 1, 1, true), "nothing to compact yet");
        assertEquals(CompactionPolicy.NONE, p.tick(t += 1, 10, true), "head minus retention is 0");
        assertEquals(90, p.tick(t += 1, 100, true));
        p.completed(t, 90, true);
        assertEquals(CompactionPolicy.NONE, p.tick(t += 1, 100, true), "the same revision is skipped");
        assertEquals(190, p.tick(t += 1, 200, true));
        p.completed(t, 190, false);
        assertEquals(190, p.tick(t += 1, 200, true), "a failure is tried again");
        p.completed(t, 190, true);
        assertEquals(CompactionPolicy.NONE, p.tick(t += 1, 300, false), "a member that does not lead never compacts");
        assertEquals(290, p.tick(t += 1, 300, true));
    }
}
