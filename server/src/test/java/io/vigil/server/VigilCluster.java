package io.vigil.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cluster of real Vigil server processes on loopback: member i is named {@code m<i>}, has its
 * data in {@code <dir>/m<i>}, and a peer and a client port chosen free up front (the initial
 * cluster must name the peer port; clients keep their endpoints across restarts). Members can be
 * killed or stopped and started again on the same ports and data. A cluster started with
 * {@link #startPartitionable} routes every peer link through a {@link PeerNetwork} of fault
 * proxies: members listen for peers on their real port and advertise the network's.
 */
final class VigilCluster implements AutoCloseable {
    private static final Pattern LEADER = Pattern.compile("\"leader\":(\\d+)");
    private static final Pattern MEMBER = Pattern.compile("\"member_id\":(\\d+)");

    private final Path dir;
    private final int[] peerPorts;
    private final int[] clientPorts;
    private final String initialCluster;
    private final VigilProcess[] members;
    private final String[] extraFlags;
    /** Null: members dial each other's real peer port. */
    private final PeerNetwork network;
    /** "http", or "https" when the members' peer flags among {@link #extraFlags} give them peer TLS. */
    private final String peerScheme;

    private VigilCluster(Path dir, int size, boolean proxied, String... extraFlags) {
        this(dir, size, proxied, "http", extraFlags);
    }

    private VigilCluster(Path dir, int size, boolean proxied, String peerScheme, String... extraFlags) {
        this.dir = dir;
        this.peerScheme = peerScheme;
        this.extraFlags = extraFlags;
        this.peerPorts = new int[size];
        this.clientPorts = new int[size];
        for (int i = 0; i < size; i++) {
            peerPorts[i] = freePort();
            clientPorts[i] = freePort();
        }
        this.network = proxied ? PeerNetwork.start(dir.resolve("peer-network"), peerPorts) : null;
        StringBuilder ic = new StringBuilder();
        for (int i = 0; i < size; i++) {
            ic.append(i == 0 ? "" : ",").append(name(i)).append("=").append(peerUrl(i));
        }
        this.initialCluster = ic.toString();
        this.members = new VigilProcess[size];
    }

    /** Starts {@code size} members, each with {@code extraFlags} too. */
    static VigilCluster start(Path dir, int size, String... extraFlags) {
        VigilCluster c = new VigilCluster(dir, size, false, extraFlags);
        c.startMembers();
        return c;
    }

    /** As {@link #start}, with https:// peer URLs: {@code extraFlags} give the --peer-cert-file and the rest. */
    static VigilCluster startWithPeerTls(Path dir, int size, String... extraFlags) {
        VigilCluster c = new VigilCluster(dir, size, false, "https", extraFlags);
        c.startMembers();
        return c;
    }

    /**
     * A cluster whose ports and flags are chosen but whose members are not started: the caller
     * prepares their data directories ({@link #dataDir}), then starts each with {@link #startMember}.
     */
    static VigilCluster unstarted(Path dir, int size, String... extraFlags) {
        return new VigilCluster(dir, size, false, extraFlags);
    }

    /** The --initial-cluster flag every member starts with. */
    String initialCluster() {
        return initialCluster;
    }

    /** Member i's data directory. */
    Path dataDir(int i) {
        return dir.resolve(name(i));
    }

    /** As {@link #start}, with every peer link through a fault proxy of {@link #network()}. */
    static VigilCluster startPartitionable(Path dir, int size, String... extraFlags) {
        VigilCluster c = new VigilCluster(dir, size, true, extraFlags);
        c.startMembers();
        return c;
    }

    /** The fault proxies between the members of a {@link #startPartitionable} cluster. */
    PeerNetwork network() {
        if (network == null) {
            throw new IllegalStateException("not started with startPartitionable");
        }
        return network;
    }

    static String name(int i) {
        return "m" + (i + 1);
    }

    /** Member i's advertised peer URL, as the cluster flags name it. */
    String peerUrl(int i) {
        return network == null ? peerScheme + "://127.0.0.1:" + peerPorts[i] : network.advertisedPeerUrl(i);
    }

    int size() {
        return members.length;
    }

    /**
     * Starts every member side by side (their JVMs start at once) and waits until each is ready;
     * when one fails, the others are stopped.
     */
    private void startMembers() {
        try {
            for (int i = 0; i < members.length; i++) {
                members[i] = spawnMember(i);
            }
            for (VigilProcess m : members) {
                m.awaitReady();
            }
        } catch (RuntimeException e) {
            try {
                close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    /** Starts member i (again), on its data directory and peer port. */
    void startMember(int i) {
        startMember(i, new String[0]);
    }

    /** As {@link #startMember(int)}, with {@code moreFlags} for this start of this member only. */
    void startMember(int i, String... moreFlags) {
        members[i] = spawnMember(i, moreFlags).awaitReady();
    }

    private VigilProcess spawnMember(int i, String... moreFlags) {
        List<String> flags = new ArrayList<>(List.of("--name", name(i),
                "--initial-cluster", initialCluster,
                "--listen-peer-urls", peerScheme + "://127.0.0.1:" + peerPorts[i],
                "--initial-advertise-peer-urls", peerUrl(i),
                "--listen-client-urls", "http://127.0.0.1:" + clientPorts[i]));
        flags.addAll(List.of(extraFlags));
        flags.addAll(List.of(moreFlags));
        return VigilProcess.spawn(dataDir(i), network == null ? List.of() : network.jvmOptions(i),
                flags.toArray(String[]::new));
    }

    VigilProcess member(int i) {
        return members[i];
    }

    /** host:port of member i. */
    String endpoint(int i) {
        return members[i].endpoint();
    }

    /** Every member's endpoint, running or not, comma-separated, as etcdctl's --endpoints takes them. */
    String endpoints() {
        StringBuilder sb = new StringBuilder();
        for (int port : clientPorts) {
            sb.append(sb.length() == 0 ? "" : ",").append("127.0.0.1:").append(port);
        }
        return sb.toString();
    }

    /**
     * The index of the member every running member names as leader, once they all agree and
     * the leader is running; -1 until then.
     */
    int agreedLeader() {
        long leader = -1;
        int leaderIndex = -1;
        for (int i = 0; i < members.length; i++) {
            if (members[i] == null || !members[i].isAlive()) {
                continue;
            }
            Etcdctl.Result r = Etcdctl.run(endpoint(i), null, "endpoint", "status", "-w", "json");
            Matcher lm = LEADER.matcher(r.stdout());
            Matcher mm = MEMBER.matcher(r.stdout());
            if (r.exitCode() != 0 || !lm.find() || !mm.find()) {
                return -1;
            }
            long l = Long.parseUnsignedLong(lm.group(1));
            if (l == 0 || (leader != -1 && l != leader)) {
                return -1;
            }
            leader = l;
            if (Long.parseUnsignedLong(mm.group(1)) == l) {
                leaderIndex = i;
            }
        }
        return leaderIndex;
    }

    /** What the members printed, for failure messages. */
    String logs() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < members.length; i++) {
            if (members[i] != null) {
                String name = name(i);
                members[i].output().forEach(l -> sb.append(name).append(": ").append(l).append('\n'));
            }
        }
        return sb.toString();
    }

    /** SIGKILL. */
    void kill(int i) throws InterruptedException {
        members[i].kill();
    }

    /** SIGTERM, and wait for the process to end. */
    void stop(int i) throws InterruptedException {
        members[i].close();
    }

    @Override
    public void close() throws InterruptedException {
        for (VigilProcess m : members) {
            if (m != null) {
                m.close();
            }
        }
        if (network != null) {
            network.close();
        }
    }

    /** Ports handed out in this JVM: the kernel may offer a port again once its probe socket closed. */
    private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

    /**
     * A loopback port free now and never handed out before in this JVM, so that the ports one
     * test picks up front (a member's client and peer port) are distinct before anything binds them.
     */
    static synchronized int freePort() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
