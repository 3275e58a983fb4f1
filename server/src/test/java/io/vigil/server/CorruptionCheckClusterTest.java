package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.StatusRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corruption checks on three real member processes, one of which reports a wrong hash
 * ({@code --experimental-test-fault=hash-mismatch}, as a member whose store diverged would): the
 * leader's periodic check raises the CORRUPT alarm against that member and no other, and the check
 * at start refuses to start it, while a sound member passes.
 */
class CorruptionCheckClusterTest {
    private static final String FAULT = "--experimental-test-fault=hash-mismatch";

    @TempDir
    Path dir;

    @Test
    void theLeaderRaisesCorruptAgainstTheMemberWhoseHashDiffers() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3, "--experimental-corrupt-check-time=200ms");
             ClusterClients clients = new ClusterClients()) {
            ClusterClients.awaitLeader(c);
            for (int i = 0; i < 10; i++) {
                KVGrpc.newBlockingStub(clients.channel(c.endpoint(i % 3))).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                        .put(put("k" + i, "v"));
            }
            int bad = 2;
            c.stop(bad);
            c.startMember(bad, FAULT);
            int leader = ClusterClients.awaitLeader(c);
            if (leader == bad) {
                // the check runs on the leader: a corrupt leader would accuse the sound members
                long target = memberId(clients, c, 0);
                MaintenanceGrpc.newBlockingStub(clients.channel(c.endpoint(bad))).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                        .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(target).build());
                leader = ClusterClients.awaitLeader(c);
            }
            int sound = 3 - leader - bad;
            String badId = Long.toHexString(memberId(clients, c, bad));
            String soundId = Long.toHexString(memberId(clients, c, sound));
            VigilProcess leading = c.member(leader);
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).until(() ->
                    leading.output().stream().anyMatch(l -> l.contains("alarm CORRUPT raised against member " + badId)));
            assertFalse(c.logs().contains("raised against member " + soundId), c.logs());
            assertTrue(leading.output().stream().anyMatch(l -> l.contains("same compact revision then hashes must match")));
            // the alarm is the cluster's: every member lists it and refuses writes, as etcd's corrupt applier
            for (int i = 0; i < 3; i++) {
                int member = i;
                await().atMost(PATIENCE).untilAsserted(() -> assertEquals("memberID:" + Long.toUnsignedString(Long.parseUnsignedLong(badId, 16)) + " alarm:CORRUPT",
                        Etcdctl.run(c.endpoint(member), null, "alarm", "list").stdout().strip()));
                Etcdctl.Result put = Etcdctl.run(c.endpoint(member), null, "put", "after", "corrupt");
                assertTrue(put.stderr().contains("etcdserver: corrupt cluster"), put.stderr());
            }
            assertEquals(0, Etcdctl.run(c.endpoint(sound), null, "alarm", "disarm").exitCode());

            // at start: the member with the wrong hash does not start, a sound one does
            c.stop(bad);
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> c.startMember(bad, FAULT, "--experimental-initial-corrupt-check"));
            assertTrue(refused.getMessage().contains("found data inconsistency with peers"), refused.getMessage());
            c.startMember(bad, "--experimental-initial-corrupt-check");
            assertTrue(c.member(bad).output().stream().anyMatch(l -> l.contains("initial corruption checking passed")),
                    String.join("\n", c.member(bad).output()));
        }
    }

    private static long memberId(ClusterClients clients, VigilCluster c, int i) {
        return MaintenanceGrpc.newBlockingStub(clients.channel(c.endpoint(i))).withDeadlineAfter(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                .status(StatusRequest.getDefaultInstance()).getHeader().getMemberId();
    }
}
