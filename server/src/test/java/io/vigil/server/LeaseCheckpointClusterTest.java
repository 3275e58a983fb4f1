package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lease checkpoints on a real three-member cluster: after kill -9 of the leader, the new leader
 * continues a lease from its checkpointed remaining TTL rather than its whole TTL, does not
 * expire it before its original deadline, and still expires it; a lease kept alive just before
 * the kill has its whole TTL on the new leader (the keep-alive cleared its checkpoint).
 */
class LeaseCheckpointClusterTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final long TTL = 20;
    /**
     * How much of the TTL passes before the leader is killed: the idle lease then has at most
     * TTL - PASSED + 2 s left (checkpoints every 2 s), the kept-alive one's stale checkpoint at
     * most TTL - PASSED + 2 s too, both well below the TTL - 5 a whole lease shows.
     */
    private static final long PASSED = 10;
    private static final Pattern GRANTED = Pattern.compile("lease ([0-9a-f]+) granted");
    private static final Pattern REMAINING = Pattern.compile("remaining\\((-?\\d+)s\\)");

    @TempDir
    Path dir;

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled();
    }

    private static int awaitLeader(VigilCluster c) {
        int[] leader = {-1};
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).until(() -> (leader[0] = c.agreedLeader()) >= 0);
        return leader[0];
    }

    private static String grant(String endpoint) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "lease", "grant", Long.toString(TTL));
        Matcher m = GRANTED.matcher(r.stdout());
        assertTrue(r.exitCode() == 0 && m.find(), "lease grant: " + r.stdout() + r.stderr());
        return m.group(1);
    }

    /** The remaining TTL in seconds LeaseTimeToLive reports; fails if the lease is gone. */
    private static long remaining(String endpoint, String id) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "lease", "timetolive", id);
        Matcher m = REMAINING.matcher(r.stdout());
        assertTrue(r.exitCode() == 0 && m.find(), "lease timetolive " + id + ": " + r.stdout() + r.stderr());
        return Long.parseLong(m.group(1));
    }

    private static boolean present(String endpoint, String key) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "get", key, "--consistency=s", "--print-value-only");
        assertEquals(0, r.exitCode(), r.stderr());
        return !r.stdout().isBlank();
    }

    @Test
    void aNewLeaderKeepsTheRemainingTtlAndDoesNotExpireTheLeaseEarly() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3, "--experimental-lease-checkpoint-interval=2s")) {
            int leader = awaitLeader(c);
            String at = c.endpoint(leader);
            long grantedBefore = System.nanoTime();
            String idle = grant(at);
            String kept = grant(at);
            assertEquals(0, Etcdctl.run(at, null, "put", "idle-key", "x", "--lease", idle).exitCode());

            // let PASSED s of the TTL pass; the leader checkpoints both leases every 2 s meanwhile
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).until(() -> remaining(at, idle) <= TTL - PASSED);
            // one keep-alive: its lease is whole again, and the checkpoint it had is cleared
            Etcdctl.Result keepAlive = Etcdctl.run(at, null, "lease", "keep-alive", "--once", kept);
            assertEquals(0, keepAlive.exitCode(), keepAlive.stderr());
            // a bounded wait for time to pass, shorter than the interval: the clear, proposed at
            // once, commits on the followers (which cannot be observed from outside)
            Thread.sleep(1000);

            c.kill(leader);
            int newLeader = awaitLeader(c);
            assertNotEquals(leader, newLeader);
            String now = c.endpoint(newLeader);
            long idleLeft = remaining(now, idle);
            long keptLeft = remaining(now, kept);
            // without checkpoints the new leader would give both their whole TTL (plus a 1 s election timeout)
            assertTrue(idleLeft > 0 && idleLeft <= TTL - 5, "the idle lease kept its remaining TTL: " + idleLeft + " s\n" + c.logs());
            assertTrue(keptLeft >= TTL - 5, "the kept-alive lease is whole, not its old checkpoint: " + keptLeft + " s\n" + c.logs());

            // not expired before its original deadline (granted at or after grantedBefore, with TTL s)
            long originalDeadline = grantedBefore + Duration.ofSeconds(TTL).toNanos();
            long untilDeadline = originalDeadline - Duration.ofSeconds(2).toNanos() - System.nanoTime();
            if (untilDeadline > 0) {
                // true at every poll for the whole time, or the wait fails
                await("the idle lease's key stays until 2 s before its original deadline")
                        .during(Duration.ofNanos(untilDeadline)).atMost(Duration.ofNanos(untilDeadline).plusSeconds(10))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> present(now, "idle-key"));
            }
            // and the new leader does expire it, on every member still running
            for (int i = 0; i < 3; i++) {
                if (i != leader) {
                    String member = c.endpoint(i);
                    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).until(() -> !present(member, "idle-key"));
                }
            }
        }
    }
}
