package io.vigil.server;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Parses {@code serve}'s command line with etcd's flag names: {@code --flag=value},
 * {@code --flag value}, one or two dashes. Every mistake is reported naming the flag.
 */
final class ServerFlags {
    static final class FlagException extends RuntimeException {
        FlagException(String message) {
            super(message, null, false, false);
        }
    }

    private record Flag(String help, BiConsumer<ServerConfig, String> apply, boolean bool) {
        Flag(String help, BiConsumer<ServerConfig, String> apply) {
            this(help, apply, false);
        }
    }

    private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();

    static {
        FLAGS.put("name", new Flag("human-readable name for this member (default \"default\")",
                (c, v) -> c.name(v)));
        FLAGS.put("data-dir", new Flag("path to the data directory (default \"vigil.data\")",
                (c, v) -> c.dataDir(Path.of(v))));
        FLAGS.put("listen-client-urls", new Flag("URLs to listen on for client traffic (default \"http://127.0.0.1:2379\")",
                (c, v) -> c.listenClientUrls(Urls.parse(v))));
        FLAGS.put("listen-client-http-urls", new Flag(
                "URLs to serve the client HTTP endpoints on (JSON gateway, /health, /metrics, /version); when set, "
                        + "--listen-client-urls serve gRPC only (default: none, both on the client URLs)",
                (c, v) -> c.listenClientHttpUrls(Urls.parse(v))));
        FLAGS.put("advertise-client-urls", new Flag("client URLs to advertise (default: the listen URLs)",
                (c, v) -> c.advertiseClientUrls(Urls.parse(v))));
        FLAGS.put("max-request-bytes", new Flag("largest request of any kind accepted, in bytes (default 1572864)",
                (c, v) -> c.maxRequestBytes(positiveInt(v))));
        FLAGS.put("quota-backend-bytes", new Flag("most bytes the store may hold (default 8 GiB)",
                (c, v) -> c.quotaBackendBytes(positiveLong(v))));
        FLAGS.put("max-txn-ops", new Flag("most operations in one txn request (default 128)",
                (c, v) -> c.maxTxnOps(positiveInt(v))));
        FLAGS.put("auth-token", new Flag("\"simple\" or \"jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256,ttl=5m\" (default \"simple\")",
                (c, v) -> c.authToken(v)));
        FLAGS.put("auth-token-ttl", new Flag("seconds a simple token lasts since it was last used (default 300)",
                (c, v) -> c.authTokenTtl(java.time.Duration.ofSeconds(positiveInt(v)))));
        FLAGS.put("experimental-watch-progress-notify-interval", new Flag(
                "how often idle watchers with progress_notify get a progress response (default 10m)",
                (c, v) -> c.watchProgressNotifyInterval(goDuration(v))));
        FLAGS.put("experimental-enable-lease-checkpoint", new Flag(
                "the leader checkpoints remaining lease TTLs through the log, so a leader change or restart keeps them (default true)",
                (c, v) -> c.leaseCheckpointEnabled(bool(v)), true));
        FLAGS.put("experimental-lease-checkpoint-interval", new Flag(
                "how often the leader checkpoints a lease's remaining TTL (default 5m)",
                (c, v) -> c.leaseCheckpointInterval(goDuration(v))));
        FLAGS.put("backend-batch-interval", new Flag(
                "longest applied writes wait for the store's commit; the WAL holds them meanwhile (default 100ms)",
                (c, v) -> c.backendBatchInterval(goDuration(v))));
        FLAGS.put("backend-batch-limit", new Flag(
                "most applied writes waiting for the store's commit (default 10000)",
                (c, v) -> c.backendBatchLimit(positiveInt(v))));
        FLAGS.put("initial-cluster", new Flag(
                "initial cluster configuration, name=http://host:port,... (default: this member alone at its advertised peer URLs)",
                (c, v) -> c.initialCluster(v)));
        FLAGS.put("initial-cluster-state", new Flag("\"new\" to bootstrap a cluster, \"existing\" to join one (default \"new\")",
                (c, v) -> c.initialClusterState(v)));
        FLAGS.put("initial-cluster-token", new Flag("token of the cluster being bootstrapped; it seeds the ids (default \"etcd-cluster\")",
                (c, v) -> c.initialClusterToken(v)));
        FLAGS.put("listen-peer-urls", new Flag("URLs to listen on for peer traffic (default: the advertised peer URLs in a cluster of several, none alone)",
                (c, v) -> c.listenPeerUrls(Urls.parse(v))));
        FLAGS.put("initial-advertise-peer-urls", new Flag("this member's peer URLs to advertise to the cluster (default \"http://localhost:2380\")",
                (c, v) -> c.initialAdvertisePeerUrls(Urls.parse(v))));
        FLAGS.put("heartbeat-interval", new Flag("time of a heartbeat interval, in ms (default 100)",
                (c, v) -> c.heartbeatIntervalMs(positiveInt(v))));
        FLAGS.put("election-timeout", new Flag("time of an election timeout, in ms (default 1000)",
                (c, v) -> c.electionTimeoutMs(positiveInt(v))));
        FLAGS.put("snapshot-count", new Flag("applied entries kept in the Raft log before it is compacted (default 100000)",
                (c, v) -> c.snapshotCount(positiveLong(v))));
        FLAGS.put("experimental-snapshot-catchup-entries", new Flag(
                "entries a leader keeps below its store's applied index for followers that lag; one further behind is sent a snapshot (default 5000)",
                (c, v) -> c.snapshotCatchUpEntries(positiveLong(v))));
        FLAGS.put("pre-vote", new Flag("run Raft's pre-vote before an election (default true)",
                (c, v) -> c.preVote(bool(v)), true));
        FLAGS.put("listen-metrics-urls", new Flag("URLs to serve Prometheus metrics on, at /metrics (default: none)",
                (c, v) -> c.listenMetricsUrls(Urls.parse(v))));
        FLAGS.put("auto-compaction-mode", new Flag(
                "\"periodic\" (retention is a duration, a bare number of hours) or \"revision\" (retention is a number of revisions) (default \"periodic\")",
                (c, v) -> c.autoCompactionMode(v)));
        FLAGS.put("auto-compaction-retention", new Flag(
                "history the leader keeps when it compacts automatically; 0 turns auto-compaction off (default 0)",
                (c, v) -> c.autoCompactionRetention(v)));
        FLAGS.put("experimental-initial-corrupt-check", new Flag(
                "at start, compare this member's hash with the other members' and refuse to start on a difference (default false)",
                (c, v) -> c.initialCorruptCheck(bool(v)), true));
        FLAGS.put("experimental-corrupt-check-time", new Flag(
                "how often the leader compares the members' hashes and raises the CORRUPT alarm on a difference; 0 for never (default 0)",
                (c, v) -> c.corruptCheckTime(goDurationOrZero(v))));
        FLAGS.put("logger", new Flag("\"capnslog\" for text lines, \"zap\" for JSON lines (default \"capnslog\")",
                (c, v) -> c.logs(c.logs().withLogger(v))));
        FLAGS.put("log-level", new Flag("debug, info, warn or error (default \"info\")",
                (c, v) -> c.logs(c.logs().withLevel(v))));
        FLAGS.put("log-outputs", new Flag("comma-separated: default, stderr, stdout or file paths (default \"default\": stderr)",
                (c, v) -> c.logs(c.logs().withOutputs(v))));
        FLAGS.put("max-concurrent-streams", new Flag(
                "most concurrent calls (HTTP/2 streams) on one client connection (default 4294967295)",
                (c, v) -> c.clientLimits(c.clientLimits().withMaxConcurrentStreams(positiveLong(v)))));
        FLAGS.put("grpc-keepalive-min-time", new Flag(
                "shortest interval between a client's keepalive pings; more often gets GOAWAY (default 5s)",
                (c, v) -> c.clientLimits(c.clientLimits().withKeepaliveMinTime(goDurationOrZero(v)))));
        FLAGS.put("grpc-keepalive-interval", new Flag(
                "how long a client connection may be idle before the server pings it (default 2h)",
                (c, v) -> c.clientLimits(c.clientLimits().withKeepaliveInterval(goDuration(v)))));
        FLAGS.put("grpc-keepalive-timeout", new Flag(
                "how long the server waits for a ping's answer before closing the connection (default 20s)",
                (c, v) -> c.clientLimits(c.clientLimits().withKeepaliveTimeout(goDuration(v)))));
        FLAGS.put("max-watchers-per-stream", new Flag(
                "Vigil's own: most watchers on one watch stream; more are refused (default 100000)",
                (c, v) -> c.clientLimits(c.clientLimits().withMaxWatchersPerStream(positiveInt(v)))));
        FLAGS.put("max-watchers-per-connection", new Flag(
                "Vigil's own: most watchers on all watch streams of one client connection (default 1000000)",
                (c, v) -> c.clientLimits(c.clientLimits().withMaxWatchersPerConnection(positiveInt(v)))));
        FLAGS.put("max-watch-buffered-bytes", new Flag(
                "Vigil's own: most bytes of responses queued for all watch streams; beyond it slow streams catch up from the log instead (default 268435456)",
                (c, v) -> c.clientLimits(c.clientLimits().withMaxWatchBufferedBytes(positiveLong(v)))));
        tlsFlags();
        FLAGS.put(TestFaults.FLAG, new Flag(
                "TEST ONLY: break a guarantee on purpose, for the robustness harness: stale-linearizable-read, watch-skip-revision, ack-before-sync or hash-mismatch (default: none)",
                (c, v) -> c.testFault(v)));
    }

