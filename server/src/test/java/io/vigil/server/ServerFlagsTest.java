package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerFlagsTest {
    @Test
    void defaultsAreEtcdLike() {
        ServerConfig c = ServerFlags.parse(new String[0]);
        assertEquals("default", c.name());
        assertEquals(Path.of("vigil.data"), c.dataDir());
        assertEquals(List.of(URI.create("http://127.0.0.1:2379")), c.listenClientUrls());
        assertEquals(c.listenClientUrls(), c.advertiseClientUrls());
        assertEquals(1536 * 1024, c.maxRequestBytes());
        assertEquals(java.time.Duration.ofMillis(100), c.backendBatchInterval());
        assertEquals(10_000, c.backendBatchLimit());
    }

    @Test
    void acceptsEtcdFlagSpellings() {
        ServerConfig c = ServerFlags.parse(new String[] {
            "--name=n1", "-data-dir", "/tmp/x", "--listen-client-urls", "http://127.0.0.1:1,http://localhost:2",
            "--advertise-client-urls=http://10.0.0.1:2379", "--max-txn-ops", "64",
            "--quota-backend-bytes=2147483648", "--backend-batch-interval=25ms", "--backend-batch-limit", "500"});
        assertEquals("n1", c.name());
        assertEquals(Path.of("/tmp/x"), c.dataDir());
        assertEquals(2, c.listenClientUrls().size());
        assertEquals(List.of(URI.create("http://10.0.0.1:2379")), c.advertiseClientUrls());
        assertEquals(64, c.maxTxnOps());
        assertEquals(2L << 30, c.quotaBackendBytes());
        assertEquals(java.time.Duration.ofMillis(25), c.backendBatchInterval());
        assertEquals(500, c.backendBatchLimit());
    }

    @Test
    void leaseCheckpointFlags() {
        ServerConfig defaults = ServerFlags.parse(new String[0]);
        assertTrue(defaults.leaseCheckpointEnabled(), "on by default, unlike etcd 3.4");
        assertEquals(java.time.Duration.ofMinutes(5), defaults.leaseCheckpointInterval());
        ServerConfig c = ServerFlags.parse(new String[] {
            "--experimental-enable-lease-checkpoint=false", "--experimental-lease-checkpoint-interval", "500ms"});
        assertEquals(false, c.leaseCheckpointEnabled());
        assertEquals(java.time.Duration.ofMillis(500), c.leaseCheckpointInterval());
        assertTrue(ServerFlags.parse(new String[] {"--experimental-enable-lease-checkpoint"}).leaseCheckpointEnabled());
        assertMessage("for flag --experimental-lease-checkpoint-interval", "--experimental-lease-checkpoint-interval=0s");
        assertMessage("for flag --experimental-lease-checkpoint-interval", "--experimental-lease-checkpoint-interval=5");
        assertMessage("for flag --experimental-enable-lease-checkpoint", "--experimental-enable-lease-checkpoint=maybe");
    }

    @Test
    void clientLimitFlags() {
        ClientLimits d = ServerFlags.parse(new String[0]).clientLimits();
        assertEquals(ClientLimits.DEFAULT, d);
        assertEquals(0xffff_ffffL, d.maxConcurrentStreams(), "etcd's math.MaxUint32");
        assertEquals(Integer.MAX_VALUE, d.maxConcurrentCallsPerConnection());
        assertEquals(java.time.Duration.ofSeconds(5), d.keepaliveMinTime());
        assertEquals(java.time.Duration.ofHours(2), d.keepaliveInterval());
        assertEquals(java.time.Duration.ofSeconds(20), d.keepaliveTimeout());
        ClientLimits c = ServerFlags.parse(new String[] {"--max-concurrent-streams=10", "--grpc-keepalive-min-time=0",
            "--grpc-keepalive-interval", "30s", "--grpc-keepalive-timeout=1s", "--max-watchers-per-stream=7",
            "--max-watchers-per-connection=9", "--max-watch-buffered-bytes=1048576"}).clientLimits();
        assertEquals(new ClientLimits(10, java.time.Duration.ZERO, java.time.Duration.ofSeconds(30),
                java.time.Duration.ofSeconds(1), 7, 9, 1 << 20), c);
        assertMessage("for flag --max-concurrent-streams", "--max-concurrent-streams=0");
        assertMessage("for flag --grpc-keepalive-interval", "--grpc-keepalive-interval=0s");
        assertMessage("for flag --grpc-keepalive-timeout", "--grpc-keepalive-timeout=x");
        assertMessage("for flag --max-watchers-per-stream", "--max-watchers-per-stream=-1");
        assertMessage("for flag --max-watch-buffered-bytes", "--max-watch-buffered-bytes=none");
    }

    @Test
    void mistakesNameTheFlag() {
        assertMessage("unknown flag --listen-peer-url", "--listen-peer-url", "x");
        assertMessage("flag --data-dir needs a value", "--data-dir");
        assertMessage("for flag --listen-client-urls", "--listen-client-urls=127.0.0.1:2379");
        assertMessage("for flag --listen-client-urls", "--listen-client-urls=unix://vigil.sock:0");
        assertMessage("TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379",
                "--listen-client-urls=https://127.0.0.1:2379");
        assertMessage("TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:2380",
                "--initial-advertise-peer-urls=https://127.0.0.1:2380", "--listen-peer-urls=https://127.0.0.1:2380");
        assertMessage("--cert-file and --key-file must be given together", "--cert-file=a.crt");
        assertMessage("for flag --tls-min-version", "--tls-min-version=TLS1.1");
        assertMessage("for flag --cipher-suites", "--cipher-suites=ECDHE-RSA-AES128-GCM-SHA256");
        assertMessage("--listen-client-urls mixes http:// and https://",
                "--listen-client-urls=http://127.0.0.1:1,https://127.0.0.1:2", "--cert-file=a", "--key-file=b");
        assertMessage("only http:// is supported here", "--listen-metrics-urls=https://127.0.0.1:2381");
        assertMessage("for flag --advertise-client-urls", "--advertise-client-urls", "http://h:1/path");
        assertMessage("for flag --max-request-bytes", "--max-request-bytes=lots");
        assertMessage("for flag --max-txn-ops", "--max-txn-ops=0");
        assertMessage("for flag --quota-backend-bytes", "--quota-backend-bytes=-5");
        assertMessage("quotaBackendBytes must be at least 1 MiB", "--quota-backend-bytes=1000");
        assertMessage("for flag --backend-batch-limit", "--backend-batch-limit=0");
        assertMessage("for flag --backend-batch-interval", "--backend-batch-interval=0s");
        assertMessage("unexpected argument \"stray\"", "stray");
    }

    @Test
    void clusterFlagsAreCheckedAsEtcdChecksThem() {
        ServerConfig alone = ServerFlags.parse(new String[] {"--name", "n1"});
        assertEquals(List.of("n1"), alone.members().names(), "no --initial-cluster: this member alone");
        assertEquals(List.of(), alone.listenPeerUrls(), "a member alone listens for no peers unless told to");
        ServerConfig three = ServerFlags.parse(new String[] {"--name", "b",
            "--initial-cluster", "a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3",
            "--initial-advertise-peer-urls", "http://127.0.0.1:2", "--initial-cluster-token", "t",
            "--heartbeat-interval", "50", "--election-timeout=500", "--snapshot-count", "10", "--pre-vote=false"});
        assertEquals(3, three.members().byId().size());
        assertEquals(List.of(URI.create("http://127.0.0.1:2")), three.listenPeerUrls());
        assertEquals(50, three.heartbeatIntervalMs());
        assertEquals(500, three.electionTimeoutMs());
        assertEquals(10, three.snapshotCount());
        assertEquals(false, three.preVote());
        assertEquals(true, ServerFlags.parse(new String[] {"--pre-vote"}).preVote());
        assertMessage("this member's name \"n4\" is not in --initial-cluster", "--name", "n4",
                "--initial-cluster", "n1=http://127.0.0.1:1,n2=http://127.0.0.1:2");
        assertMessage("--initial-cluster has n1=[http://127.0.0.1:1] but --initial-advertise-peer-urls is",
                "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:9");
        assertMessage("--initial-cluster: ", "--initial-cluster", "default");
        assertMessage("--initial-cluster-state must be \"new\" or \"existing\"", "--initial-cluster-state", "maybe");
        assertMessage("--election-timeout[300ms] should be at least as 5 times as --heartbeat-interval[100ms]",
                "--election-timeout", "300");
        assertMessage("for flag --pre-vote", "--pre-vote=perhaps");
    }

    /** The robustness harness's faults: off unless named, one name at a time, an unknown one refused. */
    @Test
    void testFaultsAreOffUnlessNamed() {
        TestFaults none = ServerFlags.parse(new String[0]).testFaults();
        assertSame(TestFaults.NONE, none);
        for (TestFaults.Fault f : TestFaults.Fault.values()) {
            assertFalse(none.isOn(f), f.flagName);
        }
        TestFaults stale = ServerFlags.parse(new String[] {"--experimental-test-fault=stale-linearizable-read"}).testFaults();
        assertTrue(stale.isOn(TestFaults.Fault.STALE_LINEARIZABLE_READ));
        assertFalse(stale.isOn(TestFaults.Fault.ACK_BEFORE_SYNC));
        assertEquals("watch-skip-revision",
                ServerFlags.parse(new String[] {"--experimental-test-fault", "watch-skip-revision"}).testFaults().name());
        assertEquals("ack-before-sync",
                ServerFlags.parse(new String[] {"--experimental-test-fault=ack-before-sync"}).testFaults().name());
        assertMessage("invalid value \"lose-everything\" for flag --experimental-test-fault: unknown test fault; one of "
                + "stale-linearizable-read, watch-skip-revision, ack-before-sync, hash-mismatch", "--experimental-test-fault=lose-everything");
        assertMessage("for flag --experimental-test-fault", "--experimental-test-fault=");
        assertMessage("flag --experimental-test-fault needs a value", "--experimental-test-fault");
    }

    /** etcd 3.4's parseCompactionRetention: off by default, a bare number is hours or revisions. */
    @Test
    void autoCompactionFlags() {
        assertNull(ServerFlags.parse(new String[0]).autoCompaction(), "off by default");
        assertNull(ServerFlags.parse(new String[] {"--auto-compaction-mode=revision", "--auto-compaction-retention=0"})
                .autoCompaction());
        assertNull(ServerFlags.parse(new String[] {"--auto-compaction-retention=0s"}).autoCompaction());
        CompactionPolicy hours = ServerFlags.parse(new String[] {"--auto-compaction-retention", "2"}).autoCompaction().at(0, 1);
        assertEquals("PT2H", hours.retention());
        assertEquals(java.time.Duration.ofMinutes(6), hours.tickInterval());
        CompactionPolicy minutes = ServerFlags.parse(new String[] {"--auto-compaction-retention=30m"}).autoCompaction().at(0, 1);
        assertEquals(java.time.Duration.ofMinutes(3), minutes.tickInterval());
        CompactionPolicy revisions = ServerFlags.parse(new String[] {
            "--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"}).autoCompaction().at(0, 1);
        assertEquals("1000 revisions", revisions.retention());
        assertEquals(java.time.Duration.ofMinutes(5), revisions.tickInterval());
        assertMessage("unsupported compaction mode hourly", "--auto-compaction-mode=hourly", "--auto-compaction-retention=1");
        assertMessage("whole number of revisions", "--auto-compaction-mode=revision", "--auto-compaction-retention=1h");
        assertMessage("not a duration", "--auto-compaction-retention=-1");
    }

    @Test
    void corruptCheckFlags() {
        ServerConfig defaults = ServerFlags.parse(new String[0]);
        assertFalse(defaults.initialCorruptCheck());
        assertEquals(java.time.Duration.ZERO, defaults.corruptCheckTime(), "off by default, as in etcd");
        ServerConfig c = ServerFlags.parse(new String[] {"--experimental-initial-corrupt-check", "--experimental-corrupt-check-time=3m"});
        assertTrue(c.initialCorruptCheck());
        assertEquals(java.time.Duration.ofMinutes(3), c.corruptCheckTime());
        assertEquals(java.time.Duration.ZERO, ServerFlags.parse(new String[] {"--experimental-corrupt-check-time=0s"}).corruptCheckTime());
        assertMessage("for flag --experimental-corrupt-check-time", "--experimental-corrupt-check-time=soon");
    }

    /** etcd's well-known ids of a member started with no cluster flags. */
    @Test
    void idsAreDerivedAsEtcdDerivesThem() {
        Members m = ServerFlags.parse(new String[0]).members();
        assertEquals(0x8e9e05c52164694dL, m.named("default").id());
        assertEquals(0xcdf818194e3a8c32L, m.clusterId());
    }

    private static void assertMessage(String expected, String... args) {
        ServerFlags.FlagException e = assertThrows(ServerFlags.FlagException.class, () -> ServerFlags.parse(args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
