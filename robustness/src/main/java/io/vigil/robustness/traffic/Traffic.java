package io.vigil.robustness.traffic;

import io.vigil.robustness.history.Recorder;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The run's client side: clients making requests ({@link Kind}), a key-space watcher on every
 * member and, for Kubernetes traffic, informers — all recording into one {@link Recorder}.
 *
 * <p>Lifecycle: {@link #start} starts everything; {@link #stop} ends the clients (each finishes
 * its call in flight, bounded by its deadline) and the informers' lists; after the faults healed
 * the harness reads the final revision and calls {@link #awaitWatchersCaughtUp}, which waits for
 * every live watcher to reach it and then closes all streams, channels and threads. {@link #close}
 * does the same without waiting and may be called at any time, more than once.
 *
 * <p>Numbering: clients are 0..clients-1 and informers' list clients follow; key-space watchers
 * are 0..members-1 (watcher i starts on the i-th member) and informers' watchers follow. Client i
 * draws its requests from a Random seeded by the run's seed and i alone.
 */
public final class Traffic implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Traffic.class.getName());
    /** Every call's deadline. */
    static final long DEADLINE_MILLIS = 2000;
    /** After a failed call a client waits this long before the next, so a dead cluster is not flooded. */
    private static final long BACKOFF_MILLIS = 100;
    private static final int INFORMER_PAGE = 3;

    /** Which requests the clients make: "etcd", "kubernetes", or both ("mixed": even clients etcd). */
    public enum Kind {
        ETCD, KUBERNETES, MIXED;

        public static Kind parse(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }
    }

    /**
     * Which watchers had not reached the final revision when {@link #awaitWatchersCaughtUp} gave
     * up, or lost events to a compaction ({@code lagging}), and which had a watch ended as
     * compacted at a revision they had every event through ({@code needlesslyCompacted}: nothing
     * lost, but a server that does it breaks watches for nothing; etcd 3.4.23 does after a member
     * installs a snapshot, etcd issue 15271), one line each.
     */
    public record CatchUp(long finalRevision, List<String> lagging, List<String> needlesslyCompacted) {
        public CatchUp {
            lagging = List.copyOf(lagging);
            needlesslyCompacted = List.copyOf(needlesslyCompacted);
        }

        /** Every watcher reached the final revision, none lost an event, and no watch was ended for nothing. */
        public boolean caughtUp() {
            return lagging.isEmpty() && needlesslyCompacted.isEmpty();
        }

        /** Both lists, one line each. */
        public List<String> problems() {
            List<String> all = new ArrayList<>(lagging);
            all.addAll(needlesslyCompacted);
            return all;
        }
    }

    private final Members members;
    private final List<KeyspaceWatcher> watchers = new ArrayList<>();
    private final List<Informer> informers = new ArrayList<>();
    private final List<Thread> clientThreads = new ArrayList<>();
    private final List<Thread> watchThreads = new ArrayList<>();
    private final Compactions compactions;
    private volatile boolean stopped;
    private boolean closed;

    private Traffic(Supplier<List<String>> endpoints) {
        this.members = new Members(endpoints);
        this.compactions = new Compactions(this::minWatchedRevision);
    }

    /**
     * Starts the watchers, the informers and {@code clients} clients against the members
     * {@code endpoints} lists (host:port each; read again at every choice of member).
     */
    public static Traffic start(Supplier<List<String>> endpoints, Recorder recorder, long seed, Kind kind, int clients) {
        Traffic t = new Traffic(endpoints);
        List<String> initial = t.members.current();
        for (int i = 0; i < initial.size(); i++) {
            KeyspaceWatcher w = new KeyspaceWatcher(i, initial.get(i), t.members, recorder, t::successor);
            t.watchers.add(w);
            t.watchThreads.add(thread("traffic-watcher-" + i, w));
        }
        if (kind != Kind.ETCD) {
            for (int i = 0; i < initial.size(); i++) {
                int number = initial.size() + i;
                String prefix = KubernetesTraffic.prefix(KubernetesTraffic.RESOURCES.get(i % KubernetesTraffic.RESOURCES.size()));
                Client lister = new Client(clients + i, t.members, recorder, DEADLINE_MILLIS);
                Informer informer = new Informer(number, lister, prefix, recorder, random(seed, clients + i), INFORMER_PAGE);
                t.informers.add(informer);
                t.watchThreads.add(thread("traffic-informer-" + number, informer));
            }
        }
        for (int i = 0; i < clients; i++) {
            Client client = new Client(i, t.members, recorder, DEADLINE_MILLIS);
            Random random = random(seed, i);
            boolean etcd = kind == Kind.ETCD || (kind == Kind.MIXED && i % 2 == 0);
            Workload workload = etcd ? new EtcdTraffic(client, random, t.compactions)
                    : new KubernetesTraffic(client, random, t.compactions);
            t.clientThreads.add(thread("traffic-client-" + i, () -> t.runClient(client, workload)));
        }
        t.watchThreads.forEach(Thread::start);
        t.clientThreads.forEach(Thread::start);
        return t;
    }

    /** A generator that depends on the run's seed and the client's number only. */
    private static Random random(long seed, int client) {
        return new Random(seed + 0x9E3779B97F4A7C15L * (client + 1));
    }

    private static Thread thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    private void runClient(Client client, Workload workload) {
        try {
            while (!stopped) {
                workload.step();
                if (client.lastFailed()) {
                    Thread.sleep(BACKOFF_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "client " + client.number() + " stopped", e);
        }
    }

    /**
     * The lowest revision every key-space watcher has recorded all events through: compacting at
     * or below it minus a margin never compacts a recording watcher. The nemesis's compactions
     * should use {@link #compactableRevision()}.
     */
    public long minWatchedRevision() {
        return watchers.stream().mapToLong(KeyspaceWatcher::reached).min().orElse(0);
    }

    /** Each key-space watcher's reached revision, by watcher number (for the run's report). */
    public Map<Integer, Long> reachedRevisions() {
        Map<Integer, Long> reached = new TreeMap<>();
        watchers.forEach(w -> reached.put(w.number(), w.reached()));
        return reached;
    }

    /** The highest revision it is safe to compact to now (0: none). */
    public long compactableRevision() {
        return compactions.compactable();
    }

    /**
     * Where a key-space watcher whose member left the cluster goes: a member no watcher is on
     * (the one the nemesis added), else the next member round-robin.
     */
    private String successor(String left) {
        synchronized (watchers) {
            for (String m : members.current()) {
                if (watchers.stream().noneMatch(w -> w.member().equals(m))) {
                    return m;
                }
            }
            return members.after(left);
        }
    }

    /** Stops the clients: each finishes its call in flight; informers list no more. Idempotent. */
    public void stop() throws InterruptedException {
        stopped = true;
        informers.forEach(Informer::stop);
        for (Thread t : clientThreads) {
            t.join(DEADLINE_MILLIS * 3);
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "{0} did not stop", t.getName());
            }
        }
    }

    /**
     * Stops the clients if still running, then waits up to {@code timeout} until every key-space
     * watcher has recorded every event through {@code finalRevision} and every live informer has
     * (by an event or a progress notification, which it asks for meanwhile) reached it; then
     * closes everything. Returns the watchers that had not.
     */
    public CatchUp awaitWatchersCaughtUp(long finalRevision, Duration timeout) throws InterruptedException {
        stop();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> lagging = lagging(finalRevision, false);
        for (int round = 0; !lagging.isEmpty() && System.nanoTime() < deadline; round++) {
            if (round % 5 == 0) {
                informers.stream().filter(i -> i.live() && i.reached() < finalRevision).forEach(Informer::requestProgress);
            }
            Thread.sleep(100);
            lagging = lagging(finalRevision, false);
        }
        lagging = lagging(finalRevision, true);
        close();
        List<String> needlesslyCompacted = new ArrayList<>();
        for (KeyspaceWatcher w : watchers) {
            if (w.needlesslyCompactedAt() > 0) {
                needlesslyCompacted.add("watcher " + w.number() + " on " + w.member() + " was ended as compacted at "
                        + w.needlesslyCompactedAt() + " though it had every event through it");
            }
        }
        return new CatchUp(finalRevision, lagging, needlesslyCompacted);
    }

    /** The watchers behind {@code finalRevision}, and with {@code lost} those that lost events too. */
    private List<String> lagging(long finalRevision, boolean lost) {
        List<String> lagging = new ArrayList<>();
        for (KeyspaceWatcher w : watchers) {
            if (w.reached() < finalRevision) {
                lagging.add("watcher " + w.number() + " on " + w.member() + " reached " + w.reached() + " of " + finalRevision);
            } else if (lost && w.compactedAt() > 0) {
                lagging.add("watcher " + w.number() + " on " + w.member() + " was compacted at " + w.compactedAt()
                        + ": events before it were lost");
            }
        }
        for (Informer i : informers) {
            if (i.live() && i.reached() < finalRevision) {
                lagging.add("informer watcher " + i.number() + " of " + i.prefix() + " on " + i.member() + " reached "
                        + i.reached() + " of " + finalRevision);
            }
        }
        return lagging;
    }

    /** Stops everything: clients, watches, channels; waits for every thread of the traffic. */
    @Override
    public synchronized void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        stop();
        watchers.forEach(KeyspaceWatcher::close);
        informers.forEach(Informer::close);
        for (Thread t : watchThreads) {
            t.join(TimeUnit.SECONDS.toMillis(5));
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "{0} did not stop", t.getName());
            }
        }
        members.close();
    }
}