    private ServerFlags() {
    }

    /** etcd's TLS flags, for the client port and the peer port ({@link TlsSettings}). */
    private static void tlsFlags() {
        FLAGS.put("cert-file", new Flag("path to the client server TLS cert file",
                (c, v) -> c.tls(c.tls().withClient(c.tls().client().withCertFile(Path.of(v))))));
        FLAGS.put("key-file", new Flag("path to the client server TLS key file",
                (c, v) -> c.tls(c.tls().withClient(c.tls().client().withKeyFile(Path.of(v))))));
        FLAGS.put("trusted-ca-file", new Flag("path to the client server TLS trusted CA cert file; clients must present a certificate it signed",
                (c, v) -> c.tls(c.tls().withClient(c.tls().client().withTrustedCaFile(Path.of(v))))));
        FLAGS.put("client-cert-auth", new Flag("require a client certificate signed by --trusted-ca-file (default false)",
                (c, v) -> c.tls(c.tls().withClient(c.tls().client().withClientCertAuth(bool(v)))), true));
        FLAGS.put("peer-cert-file", new Flag("path to the peer server TLS cert file, also presented to peers as client certificate",
                (c, v) -> c.tls(c.tls().withPeer(c.tls().peer().withCertFile(Path.of(v))))));
        FLAGS.put("peer-key-file", new Flag("path to the peer server TLS key file",
                (c, v) -> c.tls(c.tls().withPeer(c.tls().peer().withKeyFile(Path.of(v))))));
        FLAGS.put("peer-trusted-ca-file", new Flag("path to the peer server TLS trusted CA file; peers must present a certificate it signed",
                (c, v) -> c.tls(c.tls().withPeer(c.tls().peer().withTrustedCaFile(Path.of(v))))));
        FLAGS.put("peer-client-cert-auth", new Flag("require a peer certificate signed by --peer-trusted-ca-file (default false)",
                (c, v) -> c.tls(c.tls().withPeer(c.tls().peer().withClientCertAuth(bool(v)))), true));
        FLAGS.put("cipher-suites", new Flag("comma-separated TLS 1.2 cipher suites for clients and peers, Go's (IANA) names (default: Java's)",
                (c, v) -> c.tls(c.tls().withCipherSuites(v))));
        FLAGS.put("tls-min-version", new Flag("minimum TLS version for clients and peers: TLS1.2 or TLS1.3 (default \"TLS1.2\")",
                (c, v) -> c.tls(c.tls().withMinVersion(v))));
    }

