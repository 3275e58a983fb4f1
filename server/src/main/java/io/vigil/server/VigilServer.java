package io.vigil.server;

import io.grpc.Server;
import io.grpc.ServerCredentials;
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
import io.vigil.proto.etcdserverpb.WatchGrpc;
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
 * path, the watch hub, the lease expiry loop, and the gRPC services on the client URLs (KV,
 * Watch, Lease, Cluster, Maintenance, Lock, Election, Auth). A member alone is a one-member
 * cluster; the same code runs it. Every client call passes {@link AuthCalls}, which finds its
 * caller for the services' and the applier's permission checks.
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
    private final Membership membership;
    private final long selfId;
    private final String selfName;
    private final long clusterId;
    private final PrometheusMeterRegistry meters;
    private final WatchHubThreads watch;
    private final ReplicatedLog log;
    private final PeerTransport transport;
    private final PeerChannels peerChannels;
    private final Snapshots snapshots;
    private final List<InetSocketAddress> clientAddresses;
    private final List<InetSocketAddress> peerAddresses;
    private volatile boolean restart;
    /** Peers a joining member learnt from the cluster, dialled until its own log has told it of them. */
    private final Map<Long, Membership.Member> joinPeers;
    private final LeaseExpiry leaseExpiry;
    private final CorruptionCheck corruptionCheck;
    /** Null when auto-compaction is off (the default). */
    private final AutoCompactor autoCompactor;
    private final TokenProvider tokens;
    private final AuthService authService;
    private final MemberPublisher publisher;
    private final OpenCalls openCalls;
    private final java.util.concurrent.ScheduledExecutorService leaderMonitor;
    private final MetricsEndpoint metrics;
    private final ClientPortHttp clientHttp;
    /** gRPC health and reflection on the client port. */
    private final GrpcDiscovery discovery = new GrpcDiscovery();
    private final Server peerServer;
    private final Server grpc;
    private final long replayedEntries;
    private final long requestTimeoutMs;
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Set once the member stops by itself (removed, or restarting to install a snapshot): it does so once. */
    private final java.util.concurrent.atomic.AtomicBoolean stoppingByItself = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    /**
     * Counted down when the constructor has built everything ({@link #built}) or cleaned up after
     * failing. A member that stops by itself (a snapshot arrived, or it was removed) may learn so
     * on a peer thread while its constructor still runs; it stops only after this.
     */
    private final java.util.concurrent.CountDownLatch constructed = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean built;
    /** What a new leader adds to every lease's deadline (etcd extends by an election timeout). */
    private final java.time.Duration leaseExtension;

    private VigilServer(ServerConfig config, Consumer<Throwable> onFatal) throws IOException {
        config.conclude();
        config.testFaults().warnIfOn();
        TlsContexts tls = new TlsContexts(config.tls());
        Path walDir = config.dataDir().resolve(WAL_DIR);
        Snapshots.installStaged(config.dataDir(), walDir);
        revLog = RevLog.open(new RevLogConfig().dataDir(config.dataDir()).mapSizeBytes(Quota.mapSizeFor(config.quotaBackendBytes())));
        RaftStorage storage = null;
        MemberStart start;
        try {
            // before the replay: the Authenticate entries it applies again assign tokens
            tokens = TokenProvider.parse(config.authToken(), config.authTokenTtl(), revLog.auth());
            revLog.auth().tokens(tokens);
            start = MemberStart.decide(config, revLog.committedIndex() == 0 && isEmptyDir(walDir), tls::toPeer);
            membership = start.membership();
            if (membership.isRemoved(start.memberId())) {
                throw new IllegalStateException("the member has been permanently removed from the cluster");
            }
            storage = RaftStorage.open(walDir, membership::confAt, revLog.committedIndex());
            // before anything reads the head: the watch hub starts from it
            replayedEntries = ReplicatedLog.replay(revLog, membership, storage, config.maxBatchEntries());
            long commit = storage.hardState().commit();
            if (!membership.confAt(commit).equals(storage.memory().snapshot().confState())) {
                // the replay applied membership changes the store had not seen: the node must
                // start from the configuration they make
                storage.close();
                storage = RaftStorage.open(walDir, membership::confAt, revLog.committedIndex());
            }
        } catch (RuntimeException e) {
            if (storage != null) {
                storage.close();
            }
            revLog.close();
            throw e;
        }
        selfId = start.memberId();
        selfName = config.name();
        clusterId = start.clusterId();
        ConfState conf = storage.memory().snapshot().confState();
        long appliedIndex = storage.hardState().commit();
        requestTimeoutMs = config.requestTimeoutMs();
        leaseExtension = java.time.Duration.ofMillis(config.electionTimeoutMs());
        IdGenerator ids = new IdGenerator(selfId, System.currentTimeMillis());
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // headers name the current term, which the node keeps; the node's log is made after the
        // watch hub that needs the headers, so the headers reach it through this one-slot holder
        ReplicatedLog[] logRef = new ReplicatedLog[1];
        ResponseHeaders headers = new ResponseHeaders(clusterId, selfId, () -> logRef[0].node().term());
        ClientLimits limits = config.clientLimits();
        watch = new WatchHubThreads(revLog, new WatchHub.Config().maxRequestBytes(config.maxRequestBytes())
                        .maxWatchersPerStream(limits.maxWatchersPerStream())
                        .maxWatchersPerConnection(limits.maxWatchersPerConnection())
                        .maxBufferedBytes(limits.maxWatchBufferedBytes()),
                headers::at, meters, config.watchProgressNotifyInterval());
        joinPeers = start.peers();
        log = new ReplicatedLog(revLog, membership, this::membershipChanged, ids, appliedIndex, config, onFatal,
                config.testFaults().watchFeed(watch::published), this::leadershipChanged);
        logRef[0] = log;
        EtcdMetrics etcdMetrics = new EtcdMetrics(meters, log::node, log, config.dataDir().resolve("data.mdb"),
                config.quotaBackendBytes());
        storage.onWalSync(etcdMetrics.walSync());
        revLog.onCommit(etcdMetrics.backendCommit());
        GrpcMetrics grpcMetrics = new GrpcMetrics(meters);
        // a JSON request's body: base64 makes the largest gRPC request 4/3 as long, and room for the rest
        clientHttp = new ClientPortHttp(meters::scrape, (int) Math.min(Integer.MAX_VALUE, 2L * config.maxRequestBytes() + (1 << 20)));
        openCalls = new OpenCalls(this::hasLeader);
        // etcd's monitorLeader: once per election timeout, streams that require a leader end without one
        leaderMonitor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-leader-monitor"));
        transport = new PeerTransport(PeerHello.newBuilder().setClusterId(clusterId).setMemberId(selfId).build(), peerUrls(),
                tls::toPeer);
        peerChannels = new PeerChannels(this::peerUrl, tls::toPeer);
        ClusterService cluster = new ClusterService(membership, selfId, selfName, config.advertiseClientUrls(), revLog,
                headers, log, peerChannels, config.requestTimeoutMs());
        RaftPeerService peerService = new RaftPeerService(clusterId, selfId, membership::isRemoved);
        transport.stats(etcdMetrics);
        peerService.stats(etcdMetrics);
        publisher = new MemberPublisher(membership, log, selfId, selfName, config.advertiseClientUrls());
        transport.onRemoved(this::removed);
        snapshots = new Snapshots(config.dataDir(), revLog, membership, clusterId, selfId, peerChannels, log::node,
                this::restartForSnapshot);
        transport.snapshotSender(snapshots::send);
        LeaseForwarding leaseForwarding = new LeaseForwarding(peerChannels, config.requestTimeoutMs());
        AlarmRaiser alarms = new AlarmRaiser(log);
        Quota quota = new Quota(config.quotaBackendBytes(), revLog, alarms, selfId);
        LeaseService leases = new LeaseService(revLog, log, headers, ids, leaseForwarding, quota);
        authService = new AuthService(revLog, log, log::linearizableRead, headers, tokens);
        LocalKv localKv = new LocalKv(revLog, log, log::linearizableRead, watch.hub(), headers, leases::proposeGrant);
        // before the node starts: checkpoints must be on before this member can become leader
        leaseExpiry = new LeaseExpiry(revLog.lessor(), log, log::isLeader, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT,
                config.leaseCheckpointEnabled() ? config.leaseCheckpointInterval() : null);
        corruptionCheck = new CorruptionCheck(revLog, config.testFaults(), membership, selfId, log::isLeader,
                alarms, config.requestTimeoutMs(), tls::toClientUrl);
        autoCompactor = config.autoCompaction() == null ? null : new AutoCompactor(config.autoCompaction(), log,
                revLog::currentRevision, log::isLeader, config.requestTimeoutMs());
        Server peers = null;
        MetricsEndpoint endpoint = null;
        RaftNode node = null;
        try {
            NettyServerBuilder peerBuilder = listen(config.listenPeerUrls(), peerMessageBytes(config.maxRequestBytes()),
                    tls.peerPort());
            if (peerBuilder != null) {
                // members ping each other every few seconds; do not answer that with GOAWAY
                peers = peerBuilder.permitKeepAliveTime(1, TimeUnit.SECONDS)
                        .addService(peerService).addService(new LeaseForwarding.Service(leases))
                        .addService(cluster.new Peer()).addService(snapshots.new Receiver()).build().start();
            }
            if (config.initialCorruptCheck()) {
                // etcd checks before its server starts: a member that diverged never takes part
                corruptionCheck.checkAtStart();
            }
            Config raft = Config.builder()
                    .id(selfId)
                    .heartbeatTicks(1)
                    .electionTicks(config.electionTimeoutMs() / config.heartbeatIntervalMs())
                    .applied(appliedIndex)
                    .preVote(config.preVote())
                    .checkQuorum(true)
                    .maxSizePerMsgBytes(Config.MAX_SIZE_PER_MSG_BYTES_DEFAULT)
                    .randomSeed(new SecureRandom().nextLong())
                    .build();
            node = RaftNode.start(raft, storage, conf, transport, log::enqueue,
                    TimeUnit.MILLISECONDS.toNanos(config.heartbeatIntervalMs()), onFatal);
            transport.attach(node);
            peerService.attach(node);
            log.start(node);
            endpoint = new MetricsEndpoint(config.listenMetricsUrls(), meters);
            List<io.grpc.ServerServiceDefinition> clientServices = List.of(
                    // every client service answers what is not a request as etcd's gRPC does
                    EtcdDecoding.of(new KvService(revLog, log, log::linearizableRead, log::isLeader, headers,
                            config.maxTxnOps(), config.testFaults(), quota)),
                    EtcdDecoding.of(WatchService.definition(watch.hub(), log::linearizableRead, revLog.auth(),
                            grpcMetrics.sentCounter(WatchGrpc.getWatchMethod()))),
                    EtcdDecoding.of(leases),
                    EtcdDecoding.of(cluster),
                    EtcdDecoding.of(new MaintenanceService(log, membership, revLog, headers, config.dataDir(),
                            config.testFaults())),
                    EtcdDecoding.of(new LockService(localKv)),
                    EtcdDecoding.of(new ElectionService(localKv)),
                    EtcdDecoding.of(authService));
            List<io.grpc.ServerInterceptor> interceptors = List.of(
                    new AuthCalls(revLog.auth(), tokens), // after the learner check, as etcd's
                    new LearnerCalls(this::isLearner),
                    openCalls,
                    grpcMetrics); // the last added runs first: it sees every call, refused ones too
            // the JSON gateway calls the same services behind the same interceptors
            clientHttp.serve(new HealthEndpoints(revLog::alarms, this::hasLeader, log::linearizableRead,
                            revLog::currentRevision, config.requestTimeoutMs()),
                    new GatewayCalls(clientServices, interceptors, maxMessageBytes(config.maxRequestBytes())));
            boolean httpApart = !config.listenClientHttpUrls().isEmpty();
            NettyServerBuilder client = clientLimits(listen(config.listenClientUrls(), config.maxRequestBytes(),
                    tls.clientPort(clientHttp, !httpApart)), limits);
            interceptors.forEach(client::intercept);
            clientServices.forEach(client::addService);
            discovery.services().forEach(client::addService);
            if (httpApart) {
                // before gRPC starts: a failure here leaves nothing of the client port behind (clientHttp.close)
                clientHttp.listen(config.listenClientHttpUrls(), tls.clientHttp());
            }
            grpc = client.build().start();
            discovery.serving(clientServices, hasLeader());
            grpcMetrics.initialize(grpc.getServices());
            leaseExpiry.start();
            publisher.start();
            corruptionCheck.start(config.corruptCheckTime());
            if (autoCompactor != null) {
                autoCompactor.start();
            }
            // the health service's statuses follow the leader within a heartbeat
            leaderMonitor.scheduleWithFixedDelay(() -> discovery.leader(hasLeader()), config.heartbeatIntervalMs(),
                    config.heartbeatIntervalMs(), TimeUnit.MILLISECONDS);
            leaderMonitor.scheduleWithFixedDelay(openCalls::endLeaderless, config.electionTimeoutMs(),
                    config.electionTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (IOException | RuntimeException e) {
            leaderMonitor.shutdownNow();
            authService.close();
            leaseExpiry.close();
            publisher.close();
            corruptionCheck.close();
            if (autoCompactor != null) {
                autoCompactor.close();
            }
            clientHttp.close();
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
            snapshots.close();
            peerChannels.close();
            watch.close();
            revLog.close();
            constructed.countDown();
            throw e;
        }
        peerServer = peers;
        metrics = endpoint;
        // as bound, kept: a member may stop (restart for a snapshot) before its start is reported
        clientAddresses = List.copyOf(addresses(grpc));
        peerAddresses = peers == null ? List.of() : List.copyOf(addresses(peers));
        built = true;
        constructed.countDown();
        if (start.joined()) {
            publisher.awaitPublished(MemberStart.JOIN_TIMEOUT_MS);
        }
    }

    /**
     * A server builder bound to {@code urls} (null when there are none), with etcd's message size
     * limit. Handlers never block: reads are memory-mapped lookups, writes
     * and watch requests only enqueue, so they run on the transport threads without a hand-off.
     */
    private static NettyServerBuilder listen(List<URI> urls, int maxRequestBytes, ServerCredentials credentials) {
        NettyServerBuilder builder = null;
        for (URI url : urls) {
            InetSocketAddress address = Urls.address(url);
            builder = builder == null ? NettyServerBuilder.forAddress(address, credentials) : builder.addListenAddress(address);
        }
        if (builder == null) {
            return null;
        }
        return builder
                .maxInboundMessageSize(maxMessageBytes(maxRequestBytes))
                .permitKeepAliveWithoutCalls(true)
                .directExecutor();
    }

    /**
     * What the peer port takes of an entry whatever this member's own --max-request-bytes: the
     * largest value etcd recommends for that flag (it warns above it). Members may differ in the
     * flag (it is raised one member at a time in a rolling restart), and an entry holds one
     * request of up to its proposer's limit; etcd's peer streams take far larger messages than its
     * client port.
     */
    static final int PEER_ENTRY_BYTES = 10 << 20;

    /**
     * The largest message one member sends another, before gRPC's framing, which the peer port
     * must take: an append carries up to Raft's per-message bound of entries or one larger entry
     * (up to the larger of {@link #PEER_ENTRY_BYTES} and this member's request limit), a snapshot
     * one chunk. {@link #listen} adds gRPC's framing allowance, which covers their envelopes.
     */
    private static int peerMessageBytes(int maxRequestBytes) {
        return (int) Math.max(Math.max(maxRequestBytes, PEER_ENTRY_BYTES),
                Math.max(Config.MAX_SIZE_PER_MSG_BYTES_DEFAULT, Snapshots.CHUNK_BYTES));
    }

    /** The largest gRPC message the ports take: etcd's request limit and gRPC's framing. */
    private static int maxMessageBytes(int maxRequestBytes) {
        return (int) Math.min(Integer.MAX_VALUE, (long) maxRequestBytes + ServerConfig.GRPC_OVERHEAD_BYTES);
    }

    private boolean hasLeader() {
        return log.node().leaderId() != 0;
    }

    /**
     * The client port's limits, as etcd sets them on its gRPC server: SETTINGS_MAX_CONCURRENT_STREAMS,
     * and keepalive enforcement (a client pinging more often than the minimum time gets GOAWAY
     * ENHANCE_YOUR_CALM "too_many_pings"). Unlike etcd, pings without calls open are held to the
     * same minimum (etcd: 2 h), so an idle jetcd client, pinging every 30 s, is not sent away.
     */
    private static NettyServerBuilder clientLimits(NettyServerBuilder builder, ClientLimits limits) {
        return builder
                .maxConcurrentCallsPerConnection(limits.maxConcurrentCallsPerConnection())
                .permitKeepAliveTime(limits.keepaliveMinTime().toNanos(), TimeUnit.NANOSECONDS)
                .keepAliveTime(limits.keepaliveInterval().toNanos(), TimeUnit.NANOSECONDS)
                .keepAliveTimeout(limits.keepaliveTimeout().toNanos(), TimeUnit.NANOSECONDS);
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

    private boolean isLearner() {
        Membership.Member m = membership.member(selfId);
        return m != null && m.learner();
    }

    /** A member's peer URL: as the membership has it, or as a joining member learnt it from the cluster. */
    private URI peerUrl(long id) {
        Membership.Member m = membership.member(id);
        if (m == null && !membership.isRemoved(id)) {
            m = joinPeers.get(id);
        }
        return m == null ? null : m.peerUrls().get(0);
    }

    /** Every other member's peer URL, for the transport. */
    private Map<Long, URI> peerUrls() {
        Set<Long> ids = new java.util.HashSet<>(joinPeers.keySet());
        ids.addAll(membership.members().keySet());
        Map<Long, URI> out = new TreeMap<>();
        for (Long id : ids) {
            URI u = peerUrl(id);
            if (id != selfId && u != null) {
                out.put(id, u);
            }
        }
        return out;
    }

    /**
     * On the apply thread, after a membership change took effect: the transport follows it, the
     * publisher looks whether this member now has to publish; a member that was removed stops
     * (etcd: "the member has been permanently removed").
     */
    private void membershipChanged() {
        transport.setPeers(peerUrls());
        publisher.poke();
        if (membership.isRemoved(selfId)) {
            removed();
        }
    }

    /** A snapshot from the leader is staged: the member stops, and starts again to install it. */
    private void restartForSnapshot() {
        if (stoppingByItself.compareAndSet(false, true)) {
            restart = true;
            closeOnceBuilt("vigil-snapshot-restart");
        }
    }

    /** Whether the member stopped to start again at once (to install a snapshot), not for good. */
    public boolean restartRequested() {
        return restart;
    }

    /** This member was removed (it applied its removal, or a peer said so): it stops, once. */
    private void removed() {
        if (stoppingByItself.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "the member has been permanently removed from the cluster; stopping");
            closeOnceBuilt("vigil-removed");
        }
    }

    /**
     * Stops the member on a thread of its own (stopping waits for the apply thread and the
     * transport, which may be the caller), once the constructor is done; nothing when the
     * constructor failed, since it closed what it had opened.
     */
    private void closeOnceBuilt(String threadName) {
        new Thread(() -> {
            try {
                constructed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (built) {
                close();
            }
        }, threadName).start();
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
        LOG.log(System.Logger.Level.INFO, "{0} ({1}) {2} at term {3}", selfName, Long.toHexString(selfId),
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
        return clientAddresses;
    }

    /** The addresses serving peers (none for a member alone that was given no peer URLs). */
    public List<InetSocketAddress> peerAddresses() {
        return peerAddresses;
    }

    private static List<InetSocketAddress> addresses(Server server) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (SocketAddress a : server.getListenSockets()) {
            out.add((InetSocketAddress) a);
        }
        return out;
    }

    /** The services on the client URLs, as registered (for tests that go through every method). */
    java.util.List<io.grpc.ServerServiceDefinition> clientServices() {
        return grpc.getServices();
    }

    /** The addresses serving the client HTTP endpoints apart from gRPC (--listen-client-http-urls; none without). */
    public List<InetSocketAddress> clientHttpAddresses() {
        return clientHttp.httpAddresses();
    }

    /** The addresses serving /metrics. */
    public List<InetSocketAddress> metricsAddresses() {
        return metrics.addresses();
    }

    public long currentRevision() {
        return revLog.currentRevision();
    }

    public long memberId() {
        return selfId;
    }

    public long clusterId() {
        return clusterId;
    }

    /** How many acknowledged requests the start applied again from the WAL (the store had not committed them). */
    public long replayedEntries() {
        return replayedEntries;
    }

    /** Waits until the member has stopped: closed, or removed from the cluster. */
    public void awaitTermination() throws InterruptedException {
        stopped.await();
    }

    /**
     * Ends the open client calls with UNAVAILABLE and stops taking requests, stops expiring
     * leases and publishing, stops the node and applies what it had committed, then closes the
     * store. The expiry loop and the publisher stop before the log closes, so neither proposes
     * into a closed log.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            try {
                stopped.await(60, TimeUnit.SECONDS); // the close under way, on another thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        leaderMonitor.shutdownNow();
        log.handOverLeadership(requestTimeoutMs);
        // the calls end with their status before the transport says goodbye (GOAWAY)
        discovery.stopping();
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
        publisher.close();
        corruptionCheck.close();
        if (autoCompactor != null) {
            autoCompactor.close();
        }
        authService.close();
        metrics.close();
        clientHttp.close();
        log.close();
        if (peerServer != null) {
            peerServer.shutdownNow();
            try {
                // a restart in this process (to install a snapshot) binds the same port again
                peerServer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        transport.close();
        snapshots.close();
        peerChannels.close();
        watch.close();
        revLog.close();
        stopped.countDown();
    }
}
