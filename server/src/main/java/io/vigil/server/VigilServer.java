package io.vigil.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vigil.consensus.wal.Wal;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchHubThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One Vigil member: the revision log, the write path, the watch hub, the lease expiry loop, and
 * the gRPC services on the client URLs. Services not built yet (Cluster, Maintenance, Auth) are
 * not registered, so gRPC answers their calls with UNIMPLEMENTED.
 *
 * <p>Shutdown order: stop the transport (no new requests, watch and keep-alive streams cancelled),
 * stop the lease expiry loop (nothing more is proposed), apply what was proposed, stop the watch
 * threads (nothing more is published), then close the store.
 */
public final class VigilServer implements AutoCloseable {
    /** The WAL's directory inside the data directory (LMDB's files sit beside it). */
    static final String WAL_DIR = "wal";

    private final RevLog revLog;
    private final PrometheusMeterRegistry meters;
    private final WatchHubThreads watch;
    private final Proposer proposer;
    private final LeaseExpiry leaseExpiry;
    private final MetricsEndpoint metrics;
    private final Server grpc;
    private final long replayedEntries;

    private VigilServer(ServerConfig config, Consumer<Throwable> onFatal) throws IOException {
        config.conclude();
        revLog = RevLog.open(new RevLogConfig().dataDir(config.dataDir()).mapSizeBytes(config.quotaBackendBytes()));
        Wal wal = null;
        try {
            wal = Wal.open(config.dataDir().resolve(WAL_DIR));
            // before anything reads the head: the watch hub starts from it
            replayedEntries = SingleNodeLog.replay(revLog, wal, config.maxBatchEntries());
        } catch (RuntimeException e) {
            if (wal != null) {
                wal.close();
            }
            revLog.close();
            throw e;
        }
        // single member: its id is the store's; the cluster id is derived from it
        long memberId = revLog.storeId();
        long clusterId = Long.rotateLeft(memberId * 0x9E3779B97F4A7C15L, 17) & Long.MAX_VALUE;
        ResponseHeaders headers = new ResponseHeaders(clusterId, memberId, 1);
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        watch = new WatchHubThreads(revLog, new WatchHub.Config().maxRequestBytes(config.maxRequestBytes()),
                headers::at, meters, config.watchProgressNotifyInterval());
        proposer = new SingleNodeLog(revLog, wal, config.maxBatchEntries(), config.backendBatchInterval(),
                config.backendBatchLimit(), onFatal, watch::published);
        // single member: always the leader, so it expires leases from the start
        leaseExpiry = new LeaseExpiry(revLog.lessor(), proposer, LeaseExpiry.REVOKES_PER_SECOND_DEFAULT);
        MetricsEndpoint endpoint = null;
        try {
            endpoint = new MetricsEndpoint(config.listenMetricsUrls(), meters);
            NettyServerBuilder builder = null;
            for (var url : config.listenClientUrls()) {
                InetSocketAddress address = ClientUrls.address(url);
                builder = builder == null ? NettyServerBuilder.forAddress(address) : builder.addListenAddress(address);
            }
            grpc = builder
                    .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE,
                            (long) config.maxRequestBytes() + ServerConfig.GRPC_OVERHEAD_BYTES))
                    // etcd clients ping every few seconds; do not answer that with GOAWAY
                    .permitKeepAliveTime(1, TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true)
                    // handlers never block: reads are memory-mapped lookups, writes and watch
                    // requests only enqueue, so they run on the transport threads without a hand-off
                    .directExecutor()
                    .addService(new KvService(revLog, proposer, headers, config.maxRequestBytes(), config.maxTxnOps()))
                    .addService(WatchService.definition(watch.hub()))
                    .addService(new LeaseService(revLog, proposer, headers,
                            new LeaseIds(memberId, System.currentTimeMillis())))
                    .build()
                    .start();
            leaseExpiry.start();
        } catch (IOException | RuntimeException e) {
            leaseExpiry.close();
            if (endpoint != null) {
                endpoint.close();
            }
            proposer.close();
            watch.close();
            revLog.close();
            throw e;
        }
        metrics = endpoint;
    }

    /**
     * Starts a member. {@code onFatal} is told of a storage failure after which the member must not
     * go on serving (the process should exit).
     */
    public static VigilServer start(ServerConfig config, Consumer<Throwable> onFatal) {
        try {
            return new VigilServer(config, onFatal);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + config.listenClientUrls() + ": " + e.getMessage(), e);
        }
    }

    /** The addresses actually bound (port 0 in a listen URL is replaced by the chosen port). */
    public List<InetSocketAddress> clientAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (SocketAddress a : grpc.getListenSockets()) {
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

    /** How many acknowledged entries the start applied again from the WAL (the store had not committed them). */
    public long replayedEntries() {
        return replayedEntries;
    }

    public void awaitTermination() throws InterruptedException {
        grpc.awaitTermination();
    }

    /**
     * Stops taking requests and expiring leases, applies what was already proposed, then closes
     * the store. The expiry loop stops before the proposer closes, so it never proposes into a
     * closed log.
     */
    @Override
    public void close() {
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
        proposer.close();
        watch.close();
        revLog.close();
    }
}
