package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's metrics on a real Vigil: what the etcd mixin's dashboard and alerts read is there under
 * etcd's names, values move where the thing happens, and /metrics is served on the client port
 * beside gRPC as etcd serves it.
 */
class EtcdMetricsTest {
    /**
     * Every metric the etcd mixin reads, from etcd's contrib/mixin/mixin.libsonnet: its Prometheus
     * alerts (etcdMembersDown, etcdNoLeader, etcdHighNumberOfLeaderChanges,
     * etcdHighNumberOfFailedGRPCRequests, etcdGRPCRequestsSlow, etcdMemberCommunicationSlow,
     * etcdHighNumberOfFailedProposals, etcdHighFsyncDurations, etcdHighCommitDurations,
     * etcdBackendQuotaLowSpace, etcdExcessiveDatabaseGrowth) and its Grafana dashboard (Up, RPC
     * Rate, Active Streams, DB Size, Disk Sync Duration, Memory, Client/Peer Traffic In/Out, Raft
     * Proposals, Total Leader Elections Per Day, Peer round trip time). Prometheus' own {@code up}
     * is left out: the scraper makes it. Histograms are named by the series the queries read.
     */
    static final List<String> MIXIN_METRICS = List.of(
            "etcd_network_peer_sent_failures_total",
            "etcd_server_has_leader",
            "etcd_server_leader_changes_seen_total",
            "grpc_server_handled_total",
            "grpc_server_started_total",
            "grpc_server_handling_seconds_bucket",
            "etcd_network_peer_round_trip_time_seconds_bucket",
            "etcd_server_proposals_failed_total",
            "etcd_server_proposals_pending",
            "etcd_server_proposals_committed_total",
            "etcd_server_proposals_applied_total",
            "etcd_disk_wal_fsync_duration_seconds_bucket",
            "etcd_disk_backend_commit_duration_seconds_bucket",
            "etcd_mvcc_db_total_size_in_bytes",
            "etcd_server_quota_backend_bytes",
            "process_resident_memory_bytes",
            "etcd_network_client_grpc_received_bytes_total",
            "etcd_network_client_grpc_sent_bytes_total",
            "etcd_network_peer_received_bytes_total",
            "etcd_network_peer_sent_bytes_total");

    @TempDir
    Path dir;

    @Test
    void everyMetricTheEtcdMixinReadsIsOnEveryMemberOfACluster() throws Exception {
        try (VigilCluster cluster = VigilCluster.start(dir, 3)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.agreedLeader() >= 0);
            for (int i = 0; i < 3; i++) {
                put(cluster.endpoint(i), "k" + i, "v");
            }
            for (int i = 0; i < 3; i++) {
                String endpoint = cluster.endpoint(i);
                // peer round trips are probed every few seconds; the first comes with the first tick
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    MetricsScrape scrape = MetricsScrape.of(endpoint);
                    List<String> missing = new ArrayList<>();
                    for (String name : MIXIN_METRICS) {
                        if (!scrape.has(name)) {
                            missing.add(name);
                        }
                    }
                    assertEquals(List.of(), missing, "missing on " + endpoint + ":\n" + scrape.body());
                });
            }
            MetricsScrape scrape = MetricsScrape.of(cluster.endpoint(0));
            assertEquals(1, scrape.value("etcd_server_has_leader"));
            // the bucket bounds of etcd 3.4's histograms
            assertTrue(scrape.has("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"}"), scrape.body());
            assertTrue(scrape.samples().keySet().stream().anyMatch(s ->
                    s.startsWith("etcd_network_peer_round_trip_time_seconds_bucket{To=\"") && s.endsWith("le=\"3.2768\"}")),
                    scrape.body());
        }
    }

    @Test
    void aPutMovesTheProposalCountersAndTheDiskHistogramsOnASingleMember() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(dir)) {
            MetricsScrape before = MetricsScrape.of(vigil.endpoint());
            assertEquals(1, before.value("etcd_server_has_leader"));
            assertEquals(1, before.value("etcd_server_is_leader"));
            assertEquals(1, before.value("etcd_server_leader_changes_seen_total"));
            put(vigil.endpoint(), "a", "1");
            put(vigil.endpoint(), "b", "2");
            MetricsScrape after = MetricsScrape.of(vigil.endpoint());
            assertTrue(after.value("etcd_server_proposals_committed_total")
                    >= before.value("etcd_server_proposals_committed_total") + 2, after.body());
            assertTrue(after.value("etcd_server_proposals_applied_total")
                    >= before.value("etcd_server_proposals_applied_total") + 2, after.body());
            assertTrue(after.value("etcd_disk_wal_fsync_duration_seconds_count")
                    >= before.value("etcd_disk_wal_fsync_duration_seconds_count") + 2, after.body());
            assertEquals(0, after.value("etcd_server_proposals_pending"));
            assertEquals(0, after.value("etcd_server_proposals_failed_total"));
            assertTrue(after.value("etcd_mvcc_db_total_size_in_bytes") > 0, after.body());
            assertEquals(8589934592.0, after.value("etcd_server_quota_backend_bytes"));
            assertEquals(2, after.samples().get(
                    "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"));
            // the LMDB commit is batched, so it may come after the put's answer: wait for it, as
            // other tests wait for what is eventually true (no claim on how long it takes)
            await().atMost(ClusterClients.PATIENCE).until(() ->
                    MetricsScrape.of(vigil.endpoint()).value("etcd_disk_backend_commit_duration_seconds_count")
                            > before.value("etcd_disk_backend_commit_duration_seconds_count"));
        }
    }

    @Test
    void theClientPortServesMetricsOverHttp1AndGrpcOnTheSameConnectionsPort() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(dir)) {
            MetricsScrape scrape = MetricsScrape.of(vigil.endpoint());
            assertEquals(200, scrape.status());
            assertTrue(scrape.body().contains("# TYPE etcd_server_has_leader gauge"), scrape.body());
            assertEquals(404, MetricsScrape.get(vigil.endpoint(), "/nothing-here").status());
            // gRPC on the same port is untouched, before and after scrapes
            put(vigil.endpoint(), "x", "y");
            assertEquals(200, MetricsScrape.of(vigil.endpoint()).status());
            assertEquals("y", get(vigil.endpoint(), "x"));
        }
    }

    @Test
    void theMetricsPortServesTheSameMetrics() throws Exception {
        int port = VigilCluster.freePort();
        try (VigilProcess vigil = VigilProcess.start(dir, "--listen-metrics-urls", "http://127.0.0.1:" + port)) {
            MetricsScrape scrape = MetricsScrape.of("127.0.0.1:" + port);
            for (String name : List.of("etcd_server_has_leader", "etcd_disk_wal_fsync_duration_seconds_bucket",
                    "grpc_server_started_total")) {
                assertTrue(scrape.has(name), name + " in\n" + scrape.body());
            }
        }
    }

    static void put(String endpoint, String key, String value) throws InterruptedException {
        ManagedChannel ch = channel(endpoint);
        try {
            KVGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build());
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static String get(String endpoint, String key) throws InterruptedException {
        ManagedChannel ch = channel(endpoint);
        try {
            return KVGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build())
                    .getKvs(0).getValue().toStringUtf8();
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static ManagedChannel channel(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        return NettyChannelBuilder.forAddress(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)))
                .usePlaintext().build();
    }
}
