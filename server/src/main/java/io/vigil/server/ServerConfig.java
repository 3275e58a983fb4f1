package io.vigil.server;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of a single Vigil member, named after etcd's flags. Validated once by
 * {@link #conclude()}; {@link ServerFlags} builds one from a command line.
 */
public final class ServerConfig {
    public static final String NAME_DEFAULT = "default";
    public static final Path DATA_DIR_DEFAULT = Path.of("vigil.data");
    public static final String CLIENT_URL_DEFAULT = "http://127.0.0.1:2379";
    /** etcd's --max-request-bytes default, 1.5 MiB. */
    public static final int MAX_REQUEST_BYTES_DEFAULT = 1536 * 1024;
    /** gRPC may carry this much beyond the request limit, as in etcd, so that the limit's own error is seen. */
    public static final int GRPC_OVERHEAD_BYTES = 512 * 1024;
    public static final int MAX_BATCH_ENTRIES_DEFAULT = 1024;

    private String name = NAME_DEFAULT;
    private Path dataDir = DATA_DIR_DEFAULT;
    private List<URI> listenClientUrls = List.of(URI.create(CLIENT_URL_DEFAULT));
    private List<URI> advertiseClientUrls;
    private int maxRequestBytes = MAX_REQUEST_BYTES_DEFAULT;
    private int maxTxnOps = io.vigil.revlog.RequestChecks.MAX_TXN_OPS_DEFAULT;
    private int maxBatchEntries = MAX_BATCH_ENTRIES_DEFAULT;
    private long quotaBackendBytes = io.vigil.revlog.RevLogConfig.MAP_SIZE_BYTES_DEFAULT;
    /** etcd's default progress_notify interval. */
    public static final java.time.Duration WATCH_PROGRESS_NOTIFY_INTERVAL_DEFAULT = java.time.Duration.ofMinutes(10);
    private java.time.Duration watchProgressNotifyInterval = WATCH_PROGRESS_NOTIFY_INTERVAL_DEFAULT;
    private List<URI> listenMetricsUrls = List.of();
    private List<URI> listenClientHttpUrls = List.of();
    /** etcd's backend batch interval: the longest applied entries wait for the store's commit. */
    public static final java.time.Duration BACKEND_BATCH_INTERVAL_DEFAULT = java.time.Duration.ofMillis(100);
    /** etcd's backend batch limit: the store commits once this many entries wait for it. */
    public static final int BACKEND_BATCH_LIMIT_DEFAULT = 10_000;
    private java.time.Duration backendBatchInterval = BACKEND_BATCH_INTERVAL_DEFAULT;
    private int backendBatchLimit = BACKEND_BATCH_LIMIT_DEFAULT;
    /** etcd's --experimental-lease-checkpoint-interval default. */
    public static final java.time.Duration LEASE_CHECKPOINT_INTERVAL_DEFAULT = java.time.Duration.ofMinutes(5);
    /** On by default, unlike etcd 3.4: a leader change keeps each lease's remaining TTL. */
    private boolean leaseCheckpointEnabled = true;
    private java.time.Duration leaseCheckpointInterval = LEASE_CHECKPOINT_INTERVAL_DEFAULT;

    // ---- the cluster, with etcd's flag names and defaults (pre-vote on, as etcd 3.5+) ----
    public static final String PEER_URL_DEFAULT = "http://localhost:2380";
    public static final String INITIAL_CLUSTER_TOKEN_DEFAULT = "etcd-cluster";
    public static final int HEARTBEAT_INTERVAL_MS_DEFAULT = 100;
    public static final int ELECTION_TIMEOUT_MS_DEFAULT = 1000;
    /** etcd's --snapshot-count default: applied entries kept in the log before it is compacted. */
    public static final long SNAPSHOT_COUNT_DEFAULT = 100_000;
    private String initialCluster;
    private String initialClusterState = "new";
    private String initialClusterToken = INITIAL_CLUSTER_TOKEN_DEFAULT;
    private List<URI> listenPeerUrls;
    private List<URI> initialAdvertisePeerUrls = List.of(URI.create(PEER_URL_DEFAULT));
    private int heartbeatIntervalMs = HEARTBEAT_INTERVAL_MS_DEFAULT;
    private int electionTimeoutMs = ELECTION_TIMEOUT_MS_DEFAULT;
    private long snapshotCount = SNAPSHOT_COUNT_DEFAULT;
    /** etcd's default: entries kept below a snapshot for followers that lag. */
    private long snapshotCatchUpEntries = 5000;
    private boolean preVote = true;
    private Members members;
    private TestFaults testFaults = TestFaults.NONE;
    private String autoCompactionMode = CompactionPolicy.PERIODIC;
    private String autoCompactionRetention = "0";
    /** Test knob: how often the revision mode compacts (etcd: every 5 minutes). */
    private java.time.Duration autoCompactionRevisionInterval = CompactionPolicy.Revisions.INTERVAL;
    private CompactionPolicy.Start autoCompaction;
    private boolean initialCorruptCheck;
    private java.time.Duration corruptCheckTime = java.time.Duration.ZERO;

    /** etcd's --auto-compaction-mode: "periodic" (the default) or "revision". */
    public ServerConfig autoCompactionMode(String mode) {
        this.autoCompactionMode = mode;
        return this;
    }

    /**
     * etcd's --auto-compaction-retention: in periodic mode a Go duration or a bare number of hours,
     * in revision mode a number of revisions; "0" (the default) turns auto-compaction off.
     */
    public ServerConfig autoCompactionRetention(String retention) {
        this.autoCompactionRetention = retention;
        return this;
    }

    /** Tests only: the revision mode compacts this often instead of every 5 minutes. */
    ServerConfig autoCompactionRevisionInterval(java.time.Duration interval) {
        this.autoCompactionRevisionInterval = interval;
        return this;
    }

    /** The auto-compaction asked for, or null when off; set by {@link #conclude()}. */
    CompactionPolicy.Start autoCompaction() {
        return autoCompaction;
    }

    /** etcd's --experimental-initial-corrupt-check: compare hashes with the other members at start. */
    public ServerConfig initialCorruptCheck(boolean check) {
        this.initialCorruptCheck = check;
        return this;
    }

    public boolean initialCorruptCheck() {
        return initialCorruptCheck;
    }

    /** etcd's --experimental-corrupt-check-time: how often the leader compares hashes; zero for never. */
    public ServerConfig corruptCheckTime(java.time.Duration interval) {
        this.corruptCheckTime = interval;
        return this;
    }

    public java.time.Duration corruptCheckTime() {
        return corruptCheckTime;
    }

    private ClientLimits clientLimits = ClientLimits.DEFAULT;

    /**
     * What one client may hold: etcd's --max-concurrent-streams and --grpc-keepalive-*, Vigil's
     * --max-watchers-per-stream, --max-watchers-per-connection and --max-watch-buffered-bytes.
     */
    public ServerConfig clientLimits(ClientLimits limits) {
        this.clientLimits = Objects.requireNonNull(limits);
        return this;
    }

    public ClientLimits clientLimits() {
        return clientLimits;
    }

    private LogSettings logs = LogSettings.DEFAULT;
    private TlsSettings tls = TlsSettings.NONE;

    /** etcd's TLS flags: --cert-file, --peer-cert-file, --cipher-suites and the rest. */
    ServerConfig tls(TlsSettings tls) {
        this.tls = tls;
        return this;
    }

    TlsSettings tls() {
        return tls;
    }

    /** etcd's --logger, --log-level and --log-outputs. */
    ServerConfig logs(LogSettings logs) {
        this.logs = logs;
        return this;
    }

    LogSettings logs() {
        return logs;
    }

    /**
     * Turns on one deliberately broken behaviour ({@link TestFaults}), for the robustness harness
     * only; an unknown name is refused.
     */
    public ServerConfig testFault(String name) {
        this.testFaults = TestFaults.named(name);
        return this;
    }

    /** The broken behaviour that is on: {@link TestFaults#NONE} unless one was asked for. */
    TestFaults testFaults() {
        return testFaults;
    }

    /** {@code name=http://host:port,...}; by default this member alone, at its advertised peer URLs. */
    public ServerConfig initialCluster(String initialCluster) {
        this.initialCluster = initialCluster;
        return this;
    }

    /** "new" to bootstrap a cluster, "existing" to join one. */
    public ServerConfig initialClusterState(String state) {
        this.initialClusterState = state;
        return this;
    }

    public String initialClusterState() {
        return initialClusterState;
    }

    public ServerConfig initialClusterToken(String token) {
        this.initialClusterToken = token;
        return this;
    }

    /**
     * Where to accept peer connections. When not given, a member of a one-member cluster listens
     * for none (so many can run side by side), a member of a larger cluster on its advertised
     * peer URLs.
     */
    public ServerConfig listenPeerUrls(List<URI> urls) {
        this.listenPeerUrls = List.copyOf(urls);
        return this;
    }

    public List<URI> listenPeerUrls() {
        if (listenPeerUrls != null) {
            return listenPeerUrls;
        }
        return members != null && members.byId().size() > 1 ? initialAdvertisePeerUrls : List.of();
    }

    public ServerConfig initialAdvertisePeerUrls(List<URI> urls) {
        this.initialAdvertisePeerUrls = List.copyOf(urls);
        return this;
    }

    public ServerConfig heartbeatIntervalMs(int ms) {
        this.heartbeatIntervalMs = ms;
        return this;
    }

    public int heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    public ServerConfig electionTimeoutMs(int ms) {
        this.electionTimeoutMs = ms;
        return this;
    }

    public int electionTimeoutMs() {
        return electionTimeoutMs;
    }

    public ServerConfig snapshotCount(long count) {
        this.snapshotCount = count;
        return this;
    }

    public long snapshotCount() {
        return snapshotCount;
    }

    /** etcd's --experimental-snapshot-catchup-entries. */
    public ServerConfig snapshotCatchUpEntries(long entries) {
        this.snapshotCatchUpEntries = entries;
        return this;
    }

    public long snapshotCatchUpEntries() {
        return snapshotCatchUpEntries;
    }

    public ServerConfig preVote(boolean preVote) {
        this.preVote = preVote;
        return this;
    }

    public boolean preVote() {
        return preVote;
    }

    /** The initial members, with etcd's ids; set by {@link #conclude()}. */
    Members members() {
        return members;
    }

    /** etcd's request timeout: 5 s plus two election timeouts. */
    long requestTimeoutMs() {
        return 5000L + 2L * electionTimeoutMs;
    }

    /** Checks the cluster flags as etcd does, naming the flag at fault. */
    private void concludeCluster() {
        if (!initialClusterState.equals("new") && !initialClusterState.equals("existing")) {
            throw new IllegalArgumentException("--initial-cluster-state must be \"new\" or \"existing\", got \""
                    + initialClusterState + "\"");
        }
        if (initialClusterToken.isEmpty()) {
            throw new IllegalArgumentException("--initial-cluster-token must not be empty");
        }
        for (URI u : initialAdvertisePeerUrls) {
            Urls.check(u);
        }
        if (listenPeerUrls != null) {
            for (URI u : listenPeerUrls) {
                Urls.check(u);
            }
        }
        if (heartbeatIntervalMs <= 0) {
            throw new IllegalArgumentException("--heartbeat-interval must be positive, got " + heartbeatIntervalMs);
        }
        if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
            throw new IllegalArgumentException("--election-timeout[" + electionTimeoutMs
                    + "ms] should be at least as 5 times as --heartbeat-interval[" + heartbeatIntervalMs + "ms]");
        }
        if (electionTimeoutMs > 50_000) {
            throw new IllegalArgumentException("--election-timeout[" + electionTimeoutMs + "ms] is too long, and should be set less than 50 seconds");
        }
        if (snapshotCount <= 0) {
            throw new IllegalArgumentException("--snapshot-count must be positive, got " + snapshotCount);
        }
        if (snapshotCatchUpEntries <= 0) {
            throw new IllegalArgumentException("--experimental-snapshot-catchup-entries must be positive, got " + snapshotCatchUpEntries);
        }
        String cluster = initialCluster;
        if (cluster == null) {
            StringBuilder sb = new StringBuilder();
            for (URI u : initialAdvertisePeerUrls) {
                sb.append(sb.length() == 0 ? "" : ",").append(name).append('=').append(u);
            }
            cluster = sb.toString();
        }
        try {
            members = Members.parse(cluster, initialClusterToken);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--initial-cluster: " + e.getMessage());
        }
        Members.Member self;
        try {
            self = members.named(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--initial-cluster: " + e.getMessage());
        }
        if (!new java.util.HashSet<>(self.peerUrls()).equals(new java.util.HashSet<>(initialAdvertisePeerUrls))) {
            throw new IllegalArgumentException("--initial-cluster has " + name + "=" + self.peerUrls()
                    + " but --initial-advertise-peer-urls is " + initialAdvertisePeerUrls);
        }
    }

    /**
     * The longest applied writes wait for the store's (LMDB's) commit; they are durable in the WAL
     * meanwhile. Shorter: smaller commits, more syncs. etcd's flag of the same name.
     */
    public ServerConfig backendBatchInterval(java.time.Duration interval) {
        this.backendBatchInterval = interval;
        return this;
    }

    public java.time.Duration backendBatchInterval() {
        return backendBatchInterval;
    }

    /** The store commits once this many applied entries wait for it. etcd's flag of the same name. */
    public ServerConfig backendBatchLimit(int limit) {
        this.backendBatchLimit = limit;
        return this;
    }

    public int backendBatchLimit() {
        return backendBatchLimit;
    }

    /**
     * Whether the leader checkpoints each lease's remaining TTL through the log, so that a new
     * leader (or a restart) continues from it instead of the whole TTL. etcd's
     * --experimental-enable-lease-checkpoint, whose default there is off.
     */
    public ServerConfig leaseCheckpointEnabled(boolean enabled) {
        this.leaseCheckpointEnabled = enabled;
        return this;
    }

    public boolean leaseCheckpointEnabled() {
        return leaseCheckpointEnabled;
    }

    /** How often the leader checkpoints a lease. etcd's --experimental-lease-checkpoint-interval. */
    public ServerConfig leaseCheckpointInterval(java.time.Duration interval) {
        this.leaseCheckpointInterval = interval;
        return this;
    }

    public java.time.Duration leaseCheckpointInterval() {
        return leaseCheckpointInterval;
    }

    /** How often watchers created with progress_notify get an empty response when idle. */
    public ServerConfig watchProgressNotifyInterval(java.time.Duration interval) {
        this.watchProgressNotifyInterval = interval;
        return this;
    }

    public java.time.Duration watchProgressNotifyInterval() {
        return watchProgressNotifyInterval;
    }

    /** Where to serve Prometheus metrics at /metrics (none by default). */
    public ServerConfig listenMetricsUrls(List<URI> urls) {
        this.listenMetricsUrls = List.copyOf(urls);
        return this;
    }

    public List<URI> listenMetricsUrls() {
        return listenMetricsUrls;
    }

    /**
     * etcd 3.5's --listen-client-http-urls: where the client HTTP endpoints (the JSON gateway,
     * /health, /metrics, /version, /livez, /readyz) are served, over TLS as the client URLs are.
     * Set, the client URLs serve gRPC alone; empty (the default), both on the client URLs.
     */
    public ServerConfig listenClientHttpUrls(List<URI> urls) {
        this.listenClientHttpUrls = List.copyOf(urls);
        return this;
    }

    public List<URI> listenClientHttpUrls() {
        return listenClientHttpUrls;
    }

    public ServerConfig name(String name) {
        this.name = name;
        return this;
    }

    public ServerConfig dataDir(Path dataDir) {
        this.dataDir = dataDir;
        return this;
    }

    /** Where to accept client connections: http://HOST:PORT, port 0 for any free port. */
    public ServerConfig listenClientUrls(List<URI> urls) {
        this.listenClientUrls = List.copyOf(urls);
        return this;
    }

    /** What to tell clients to connect to; defaults to the listen URLs. */
    public ServerConfig advertiseClientUrls(List<URI> urls) {
        this.advertiseClientUrls = List.copyOf(urls);
        return this;
    }

    public ServerConfig maxRequestBytes(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
        return this;
    }

    public ServerConfig maxTxnOps(int maxTxnOps) {
        this.maxTxnOps = maxTxnOps;
        return this;
    }

    /** Most entries written to the WAL in one write (one sync) and applied as one batch. */
    public ServerConfig maxBatchEntries(int maxBatchEntries) {
        this.maxBatchEntries = maxBatchEntries;
        return this;
    }

    /**
     * The most the store may hold (the LMDB map size); past it writes fail with etcd's
     * "database space exceeded". etcd's flag of the same name.
     */
    public ServerConfig quotaBackendBytes(long quotaBackendBytes) {
        this.quotaBackendBytes = quotaBackendBytes;
        return this;
    }

    public long quotaBackendBytes() {
        return quotaBackendBytes;
    }

    public String name() {
        return name;
    }

    public Path dataDir() {
        return dataDir;
    }

    public List<URI> listenClientUrls() {
        return listenClientUrls;
    }

    public List<URI> advertiseClientUrls() {
        return advertiseClientUrls == null ? listenClientUrls : advertiseClientUrls;
    }

    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    public int maxTxnOps() {
        return maxTxnOps;
    }

    public int maxBatchEntries() {
        return maxBatchEntries;
    }

    public ServerConfig conclude() {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dataDir, "dataDir");
        if (listenClientUrls.isEmpty()) {
            throw new IllegalArgumentException("at least one listen client URL is needed");
        }
        for (URI u : listenClientUrls) {
            Urls.check(u);
        }
        for (URI u : advertiseClientUrls()) {
            Urls.check(u);
        }
        for (URI u : listenClientHttpUrls) {
            Urls.check(u);
        }
        if (maxRequestBytes <= 0) {
            throw new IllegalArgumentException("maxRequestBytes must be positive, got " + maxRequestBytes);
        }
        if (maxTxnOps <= 0) {
            throw new IllegalArgumentException("maxTxnOps must be positive, got " + maxTxnOps);
        }
        if (quotaBackendBytes < (1 << 20)) {
            throw new IllegalArgumentException("quotaBackendBytes must be at least 1 MiB, got " + quotaBackendBytes);
        }
        for (URI u : listenMetricsUrls) {
            Urls.checkPlain(u);
        }
        if (watchProgressNotifyInterval.isNegative() || watchProgressNotifyInterval.isZero()) {
            throw new IllegalArgumentException("the watch progress notify interval must be positive");
        }
        if (backendBatchInterval.isNegative() || backendBatchInterval.isZero()) {
            throw new IllegalArgumentException("the backend batch interval must be positive");
        }
        if (leaseCheckpointInterval.isNegative() || leaseCheckpointInterval.isZero()) {
            throw new IllegalArgumentException("the lease checkpoint interval must be positive");
        }
        if (backendBatchLimit <= 0) {
            throw new IllegalArgumentException("backendBatchLimit must be positive, got " + backendBatchLimit);
        }
        if (maxBatchEntries <= 0) {
            throw new IllegalArgumentException("maxBatchEntries must be positive, got " + maxBatchEntries);
        }
        if (corruptCheckTime.isNegative()) {
            throw new IllegalArgumentException("--experimental-corrupt-check-time must not be negative");
        }
        autoCompaction = CompactionPolicy.parse(autoCompactionMode, autoCompactionRetention, autoCompactionRevisionInterval);
        concludeCluster();
        tls.check(listenClientUrls, listenClientHttpUrls, listenPeerUrls());
        return this;
    }

    // ---- auth: etcd's --auth-token and --auth-token-ttl ----

    private String authToken = "simple";
    private java.time.Duration authTokenTtl = java.time.Duration.ofSeconds(300);

    /** etcd's --auth-token: "simple", or "jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256,ttl=5m" (see {@link TokenProvider}). */
    public ServerConfig authToken(String option) {
        String type = option.split(",", 2)[0];
        if (!type.equals("simple") && !type.equals("jwt")) {
            throw new IllegalArgumentException("unknown token type " + type + " (simple or jwt)");
        }
        this.authToken = option;
        return this;
    }

    public String authToken() {
        return authToken;
    }

    /** How long a simple token lasts since it was last used (etcd's --auth-token-ttl, in seconds there). */
    public ServerConfig authTokenTtl(java.time.Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("the auth token TTL must be positive");
        }
        this.authTokenTtl = ttl;
        return this;
    }

    public java.time.Duration authTokenTtl() {
        return authTokenTtl;
    }
}
