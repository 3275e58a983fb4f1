package io.vigil.server;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vigil.consensus.node.PeerTransport;
import io.vigil.consensus.node.RaftNode;
import io.vigil.consensus.node.RaftPeerService;
import io.vigil.consensus.node.RaftStorage;
import io.vigil.consensus.raft.Config;
import io.vigil.consensus.raft.ConfState;
import io.vigil.proto.internal.PeerHello;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchHubThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One Vigil member: the revision log, the Raft node and its peer transport, the replicated write
 * path, the watch hub, the lease expiry loop, and the gRPC services on the client URLs. A member
 * alone is a one-member cluster; the same code runs it. Services not built yet (Auth, most of
 * Maintenance, membership changes) answer UNIMPLEMENTED.
 *
 * <p>Shutdown order: a leader hands leadership over; end the open client calls with UNAVAILABLE
 * (clients resume elsewhere) and stop the client transport; stop the lease expiry loop (nothing
 * more is proposed); stop the node and apply what it had committed; stop the peer transport;
 * stop the watch threads (nothing more is published); then close the store.
 */
public final class VigilServer implements AutoCloseable {
    /** The WAL's directory inside the data directory (LMDB's files sit beside it). */
    static final String WAL_DIR = "wal";
    static final System.Logger LOG = System.getLogger("vigil");

    private final RevLog revLog;
    private final Members.Member self;
    private final long clusterId;
    private final PrometheusMeterRegistry meters;
    private final WatchHubThreads watch;
    private final ReplicatedLog log;
    private final PeerTransport transport;
    private final LeaseForwarding leaseForwarding;
    private final LeaseExpiry leaseExpiry;
    private final OpenCalls openCalls;
    private final java.util.concurrent.ScheduledExecutorService leaderMonitor;
    private final MetricsEndpoint metrics;
    private final Server peerServer;
    private final Server grpc;
    private final long replayedEntries;
    private final long requestTimeoutMs;
    /** What a new leader adds to every lease's deadline (etcd extends by an election timeout). */
    private final java.time.Duration leaseExtension;

