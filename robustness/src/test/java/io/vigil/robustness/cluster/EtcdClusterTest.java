package io.vigil.robustness.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-member etcd 3.4 cluster through the harness's proxies: isolating the leader deposes it,
 * isolating a follower does not, and once healed every member serves writes and reads. Skipped
 * where etcd is not installed (apt-get install -y etcd-server etcd-client).
 */
class EtcdClusterTest {
    private static final Duration ELECTION = ClusterConfig.defaults().electionTimeout();

    @Test
    void isolationDeposesAnIsolatedLeaderNotTheLeaderOfAnIsolatedFollowerAndHealingRestoresEveryMember(@TempDir Path dir) {
        Assumptions.assumeTrue(EtcdCluster.installed(), "etcd not installed: apt-get install -y etcd-server etcd-client");
        try (EtcdCluster cluster = new EtcdCluster(dir, ClusterConfig.defaults())) {
            cluster.start();
            Member leader = cluster.leader().orElseThrow();

            cluster.isolate(leader);
            await(() -> cluster.leader().filter(l -> l != leader).isPresent()
                    && cluster.admin.status(leader.endpoint(), 1000).getLeader() != leader.id(),
                    "the majority elects a new leader and the isolated one steps down (CheckQuorum)");
            cluster.heal();
            cluster.awaitHealthy(Duration.ofSeconds(30));
            Member second = cluster.leader().orElseThrow();
            assertNotEquals(leader, second);

            Member follower = cluster.members().stream().filter(m -> m != second).findFirst().orElseThrow();
            cluster.isolate(follower);
            await(() -> cluster.admin.status(follower.endpoint(), 1000).getLeader() == 0,
                    "the isolated follower loses its leader");
            long end = System.nanoTime() + ELECTION.multipliedBy(3).toNanos();
            while (System.nanoTime() < end) {
                assertEquals(second, cluster.leader().orElse(null), "the leader keeps its quorum and its leadership");
            }
            cluster.heal();
            cluster.awaitHealthy(Duration.ofSeconds(30));

            putAndGetThroughEveryMember(cluster.members());
            String routing = cluster.peerRouting();
            System.out.println("etcd peer connections: " + routing);
            assertTrue(routing.contains("disagreed 0"), routing);
            assertTrue(!routing.contains("X-Server-From 0 "), routing);
        }
    }

    private static void putAndGetThroughEveryMember(List<Member> members) {
        for (Member m : members) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(m.endpoint()).usePlaintext().build();
            try {
                KVGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .put(PutRequest.newBuilder().setKey(key(m)).setValue(ByteString.copyFromUtf8(m.name())).build());
            } finally {
                ch.shutdownNow();
            }
        }
        for (Member m : members) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(m.endpoint()).usePlaintext().build();
            try {
                for (Member written : members) {
                    RangeResponse r = KVGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .range(RangeRequest.newBuilder().setKey(key(written)).build());
                    assertEquals(1, r.getCount(), m + " reads " + written + "'s key");
                    assertEquals(written.name(), r.getKvs(0).getValue().toStringUtf8());
                }
            } finally {
                ch.shutdownNow();
            }
        }
    }

    private static ByteString key(Member m) {
        return ByteString.copyFromUtf8("key-" + m.name());
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // a member that cannot answer yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out: " + what);
            }
            ProcessCluster.sleep(100);
        }
    }
}
