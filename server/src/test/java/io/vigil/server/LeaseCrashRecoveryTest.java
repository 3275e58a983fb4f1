package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leases survive SIGKILL: after a restart a granted lease is there with its keys and its whole TTL
 * again (etcd's promote), even though the member was down for longer than the TTL; a revoked one
 * stays revoked; and the surviving lease still expires afterwards, deleting its keys in one
 * revision.
 */
class LeaseCrashRecoveryTest {
    /** Long enough that the restarted server answers well within it, short enough to wait out. */
    private static final long TTL = 5;

    @TempDir
    Path tmp;

    @Test
    void leaseSurvivesSigkillAndStillExpiresAfterwards() throws Exception {
        Path dataDir = tmp.resolve("data");
        long downSince;
        VigilProcess first = VigilProcess.start(dataDir);
        ManagedChannel channel = CrashRecoveryTest.channel(first);
        try {
            LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(channel);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
            lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(TTL).build());
            lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(8).setTTL(600).build());
            kv.put(PutRequest.newBuilder().setKey(bytes("svc/a")).setValue(bytes("1")).setLease(7).build());
            kv.put(PutRequest.newBuilder().setKey(bytes("svc/b")).setValue(bytes("2")).setLease(7).build());
            kv.put(PutRequest.newBuilder().setKey(bytes("svc/c")).setValue(bytes("3")).setLease(8).build());
            lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(8).build());
        } finally {
            channel.shutdownNow();
            first.kill();
            downSince = System.nanoTime();
        }
        // stay down for longer than the lease's TTL: without promote on start it would be dead
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(TTL + 30))
                .until(() -> System.nanoTime() - downSince > TimeUnit.SECONDS.toNanos(TTL + 1));

        try (VigilProcess second = VigilProcess.start(dataDir)) {
            channel = CrashRecoveryTest.channel(second);
            try {
                LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(channel);
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
                LeaseTimeToLiveResponse alive = lease.leaseTimeToLive(
                        LeaseTimeToLiveRequest.newBuilder().setID(7).setKeys(true).build());
                assertEquals(TTL, alive.getGrantedTTL());
                assertTrue(alive.getTTL() > 0, "alive after the restart: " + alive);
                assertEquals(List.of(bytes("svc/a"), bytes("svc/b")), alive.getKeysList().stream().sorted(
                        com.google.protobuf.ByteString.unsignedLexicographicalComparator()).toList());
                assertEquals(-1, lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(8).build()).getTTL(),
                        "a revoked lease stays revoked");
                long before = kv.range(RangeRequest.newBuilder().setKey(bytes("probe")).build()).getHeader().getRevision();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                        kv.range(RangeRequest.newBuilder().setKey(bytes("svc/")).setRangeEnd(bytes("svc0")).build()).getCount() == 0);
                long after = kv.range(RangeRequest.newBuilder().setKey(bytes("probe")).build()).getHeader().getRevision();
                assertEquals(before + 1, after, "both keys deleted in one revision");
                assertEquals(-1, lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(7).build()).getTTL());
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
