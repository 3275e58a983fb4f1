package io.vigil.robustness.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real etcd 3.4 cluster (Debian's etcd-server: {@code apt-get install -y etcd-server
 * etcd-client}), the reference Vigil is judged against. Each member advertises the proxy in front
 * of its peer listener; the proxy attributes each connection to its sender
 * ({@link SenderRoutedLinks}). A restart reuses the first start's flags: with a data directory,
 * etcd ignores the initial-cluster ones.
 */
public final class EtcdCluster extends ProcessCluster {
    /** etcd's default --initial-cluster-token, part of every initial member's id. */
    private static final String CLUSTER_TOKEN = "etcd-cluster";

    private SenderRoutedLinks routed;

    public EtcdCluster(Path dir, ClusterConfig config) {
        super(dir, config);
        if (!installed()) {
            throw new IllegalStateException("etcd is not on the PATH: apt-get install -y etcd-server etcd-client");
        }
    }

    /** Whether an etcd binary is on the PATH. */
    public static boolean installed() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "etcd"))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String kind() {
        return "etcd";
    }

    @Override
    PeerLinks newLinks() {
        routed = new SenderRoutedLinks(this::members);
        return routed;
    }

    /** How the proxies attributed connections to senders so far (for reports). */
    public String peerRouting() {
        return routed == null ? "not started" : routed.routing();
    }

    /**
     * Initial members' ids, derived as etcd derives them (membership.NewMember: the first 8 bytes,
     * big-endian, of SHA-1 over the sorted peer URLs and the cluster token), so that the proxies
     * know who sends from the very first connection; checked against Status once members answer.
     */
    @Override
    void beforeStart(List<Member> initial, String initialCluster) {
        for (Member m : initial) {
            m.id(memberId(List.of(links().advertisedPeerUrl(m)), CLUSTER_TOKEN));
        }
    }

    static long memberId(List<String> peerUrls, String token) {
        List<String> sorted = new ArrayList<>(peerUrls);
        sorted.sort(null);
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sorted.forEach(u -> sha1.update(u.getBytes(StandardCharsets.UTF_8)));
            sha1.update(token.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(sha1.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    Launch command(Member m, String initialCluster, String state) {
        List<String> cmd = new ArrayList<>(List.of("etcd"));
        cmd.addAll(commonFlags(m, initialCluster, state));
        cmd.addAll(List.of("--initial-cluster-token", CLUSTER_TOKEN, "--logger", "zap", "--log-level", "info"));
        return new Launch(cmd, Map.of());
    }

    @Override
    public String toString() {
        return super.toString() + " (" + peerRouting() + ")";
    }
}
