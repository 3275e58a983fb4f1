package io.vigil.server;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;

import io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector;
import java.net.InetSocketAddress;

/** The {@code vigil} command line: {@code vigil serve [flags]}, and the offline {@link OfflineCommands}. */
public final class Main {
    /** The system property that sets Netty's leak detection level in grpc-java's shaded Netty. */
    static final String LEAK_DETECTION_PROPERTY = "io.grpc.netty.shaded.io.netty.leakDetection.level";

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        // until the flags say otherwise, etcd's default: capnslog lines at info on stderr
        Logs.configure(LogSettings.DEFAULT);
        if (args.length > 0 && OfflineCommands.handles(args[0])) {
            try {
                OfflineCommands.run(args, System.out);
            } catch (ServerFlags.FlagException e) {
                VigilServer.LOG.log(ERROR, e.getMessage());
                System.exit(2);
            } catch (RuntimeException e) {
                VigilServer.LOG.log(ERROR, args[0] + (args.length > 1 && !args[1].startsWith("-") ? " " + args[1] : "") + ": " + e.getMessage());
                System.exit(1);
            }
            return;
        }
        String[] rest = args;
        if (args.length > 0 && args[0].equals("serve")) {
            rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        } else if (args.length > 0 && !args[0].startsWith("-")) {
            VigilServer.LOG.log(ERROR, "unknown command \"" + args[0] + "\"\n\n" + ServerFlags.usage() + "\n" + OfflineCommands.usage());
            System.exit(2);
        }
        for (String a : rest) {
            if (a.equals("--help") || a.equals("-h") || a.equals("-help")) {
                System.out.print(ServerFlags.usage());
                return;
            }
        }
        ServerConfig config;
        try {
            config = ServerFlags.parse(rest);
            Logs.configure(config.logs());
        } catch (ServerFlags.FlagException e) {
            VigilServer.LOG.log(ERROR, e.getMessage());
            System.exit(2);
            return;
        }
        // Netty's leak detector, on by default, tracks one buffer in 128 with a stack trace taken
        // where it is allocated and again where it is released: under a 3-member put load that
        // was 17,000 Throwables per 240,000 puts on the leader (JFR), ~1% of the machine's CPU
        // (perf). The server runs without it unless the property asks for a level; tests that
        // start the server in-process keep Netty's default.
        if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        VigilServer[] current = new VigilServer[1];
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            VigilServer s;
            synchronized (current) {
                s = current[0];
                current[0] = null;
            }
            if (s != null) {
                s.close();
            }
        }, "vigil-shutdown"));
        while (true) {
            VigilServer server;
            try {
                server = VigilServer.start(config, fatal -> {
                    VigilServer.LOG.log(ERROR, "fatal storage failure, stopping", fatal);
                    Runtime.getRuntime().halt(70);
                });
            } catch (RuntimeException e) {
                VigilServer.LOG.log(ERROR, "cannot start: " + e.getMessage());
                System.exit(1);
                return;
            }
            synchronized (current) {
                current[0] = server;
            }
            if (!server.restartRequested()) {
                started(config, server);
            }
            server.awaitTermination();
            if (!server.restartRequested()) {
                break;
            }
            synchronized (current) {
                if (current[0] == null) {
                    return; // the JVM is shutting down meanwhile
                }
                current[0] = null;
            }
            VigilServer.LOG.log(INFO, "starting again to install the snapshot received");
        }
        // stopped on its own (removed from the cluster): nothing is left to run
        System.exit(0);
    }

    /** A port's scheme: its URLs all have the same one ({@link TlsSettings}). */
    private static String scheme(java.util.List<java.net.URI> urls) {
        return urls.stream().anyMatch(Urls::secure) ? "https" : "http";
    }

    private static void started(ServerConfig config, VigilServer server) {
        VigilServer.LOG.log(INFO, "member " + config.name() + " (" + Long.toHexString(server.memberId())
                + ") of cluster " + Long.toHexString(server.clusterId()) + " using data dir "
                + config.dataDir().toAbsolutePath() + " at revision " + server.currentRevision() + " ("
                + server.replayedEntries() + " entries applied again from the WAL)");
        for (InetSocketAddress a : server.peerAddresses()) {
            VigilServer.LOG.log(INFO, "listening for peers on " + scheme(config.listenPeerUrls()) + "://" + a.getHostString() + ":" + a.getPort());
        }
        for (InetSocketAddress a : server.metricsAddresses()) {
            VigilServer.LOG.log(INFO, "serving metrics on http://" + a.getHostString() + ":" + a.getPort() + "/metrics");
        }
        for (InetSocketAddress a : server.clientHttpAddresses()) {
            VigilServer.LOG.log(INFO, "serving client HTTP (JSON gateway, /health, /metrics, /version) on "
                    + scheme(config.listenClientHttpUrls()) + "://" + a.getHostString() + ":" + a.getPort());
        }
        for (InetSocketAddress a : server.clientAddresses()) {
            VigilServer.LOG.log(INFO, "ready to serve client requests on " + scheme(config.listenClientUrls()) + "://" + a.getHostString() + ":" + a.getPort());
        }
    }
}
