package io.vigil.server;

import static io.vigil.server.ClusterClients.put;
import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Revision-mode auto-compaction on a running member (its interval shortened by the test knob
 * instead of etcd's five minutes): the leader compacts through the log to the current revision
 * minus the retention, so a read below that then fails as compacted, and a read at it still works.
 */
class AutoCompactionTest {
    @TempDir
    Path dir;

    @Test
    void revisionModeCompactsToRetentionRevisionsBehindTheHead() {
        ServerConfig config = new ServerConfig().dataDir(dir)
                .listenClientUrls(List.of(URI.create("http://127.0.0.1:0")))
                .autoCompactionMode("revision").autoCompactionRetention("5")
                .autoCompactionRevisionInterval(Duration.ofMillis(50));
        try (VigilServer server = VigilServer.start(config, fatal -> { })) {
            InetSocketAddress a = server.clientAddresses().get(0);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", a.getPort()).usePlaintext().build();
            try {
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
                long head = 0;
                for (int i = 0; i < 20; i++) {
                    head = kv.put(put("k" + (i % 3), "v" + i)).getHeader().getRevision();
                }
                long kept = head - 5;
                await().atMost(ClusterClients.PATIENCE).pollInterval(Duration.ofMillis(50))
                        .until(() -> isCompacted(kv, kept - 1));
                assertEquals(1, kv.range(RangeRequest.newBuilder().setKey(bytes("k0")).setRevision(kept).build()).getCount());
                assertEquals(head, kv.range(RangeRequest.newBuilder().setKey(bytes("k0")).build()).getHeader().getRevision(),
                        "a compaction makes no revision");
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private static boolean isCompacted(KVGrpc.KVBlockingStub kv, long revision) {
        try {
            kv.range(RangeRequest.newBuilder().setKey(bytes("k0")).setRevision(revision).build());
            return false;
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.OUT_OF_RANGE
                    && "etcdserver: mvcc: required revision has been compacted".equals(e.getStatus().getDescription())) {
                return true;
            }
            throw e;
        }
    }
}
