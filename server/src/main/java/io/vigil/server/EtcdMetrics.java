package io.vigil.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vigil.consensus.node.PeerStats;
import io.vigil.consensus.node.RaftNode;
import io.vigil.consensus.raft.StateRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The server's metrics under etcd 3.4's names, labels and histogram buckets, so that etcd's
 * Grafana dashboard and Prometheus alerts (the etcd mixin) read a Vigil member unchanged. Each
 * value is measured where the thing happens: the WAL's fsync ({@link #walSync}), the store's
 * LMDB commit ({@link #backendCommit}), proposals in {@link ReplicatedLog}, leaders in
 * {@link RaftNode}, peer traffic through {@link PeerStats}; the gRPC metrics are
 * {@link GrpcMetrics}'. Names are given without the suffix Micrometer's Prometheus naming adds
 * ({@code _total} to counters, {@code _seconds} to timers), so the scrape shows etcd's.
 *
 * <p>One difference in kind: etcd exports {@code etcd_server_proposals_committed_total} and
 * {@code _applied_total} as gauges set to the Raft commit and applied indexes; here they are
 * counters of the same values (they only grow), which Prometheus' {@code rate} reads the same.
 */
final class EtcdMetrics implements PeerStats {
    /** etcd's disk histograms: 1 ms doubling to 8.192 s (prometheus.ExponentialBuckets(0.001, 2, 14)). */
    static final Duration[] DISK_BUCKETS = exponential(Duration.ofMillis(1), 14);
    /** etcd 3.4's peer round-trip histogram: 0.1 ms doubling to 3.2768 s (ExponentialBuckets(0.0001, 2, 16)). */
    static final Duration[] ROUND_TRIP_BUCKETS = exponential(Duration.ofNanos(100_000), 16);

    private final MeterRegistry registry;
    private final Supplier<RaftNode> node;
    private final ReplicatedLog log;
    private final Timer walFsync;
    private final Timer backendCommit;
    private final Map<Long, Counter> sentBytes = new ConcurrentHashMap<>();
    private final Map<Long, Counter> sentFailures = new ConcurrentHashMap<>();
    private final Map<Long, Counter> receivedBytes = new ConcurrentHashMap<>();
    private final Map<Long, Counter> receivedFailures = new ConcurrentHashMap<>();
    private final Map<Long, Timer> roundTrips = new ConcurrentHashMap<>();

    /**
     * <p>Micrometer holds what a gauge or function counter reads weakly (a collected one reads
     * NaN): gauges here hold theirs strongly, and the function counters read this object, which
     * the server keeps for as long as it runs (its peer transport holds it).
     *
     * @param node the member's Raft node (known once started)
     * @param storeFile LMDB's data file, whose size is the database's
     */
    EtcdMetrics(MeterRegistry registry, Supplier<RaftNode> node, ReplicatedLog log, Path storeFile, long quotaBytes) {
        this.registry = registry;
        this.node = node;
        this.log = log;
        walFsync = Timer.builder("etcd.disk.wal.fsync.duration")
                .description("The latency distributions of fsync called by WAL.")
                .serviceLevelObjectives(DISK_BUCKETS).register(registry);
        backendCommit = Timer.builder("etcd.disk.backend.commit.duration")
                .description("The latency distributions of commit called by backend.")
                .serviceLevelObjectives(DISK_BUCKETS).register(registry);
        Gauge.builder("etcd.server.has.leader", node, n -> n.get() != null && n.get().leaderId() != 0 ? 1 : 0)
                .description("Whether or not a leader exists. 1 is existence, 0 is not.").strongReference(true).register(registry);
        Gauge.builder("etcd.server.is.leader", node, n -> n.get() != null && n.get().role() == StateRole.LEADER ? 1 : 0)
                .description("Whether or not this member is a leader. 1 if is, 0 otherwise.").strongReference(true).register(registry);
        FunctionCounter.builder("etcd.server.leader.changes.seen", this, m -> m.fromNode(RaftNode::leaderChanges))
                .description("The number of leader changes seen.").register(registry);
        FunctionCounter.builder("etcd.server.proposals.committed", this, m -> m.fromNode(RaftNode::commitIndex))
                .description("The total number of consensus proposals committed.").register(registry);
        FunctionCounter.builder("etcd.server.proposals.applied", this, m -> m.log.appliedIndex())
                .description("The total number of consensus proposals applied.").register(registry);
        Gauge.builder("etcd.server.proposals.pending", log, ReplicatedLog::pendingProposals)
                .description("The current number of pending proposals to commit.").strongReference(true).register(registry);
        FunctionCounter.builder("etcd.server.proposals.failed", this, m -> m.log.failedProposals())
                .description("The total number of failed proposals seen.").register(registry);
        Gauge.builder("etcd.server.quota.backend.bytes", () -> quotaBytes)
                .description("Current backend storage quota size in bytes.").strongReference(true).register(registry);
        Gauge.builder("etcd.mvcc.db.total.size.in.bytes", storeFile, EtcdMetrics::sizeOf)
                .description("Total size of the underlying database physically allocated in bytes.").strongReference(true).register(registry);
        Gauge.builder("process.resident.memory.bytes", ResidentMemory::bytes)
                .description("Resident memory size in bytes.").strongReference(true).register(registry);
    }

    private double fromNode(java.util.function.ToLongFunction<RaftNode> read) {
        RaftNode n = node.get();
        return n == null ? 0 : read.applyAsLong(n);
    }

    /** For the WAL: each synced save's fdatasync, in nanoseconds. */
    LongConsumer walSync() {
        return nanos -> walFsync.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** For the store: each LMDB commit of applied entries, in nanoseconds. */
    LongConsumer backendCommit() {
        return nanos -> backendCommit.record(nanos, TimeUnit.NANOSECONDS);
    }

    // A peer's failure counter is made, at zero, with its first traffic: the mixin's
    // etcdMembersDown reads its rate, which needs the series before the first failure.

    @Override
    public void sent(long to, int bytes) {
        Counter c = sentBytes.get(to);
        if (c == null) {
            sentFailures(to);
            c = peerCounter(sentBytes, to, "etcd.network.peer.sent.bytes", "To", "The total number of bytes sent to peers.");
        }
        c.increment(bytes);
    }

    @Override
    public void sendFailed(long to) {
        sentFailures(to).increment();
    }

    private Counter sentFailures(long to) {
        return peerCounter(sentFailures, to, "etcd.network.peer.sent.failures", "To",
                "The total number of send failures from peers.");
    }

    @Override
    public void received(long from, int bytes) {
        Counter c = receivedBytes.get(from);
        if (c == null) {
            receiveFailures(from);
            c = peerCounter(receivedBytes, from, "etcd.network.peer.received.bytes", "From",
                    "The total number of bytes received from peers.");
        }
        c.increment(bytes);
    }

    @Override
    public void receiveFailed(long from) {
        receiveFailures(from).increment();
    }

    private Counter receiveFailures(long from) {
        return peerCounter(receivedFailures, from, "etcd.network.peer.received.failures", "From",
                "The total number of receive failures from peers.");
    }

    @Override
    public void roundTrip(long to, long nanos) {
        roundTrips.computeIfAbsent(to, id -> Timer.builder("etcd.network.peer.round.trip.time")
                .description("Round-Trip-Time histogram between peers.").tag("To", Long.toHexString(id))
                .serviceLevelObjectives(ROUND_TRIP_BUCKETS).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** etcd labels a peer with its member id in hex. */
    private Counter peerCounter(Map<Long, Counter> byPeer, long peer, String name, String label, String help) {
        Counter c = byPeer.get(peer);
        if (c != null) {
            return c;
        }
        Function<Long, Counter> make = id -> Counter.builder(name).description(help).tag(label, Long.toHexString(id))
                .register(registry);
        return byPeer.computeIfAbsent(peer, make);
    }

    private static double sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static Duration[] exponential(Duration start, int count) {
        Duration[] out = new Duration[count];
        for (int i = 0; i < count; i++) {
            out[i] = start.multipliedBy(1L << i);
        }
        return out;
    }

    /** The process's resident set, as Prometheus' process collector reads it (Linux's /proc/self/status). */
    static final class ResidentMemory {
        private ResidentMemory() {
        }

        static double bytes() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
                    }
                }
            } catch (IOException | RuntimeException e) {
                return Double.NaN;
            }
            return Double.NaN;
        }
    }
}
