package io.vigil.server;

import io.vigil.testkit.FaultProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The peer links of a cluster on loopback, each through its own {@link FaultProxy}, one per
 * directed pair of members, so that a test can cut any link in either direction.
 *
 * <p>Every member dials the other members' advertised peer URL, and all members must advertise
 * the same URLs (member ids are derived from them). So a member's advertised peer URL names a
 * host, {@code m<i>.peer.test:<port>}, and each member process resolves those names through a
 * hosts file of its own ({@code -Djdk.net.hosts.file}): to member {@code from}, member
 * {@code to}'s name is {@code 127.0.<from+1>.<to+1>}, where the proxy of the link from→to
 * listens on {@code to}'s advertised port and forwards to {@code to}'s real peer port. Everything
 * {@code from} sends to {@code to} — Raft messages on its peer stream, lease requests forwarded to
 * a leader — goes through that link; {@code to} answers Raft over the link to→from.
 *
 * <p>Needs every address of 127.0.0.0/8 to be bindable, as on Linux; elsewhere (macOS has only
 * 127.0.0.1 until aliases are added) {@link #assumeSupported()} skips the test.
 */
final class PeerNetwork implements AutoCloseable {
    private final int size;
    private final int[] advertisedPorts;
    private final FaultProxy[][] links;
    private final Path[] hostsFiles;

    private PeerNetwork(Path dir, int[] peerPorts) throws IOException {
        this.size = peerPorts.length;
        this.advertisedPorts = new int[size];
        this.links = new FaultProxy[size][size];
        this.hostsFiles = new Path[size];
        InetAddress lo = InetAddress.getLoopbackAddress();
        try {
            for (int to = 0; to < size; to++) {
                bindLinksTo(to, new InetSocketAddress(lo, peerPorts[to]));
            }
            Files.createDirectories(dir);
            String localName = localHostName();
            for (int from = 0; from < size; from++) {
                StringBuilder hosts = new StringBuilder("127.0.0.1 localhost " + localName + "\n");
                for (int to = 0; to < size; to++) {
                    if (to != from) {
                        hosts.append(address(from, to)).append(' ').append(host(to)).append('\n');
                    }
                }
                hostsFiles[from] = Files.writeString(dir.resolve("hosts-" + VigilCluster.name(from)), hosts);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Skips the calling test where the loopback addresses the links listen on cannot be bound;
     * on Linux, where they always can, the test runs and fails instead of hiding.
     */
    static void assumeSupported() {
        if (System.getProperty("os.name", "").startsWith("Linux")) {
            return;
        }
        boolean bindable;
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new InetSocketAddress(address(0, 1), 0));
            bindable = true;
        } catch (IOException e) {
            bindable = false;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(bindable,
                "cannot bind " + address(0, 1) + ": peer links need all of 127.0.0.0/8 on loopback (Linux has it)");
    }

    /** Proxies in front of the real peer ports {@code peerPorts} (member i listens on 127.0.0.1:peerPorts[i]). */
    static PeerNetwork start(Path dir, int[] peerPorts) {
        try {
            return new PeerNetwork(dir, peerPorts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Binds the links into {@code to} on one port (the port is part of {@code to}'s advertised
     * URL, the same for every dialer); a port free on one loopback address may be taken on
     * another, so a few ports are tried.
     */
    private void bindLinksTo(int to, InetSocketAddress target) {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            int port = 0;
            boolean bound = true;
            for (int from = 0; from < size && bound; from++) {
                if (from == to) {
                    continue;
                }
                try {
                    links[from][to] = FaultProxy.start(new InetSocketAddress(address(from, to), port), target);
                    port = links[from][to].port();
                } catch (UncheckedIOException e) {
                    last = e;
                    bound = false;
                }
            }
            if (bound) {
                advertisedPorts[to] = port;
                return;
            }
            for (int from = 0; from < size; from++) {
                if (links[from][to] != null) {
                    links[from][to].close();
                    links[from][to] = null;
                }
            }
        }
        throw last;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static String host(int i) {
        return VigilCluster.name(i) + ".peer.test";
    }

    private static String address(int from, int to) {
        return "127.0." + (from + 1) + "." + (to + 1);
    }

    /** Member i's peer URL as every member (itself included) names it in the cluster flags. */
    String advertisedPeerUrl(int i) {
        return "http://" + host(i) + ":" + advertisedPorts[i];
    }

    /** What member i's JVM needs to reach the others through this network. */
    List<String> jvmOptions(int i) {
        return List.of("-Djdk.net.hosts.file=" + hostsFiles[i]);
    }

    /** The link carrying what {@code from} sends to {@code to}. */
    FaultProxy link(int from, int to) {
        if (from == to) {
            throw new IllegalArgumentException("no link from a member to itself");
        }
        return links[from][to];
    }

    /** Blackholes every link to and from member i: it neither hears nor is heard. */
    void isolate(int i) {
        for (int j = 0; j < size; j++) {
            if (j != i) {
                links[i][j].block();
                links[j][i].block();
            }
        }
    }

    /** Forwards on every link again. */
    void heal() {
        for (FaultProxy[] row : links) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.unblock();
                }
            }
        }
    }

    @Override
    public void close() {
        for (FaultProxy[] row : links) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }
}
