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
    /** etcd's backend batch interval: the longest applied entries wait for the store's commit. */
    public static final java.time.Duration BACKEND_BATCH_INTERVAL_DEFAULT = java.time.Duration.ofMillis(100);
    /** etcd's backend batch limit: the store commits once this many entries wait for it. */
    public static final int BACKEND_BATCH_LIMIT_DEFAULT = 10_000;
    private java.time.Duration backendBatchInterval = BACKEND_BATCH_INTERVAL_DEFAULT;
    private int backendBatchLimit = BACKEND_BATCH_LIMIT_DEFAULT;

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
            ClientUrls.check(u);
        }
        for (URI u : advertiseClientUrls()) {
            ClientUrls.check(u);
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
            ClientUrls.check(u);
        }
        if (watchProgressNotifyInterval.isNegative() || watchProgressNotifyInterval.isZero()) {
            throw new IllegalArgumentException("the watch progress notify interval must be positive");
        }
        if (backendBatchInterval.isNegative() || backendBatchInterval.isZero()) {
            throw new IllegalArgumentException("the backend batch interval must be positive");
        }
        if (backendBatchLimit <= 0) {
            throw new IllegalArgumentException("backendBatchLimit must be positive, got " + backendBatchLimit);
        }
        if (maxBatchEntries <= 0) {
            throw new IllegalArgumentException("maxBatchEntries must be positive, got " + maxBatchEntries);
        }
        return this;
    }
}