    private VigilServer(ServerConfig config, Consumer<Throwable> onFatal) throws IOException {
        config.conclude();
        Members members = config.members();
        self = members.named(config.name());
        clusterId = members.clusterId();
        ConfState conf = new ConfState(members.byId().keySet(), Set.of());
        Path walDir = config.dataDir().resolve(WAL_DIR);
        revLog = RevLog.open(new RevLogConfig().dataDir(config.dataDir()).mapSizeBytes(config.quotaBackendBytes()));
        RaftStorage storage = null;
        try {
            boolean fresh = revLog.committedIndex() == 0 && isEmptyDir(walDir);
            if (fresh && config.initialClusterState().equals("existing")) {
                throw new IllegalStateException("--initial-cluster-state existing: joining a running cluster"
                        + " (etcdctl member add) is not supported yet; start every member with \"new\"");
            }
            new MemberIdentity(clusterId, self.id(), self.name()).claim(config.dataDir(), fresh);
            storage = RaftStorage.open(walDir, conf, revLog.committedIndex());
            // before anything reads the head: the watch hub starts from it
            replayedEntries = ReplicatedLog.replay(revLog, storage, config.maxBatchEntries());
        } catch (RuntimeException e) {
            if (storage != null) {
                storage.close();
            }
            revLog.close();
            throw e;
        }
        long appliedIndex = storage.hardState().commit();
        requestTimeoutMs = config.requestTimeoutMs();
        leaseExtension = java.time.Duration.ofMillis(config.electionTimeoutMs());
        IdGenerator ids = new IdGenerator(self.id(), System.currentTimeMillis());
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // headers name the current term, which the node keeps; the node's log is made after the
        // watch hub that needs the headers, so the headers reach it through this one-slot holder
        ReplicatedLog[] logRef = new ReplicatedLog[1];
        ResponseHeaders headers = new ResponseHeaders(clusterId, self.id(), () -> logRef[0].node().term());
        watch = new WatchHubThreads(revLog, new WatchHub.Config().maxRequestBytes(config.maxRequestBytes()),
                headers::at, meters, config.watchProgressNotifyInterval());
        log = new ReplicatedLog(revLog, ids, appliedIndex, config.requestTimeoutMs(), config.backendBatchInterval(),
                config.backendBatchLimit(), config.snapshotCount(), onFatal, watch::published, this::leadershipChanged);
        logRef[0] = log;
        openCalls = new OpenCalls(() -> log.node().leaderId() != 0);
        // etcd's monitorLeader: once per election timeout, streams that require a leader end without one
        leaderMonitor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vigil-leader-monitor");
            t.setDaemon(true);
            return t;
        });
        Map<Long, URI> peerUrls = new TreeMap<>();
        members.byId().forEach((id, m) -> {
            if (id != self.id()) {
                peerUrls.put(id, m.peerUrls().get(0));
            }
        });
        PeerHello.Builder hello = PeerHello.newBuilder().setClusterId(clusterId).setMemberId(self.id()).setName(self.name());
        config.advertiseClientUrls().forEach(u -> hello.addClientUrls(u.toString()));
        transport = new PeerTransport(hello.build(), peerUrls);
        ClusterService cluster = new ClusterService(members, self.id(), config.advertiseClientUrls(), revLog, headers);
        RaftPeerService peerService = new RaftPeerService(clusterId, self.id(), cluster::introduced);
        leaseForwarding = new LeaseForwarding(members, config.requestTimeoutMs());
        LeaseService leases = new LeaseService(revLog, log, headers, ids, leaseForwarding);
        // before the node starts: checkpoints must be on before this member can become leader
        leaseExpiry = new LeaseExpiry(revLog.lessor(), log, log::isLeader, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT,
                config.leaseCheckpointEnabled() ? config.leaseCheckpointInterval() : null);
        Server peers = null;
        MetricsEndpoint endpoint = null;
        RaftNode node = null;
        try {
            NettyServerBuilder peerBuilder = listen(config.listenPeerUrls(), config.maxRequestBytes());
            if (peerBuilder != null) {
                peers = peerBuilder.addService(peerService).addService(new LeaseForwarding.Service(leases)).build().start();
            }
            Config raft = Config.builder()
                    .id(self.id())
                    .heartbeatTicks(1)
                    .electionTicks(config.electionTimeoutMs() / config.heartbeatIntervalMs())
                    .applied(appliedIndex)
                    .preVote(config.preVote())
                    .checkQuorum(true)
                    .randomSeed(new SecureRandom().nextLong())
                    .build();
            node = RaftNode.start(raft, storage, conf, transport, log::enqueue,
                    TimeUnit.MILLISECONDS.toNanos(config.heartbeatIntervalMs()), onFatal);
            transport.attach(node);
            peerService.attach(node);
            log.start(node);
            endpoint = new MetricsEndpoint(config.listenMetricsUrls(), meters);
            grpc = listen(config.listenClientUrls(), config.maxRequestBytes())
                    .intercept(openCalls)
                    .addService(new KvService(revLog, log, headers, config.maxRequestBytes(), config.maxTxnOps()))
                    .addService(WatchService.definition(watch.hub(), log::linearizableRead))
                    .addService(leases)
                    .addService(cluster)
                    .addService(new MaintenanceService(log, members, revLog, headers, config.dataDir()))
                    .build()
                    .start();
            leaseExpiry.start();
            leaderMonitor.scheduleWithFixedDelay(openCalls::endLeaderless, config.electionTimeoutMs(),
                    config.electionTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (IOException | RuntimeException e) {
            leaderMonitor.shutdownNow();
            leaseExpiry.close();
            if (endpoint != null) {
                endpoint.close();
            }
            if (node != null) {
                log.close();
            } else {
                storage.close();
            }
            if (peers != null) {
                peers.shutdownNow();
            }
            transport.close();
            leaseForwarding.close();
            watch.close();
            revLog.close();
            throw e;
        }
        peerServer = peers;
        metrics = endpoint;
    }

    /**
     * A server builder bound to {@code urls} (null when there are none), with etcd's message size
     * limit and keep-alive policy. Handlers never block: reads are memory-mapped lookups, writes
     * and watch requests only enqueue, so they run on the transport threads without a hand-off.
     */
    private static NettyServerBuilder listen(List<URI> urls, int maxRequestBytes) {
        NettyServerBuilder builder = null;
        for (URI url : urls) {
            InetSocketAddress address = Urls.address(url);
            builder = builder == null ? NettyServerBuilder.forAddress(address) : builder.addListenAddress(address);
        }
        if (builder == null) {
            return null;
        }
        return builder
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE,
                        (long) maxRequestBytes + ServerConfig.GRPC_OVERHEAD_BYTES))
                // etcd clients ping every few seconds; do not answer that with GOAWAY
                .permitKeepAliveTime(1, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .directExecutor();
    }

    private static boolean isEmptyDir(Path dir) throws UncheckedIOException {
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (var files = Files.list(dir)) {
            return files.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * On the apply thread, before the entries of the same Ready: a new leader gives every lease its
     * checkpointed remaining TTL (else its whole TTL) plus an election timeout (etcd's promote);
     * a member that stops leading stops checkpointing (etcd's demote).
     */
    private void leadershipChanged(boolean leader) {
        if (leader) {
            revLog.lessor().promote(leaseExtension);
        } else {
            revLog.lessor().demote();
        }
        LOG.log(System.Logger.Level.INFO, "{0} ({1}) {2} at term {3}", self.name(), Long.toHexString(self.id()),
                leader ? "became leader" : "is no longer leader", log.node().term());
    }

    /**
     * Starts a member. {@code onFatal} is told of a storage failure after which the member must not
     * go on serving (the process should exit).
     */
    public static VigilServer start(ServerConfig config, Consumer<Throwable> onFatal) {
        try {
            return new VigilServer(config, onFatal);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + config.listenClientUrls() + " or "
                    + config.listenPeerUrls() + ": " + e.getMessage(), e);
        }
    }

    /** The addresses actually bound (port 0 in a listen URL is replaced by the chosen port). */
    public List<InetSocketAddress> clientAddresses() {
        return addresses(grpc);
    }

    /** The addresses serving peers (none for a member alone that was given no peer URLs). */
    public List<InetSocketAddress> peerAddresses() {
        return peerServer == null ? List.of() : addresses(peerServer);
    }

    private static List<InetSocketAddress> addresses(Server server) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (SocketAddress a : server.getListenSockets()) {
            out.add((InetSocketAddress) a);
        }
        return out;
    }

    /** The addresses serving /metrics. */
    public List<InetSocketAddress> metricsAddresses() {
        return metrics.addresses();
    }

    public long currentRevision() {
        return revLog.currentRevision();
    }

    public long memberId() {
        return self.id();
    }

    public long clusterId() {
        return clusterId;
    }

    /** How many acknowledged requests the start applied again from the WAL (the store had not committed them). */
    public long replayedEntries() {
        return replayedEntries;
    }

    public void awaitTermination() throws InterruptedException {
        grpc.awaitTermination();
    }

    /**
     * Ends the open client calls with UNAVAILABLE and stops taking requests, stops expiring
     * leases, stops the node and applies what it had committed, then closes the store. The expiry
     * loop stops before the log closes, so it never proposes into a closed log.
     */
    @Override
    public void close() {
        leaderMonitor.shutdownNow();
        log.handOverLeadership(requestTimeoutMs);
        // the calls end with their status before the transport says goodbye (GOAWAY)
        openCalls.closeAll(Status.UNAVAILABLE.withDescription("etcdserver: server stopped"));
        grpc.shutdown();
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        grpc.shutdownNow();
        try {
            // a read still running on a transport thread must be out of LMDB before it is unmapped
            grpc.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leaseExpiry.close();
        metrics.close();
        log.close();
        if (peerServer != null) {
            peerServer.shutdownNow();
        }
        transport.close();
        leaseForwarding.close();
        watch.close();
        revLog.close();
    }
}
