package io.vigil.robustness.cluster;

import io.vigil.testkit.Link;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.StatusResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * What Vigil and etcd clusters share: members as processes with etcd's flags, faults through
 * {@link PeerLinks}, the harness's calls through {@link Admin}. A subclass says how a member's
 * process is started ({@link #command}) and how peer links are proxied ({@link #links}).
 *
 * <p>Invariant: {@link #members} holds the current members in order of creation; a member is in
 * it from its MemberAdd (or the start) until its MemberRemove.
 */
public abstract class ProcessCluster implements Cluster {
    static final System.Logger LOG = System.getLogger("vigil.robustness.cluster");
    private static final long CALL_MS = 2_000;
    private static final long SLOW_CALL_MS = 30_000;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final ClusterConfig config;
    private final List<Member> members = new CopyOnWriteArrayList<>();
    final Admin admin = new Admin();
    private PeerLinks links;
    private int nextSlot;

    ProcessCluster(Path dir, ClusterConfig config) {
        this.dir = dir;
        this.config = config;
    }

    /** The peer links of this cluster, made once before the first member is. */
    abstract PeerLinks newLinks();

    /**
     * The command line (and environment) that starts {@code m} with etcd's flags; {@code state}
     * is "new" for an initial member and "existing" for one joining a running cluster.
     */
    abstract Launch command(Member m, String initialCluster, String state);

    /** Learns {@code m}'s id before its start, where the id can be derived (initial members). */
    void beforeStart(List<Member> initial, String initialCluster) {
    }

    record Launch(List<String> command, Map<String, String> environment) {
    }

    /** The run's folder: a data directory and a log per member. */
    Path dir() {
        return dir;
    }

    PeerLinks links() {
        return links;
    }

    ClusterConfig config() {
        return config;
    }

    /** etcd's flags every member gets: the timing and snapshot settings both servers take alike. */
    List<String> commonFlags(Member m, String initialCluster, String state) {
        List<String> flags = new ArrayList<>(List.of("--name", m.name(),
                "--data-dir", m.dataDir().toString(),
                "--listen-client-urls", "http://" + m.endpoint(),
                "--advertise-client-urls", "http://" + m.endpoint(),
                "--listen-peer-urls", "http://127.0.0.1:" + m.peerPort(),
                "--initial-advertise-peer-urls", links.advertisedPeerUrl(m),
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", state,
                "--heartbeat-interval", Long.toString(config.heartbeatInterval().toMillis()),
                "--election-timeout", Long.toString(config.electionTimeout().toMillis()),
                "--snapshot-count", Long.toString(config.snapshotCount())));
        flags.addAll(config.serverFlags());
        return flags;
    }

    @Override
    public synchronized void start() {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        links = newLinks();
        List<Member> initial = new ArrayList<>();
        for (int i = 0; i < config.size(); i++) {
            Member m = newMember();
            links.add(m);
            initial.add(m);
        }
        String initialCluster = initialCluster(initial);
        beforeStart(initial, initialCluster);
        members.addAll(initial);
        for (Member m : initial) {
            launch(m, initialCluster, "new");
        }
        // an etcd member serves clients only once a quorum has published it: wait for all after starting all
        for (Member m : initial) {
            awaitReady(m);
        }
        awaitHealthy(READY_TIMEOUT);
        LOG.log(Level.INFO, "{0} cluster up: {1}", kind(), members);
    }

    private Member newMember() {
        int slot = nextSlot++;
        String name = "m" + (slot + 1);
        return new Member(name, slot, Ports.free(), Ports.free(), dir.resolve(name));
    }

    private String initialCluster(List<Member> ms) {
        StringBuilder sb = new StringBuilder();
        for (Member m : ms) {
            sb.append(sb.length() == 0 ? "" : ",").append(m.name()).append('=').append(links.advertisedPeerUrl(m));
        }
        return sb.toString();
    }

    private void launch(Member m, String initialCluster, String state) {
        Launch launch = command(m, initialCluster, state);
        m.command(launch.command());
        m.process(MemberProcess.start(launch.command(), launch.environment(), dir, m.log()));
        m.launchEnvironment(launch.environment());
    }

    /** Waits until {@code m} answers Status, and learns (or checks) its id. */
    private void awaitReady(Member m) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            if (!m.isRunning()) {
                throw new IllegalStateException(m + " exited while starting; see " + m.log());
            }
            try {
                long id = admin.status(m.endpoint(), CALL_MS).getHeader().getMemberId();
                if (m.id() != 0 && m.id() != id) {
                    LOG.log(Level.WARNING, "{0} answers as member {1}", m, Long.toHexString(id));
                }
                m.id(id);
                return;
            } catch (StatusRuntimeException notYet) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException(m + " did not answer within " + READY_TIMEOUT + "; see " + m.log(), notYet);
                }
                sleep(200);
            }
        }
    }

    @Override
    public List<Member> members() {
        return List.copyOf(members);
    }

    @Override
    public void kill(Member m) {
        m.process().kill();
        LOG.log(Level.DEBUG, "killed {0}", m);
    }

    @Override
    public void restart(Member m) {
        if (m.isRunning()) {
            throw new IllegalStateException(m + " is running");
        }
        m.process(MemberProcess.start(m.command(), m.launchEnvironment(), dir, m.log()));
        awaitReady(m);
    }

    @Override
    public void pause(Member m) {
        m.process().pause();
    }

    @Override
    public void resume(Member m) {
        m.process().resume();
    }

    @Override
    public void isolate(Member m) {
        links.linksOf(m).forEach(Link::block);
    }

    @Override
    public void isolateDropping(Member m) {
        links.linksOf(m).forEach(Link::drop);
    }

    @Override
    public void heal() {
        for (Link l : links.all()) {
            l.unblock();
            l.delay(Duration.ZERO);
        }
    }

    @Override
    public void delay(Member m, Duration oneWay) {
        links.linksOf(m).forEach(l -> l.delay(oneWay));
    }

    @Override
    public Optional<Member> leader() {
        Member best = null;
        long bestTerm = -1;
        for (Member m : members) {
            if (!m.isRunning() || m.isPaused()) {
                continue;
            }
            try {
                StatusResponse s = admin.status(m.endpoint(), CALL_MS);
                if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId() && s.getRaftTerm() > bestTerm) {
                    best = m;
                    bestTerm = s.getRaftTerm();
                }
            } catch (StatusRuntimeException unreachable) {
                // a member that cannot answer is nobody's leader as far as the harness can tell
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public void moveLeader(Member to) {
        Member leader = leader().orElseThrow(() -> new IllegalStateException("no leader to move from"));
        if (leader == to) {
            return;
        }
        admin.moveLeader(leader.endpoint(), to.id(), SLOW_CALL_MS);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (leader().orElse(null) != to) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("leadership did not move to " + to);
            }
            sleep(100);
        }
    }

    @Override
    public void defragment(Member m) {
        admin.defragment(m.endpoint(), SLOW_CALL_MS);
    }

    @Override
    public synchronized Member removeAndAdd(Member m) {
        if (!members.contains(m)) {
            throw new IllegalArgumentException(m + " is not a member");
        }
        MembershipChanges.remove(admin, () -> contactOtherThan(m), m.id());
        members.remove(m);
        if (m.process() != null) {
            m.process().stop(); // a removed etcd member exits by itself; SIGTERM either way
        }
        links.remove(m);
        deleteRecursively(m.dataDir());
        LOG.log(Level.INFO, "removed {0}", m);
        return addMember();
    }

    @Override
    public synchronized Member addMember() {
        Member added = newMember();
        links.add(added);
        added.id(MembershipChanges.add(admin, () -> contactOtherThan(added), links.advertisedPeerUrl(added)));
        members.add(added);
        launch(added, initialCluster(members), "existing");
        awaitReady(added);
        LOG.log(Level.INFO, "added {0}", added);
        return added;
    }

    /** The leader if it is not {@code m}, else another running member: whom to send a membership change. */
    private Member contactOtherThan(Member m) {
        Optional<Member> leader = leader();
        if (leader.isPresent() && leader.get() != m) {
            return leader.get();
        }
        return members.stream().filter(o -> o != m && o.isRunning() && !o.isPaused()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no running member besides " + m));
    }

    @Override
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String why;
        while ((why = unhealthy()) != null) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(kind() + " cluster not healthy after " + timeout + ": " + why);
            }
            sleep(200);
        }
    }

    @Override
    public long linearizableRevision(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            StatusRuntimeException last = null;
            for (Member m : members) {
                try {
                    return admin.healthRead(m.endpoint(), CALL_MS);
                } catch (StatusRuntimeException e) {
                    last = e;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("no member answered a linearizable read in " + timeout + ": "
                        + (last == null ? "no members" : last.getStatus()));
            }
            sleep(200);
        }
    }

    /** Why the cluster is not healthy now, or null when it is. */
    private String unhealthy() {
        long leader = 0;
        for (Member m : members) {
            if (!m.isRunning() || m.isPaused()) {
                return m + (m.isPaused() ? " is paused" : " is not running");
            }
            try {
                StatusResponse s = admin.status(m.endpoint(), CALL_MS);
                if (s.getLeader() == 0 || (leader != 0 && s.getLeader() != leader)) {
                    return m + " names leader " + Long.toHexString(s.getLeader()) + ", others " + Long.toHexString(leader);
                }
                leader = s.getLeader();
                admin.healthRead(m.endpoint(), CALL_MS);
            } catch (StatusRuntimeException e) {
                return m + ": " + e.getStatus();
            }
        }
        long agreed = leader;
        return members.stream().anyMatch(m -> m.id() == agreed) ? null : "leader " + Long.toHexString(agreed) + " is no member";
    }

    @Override
    public void close() {
        List<Thread> stopping = new ArrayList<>();
        for (Member m : members) {
            MemberProcess p = m.process();
            if (p != null) {
                Thread t = new Thread(p::stop, "stop-" + m.name());
                t.start();
                stopping.add(t);
            }
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (links != null) {
            links.close();
        }
        admin.close();
    }

    @Override
    public String toString() {
        return kind() + " " + members + (links == null ? "" : " links " + links);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