    static ServerConfig parse(String[] args) {
        ServerConfig config = new ServerConfig();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new FlagException("unexpected argument \"" + arg + "\": serve takes only flags");
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String name = body;
            String value = null;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                name = body.substring(0, eq);
                value = body.substring(eq + 1);
            }
            Flag flag = FLAGS.get(name);
            if (flag == null) {
                throw new FlagException("unknown flag --" + name + " (see vigil serve --help)");
            }
            if (value == null && flag.bool()) {
                value = "true";
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new FlagException("flag --" + name + " needs a value");
                }
                value = args[++i];
            }
            try {
                flag.apply().accept(config, value);
            } catch (IllegalArgumentException e) {
                throw new FlagException("invalid value \"" + value + "\" for flag --" + name + ": " + e.getMessage());
            }
        }
        try {
            return config.conclude();
        } catch (IllegalArgumentException e) {
            throw new FlagException(e.getMessage());
        }
    }

    static String usage() {
        StringBuilder sb = new StringBuilder("usage: vigil serve [flags]\n\nflags:\n");
        FLAGS.forEach((name, flag) -> sb.append(String.format("  --%-24s %s%n", name, flag.help())));
        return sb.toString();
    }

    private static final java.util.regex.Pattern GO_DURATION_PART =
            java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    /** A positive Go duration as etcd's flags take it: "10m", "100ms", "1h30m", "2.5s". */
    static java.time.Duration goDuration(String v) {
        java.time.Duration d = goDurationOrZero(v);
        if (d.isZero()) {
            throw new IllegalArgumentException("must be positive");
        }
        return d;
    }

    /** A Go duration, where 0 (or "0s") stands for "off". */
    static java.time.Duration goDurationOrZero(String v) {
        if (v.trim().equals("0")) {
            return java.time.Duration.ZERO;
        }
        String s = v.trim();
        java.util.regex.Matcher m = GO_DURATION_PART.matcher(s);
        double nanos = 0;
        int at = 0;
        while (at < s.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw new IllegalArgumentException("not a duration like 10m, 100ms or 1h30m");
        }
        return java.time.Duration.ofNanos((long) nanos);
    }

    private static boolean bool(String v) {
        return switch (v.trim()) {
            case "true", "1", "t", "T", "TRUE", "True" -> true;
            case "false", "0", "f", "F", "FALSE", "False" -> false;
            default -> throw new IllegalArgumentException("not true or false");
        };
    }

    private static long positiveLong(String v) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number");
        }
        if (n <= 0) {
            throw new IllegalArgumentException("must be positive");
        }
        return n;
    }

    private static int positiveInt(String v) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number");
        }
        if (n <= 0) {
            throw new IllegalArgumentException("must be positive");
        }
        return n;
    }
}
