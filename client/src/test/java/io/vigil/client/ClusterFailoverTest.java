package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A three-member cluster of Vigil, and of etcd 3.4, whose leader is killed (SIGKILL) under writes
 * while a watch and a keep-alive run on it: the watch carries on from another member and tells
 * every revision once (jetcd #1352: watches that never recovered after a leader change), and the
 * lease is never lost.
 */
class ClusterFailoverTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aWatchAndAKeepAliveOnTheLeaderCarryOnWhenItIsKilled(String name) throws Exception {
        List<LocalServer> members = Servers.cluster(name, tmp, 3);
        try {
            List<String> endpoints = members.stream().map(LocalServer::endpoint).toList();
            int leader = leader(endpoints);
            // the watcher prefers the leader: its watch and keep-alive streams are on the member that dies
            List<String> leaderFirst = new ArrayList<>(endpoints);
            leaderFirst.add(0, leaderFirst.remove(leader));
            try (VigilClient writer = VigilClient.builder().endpoints(endpoints).callTimeout(Duration.ofSeconds(2)).build();
                 VigilClient watcher = VigilClient.builder().endpoints(leaderFirst).build()) {
                long start = writer.kv().put("k/start", "0").revision();
                Recorder recorder = new Recorder();
                watcher.watches().watch(Op.getPrefix("k/"), start, recorder);
                long lease = watcher.leases().grant(10);
                LeaseTest.Kept kept = new LeaseTest.Kept();
                watcher.leases().keepAlive(lease, kept);

                try (WriteLoad load = new WriteLoad(writer, "k/")) {
                    await().atMost(WatchTest.PATIENCE).until(() -> recorder.size() >= 30 && kept.renewals.get() >= 1);
                    members.get(leader).kill();
                    int before = recorder.size();
                    int renewals = kept.renewals.get();
                    await().atMost(WatchTest.PATIENCE).until(() -> recorder.size() >= before + 30
                            && kept.renewals.get() > renewals);
                    members.get(leader).restart();
                }
                long last = writer.kv().put("k/end", "end").revision();
                await().atMost(WatchTest.PATIENCE).until(() -> recorder.reached(last));
                recorder.assertIsTheHistory(writer, "k/", start, last);
                assertNull(recorder.error());
                assertNull(kept.lost.get());
                assertTrue(watcher.leases().timeToLive(lease) > 0);
            }
        } finally {
            for (LocalServer m : members) {
                m.close();
            }
        }
    }

    /** The index of the member all agree leads (asked with Maintenance.Status), once there is one. */
    private static int leader(List<String> endpoints) {
        int[] found = {-1};
        await().atMost(WatchTest.PATIENCE).ignoreExceptions().until(() -> {
            for (int i = 0; i < endpoints.size(); i++) {
                ManagedChannel ch = NettyChannelBuilder.forTarget(endpoints.get(i)).usePlaintext().build();
                try {
                    StatusResponse s = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                            .status(StatusRequest.getDefaultInstance());
                    if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
                        found[0] = i;
                        return true;
                    }
                } finally {
                    ch.shutdownNow();
                }
            }
            return false;
        });
        return found[0];
    }
}
