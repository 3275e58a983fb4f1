package io.vigil.robustness.nemesis;

import io.vigil.proto.history.FaultRecord;
import io.vigil.robustness.cluster.Cluster;
import io.vigil.robustness.cluster.Member;
import io.vigil.robustness.history.Recorder;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Injects faults into a {@link Cluster}, one at a time, until stopped: picks a kind from the mix,
 * a target and a hold from a {@link Random} seeded by the run's seed, injects it, holds it, undoes
 * it, records it in the {@link Recorder} as a {@code FaultRecord} (start when injected, end when
 * undone), waits for the cluster to be healthy again, keeps quiet for a gap, and goes on.
 *
 * <p>Contract of {@link #stop()}: the fault in progress is undone, then every link is healed,
 * every paused member resumed and every killed member restarted, and it returns once the cluster
 * is healthy (every member running, connected, agreeing on a leader), so the traffic can finish
 * and watchers catch up. Picks draw from the random in a fixed order, so a seed gives the same
 * kinds, holds and gaps; targets also depend on which member leads, which the seed cannot fix.
 */
public final class Nemesis {
    private static final System.Logger LOG = System.getLogger("vigil.robustness.nemesis");
    private static final Duration HEAL_TIMEOUT = Duration.ofSeconds(60);

    private final Cluster cluster;
    private final Recorder recorder;
    private final Random random;
    private final NemesisConfig config;
    private final List<FaultKind> mix;
    /** How many members the cluster had when the nemesis was made: restore() adds members up to it. */
    private final int size;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private Thread thread;

    public Nemesis(Cluster cluster, Recorder recorder, Random random, NemesisConfig config) {
        this.cluster = cluster;
        this.recorder = recorder;
        this.random = random;
        this.config = config;
        this.mix = config.mix().stream().sorted().toList();
        this.size = cluster.members().size();
    }

    /** Starts injecting, on a thread of its own. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        thread = new Thread(this::run, "nemesis");
        thread.setDaemon(true);
        thread.start();
    }

    /** Ends the fault in progress, restores the cluster and waits until it is healthy (see the class comment). */
    public void stop() {
        stopping.countDown();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        restore();
        cluster.awaitHealthy(HEAL_TIMEOUT);
    }

    private void run() {
        while (stopping.getCount() > 0) {
            FaultKind kind = mix.get(random.nextInt(mix.size()));
            Duration hold = between(config.minHold(), config.maxHold());
            Duration gap = between(config.minGap(), config.maxGap());
            try {
                inject(kind, hold);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "fault " + kind + " failed", e);
            }
            try {
                restore();
                cluster.awaitHealthy(HEAL_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "the cluster did not heal after " + kind, e);
            }
            quiet(gap);
        }
    }

    /**
     * Injects one fault of {@code kind}, holds it for {@code hold} (or until {@link #stop()}),
     * undoes it and records it. Returns the record. Throws if the fault could not be injected; a
     * fault that was injected is recorded even if undoing it failed.
     */
    public FaultRecord inject(FaultKind kind, Duration hold) {
        Member leader = cluster.leader().orElseThrow(() -> new IllegalStateException("no leader to aim " + kind + " at"));
        List<Member> followers = new ArrayList<>(cluster.members());
        followers.remove(leader);
        followers.sort(Comparator.comparing(Member::name));
        Member follower = followers.isEmpty() ? leader : followers.get(random.nextInt(followers.size()));
        Member target = switch (kind) {
            case KILL_LEADER, PAUSE_LEADER, ISOLATE_LEADER -> leader;
            case KILL_FOLLOWER, PAUSE_FOLLOWER, ISOLATE_FOLLOWER, MOVE_LEADER -> follower;
            case DELAY, REMOVE_ADD, DEFRAGMENT -> random.nextBoolean() ? leader : follower;
        };
        String role = target == leader ? "leader" : "follower";
        FaultRecord.Builder record = FaultRecord.newBuilder().setKind(kind.recordKind()).addTargets(target.name());
        record.setStartNanos(recorder.now());
        FaultRecord built;
        try {
            switch (kind) {
                case KILL_LEADER, KILL_FOLLOWER -> {
                    cluster.kill(target);
                    record.setDetail("SIGKILL of the " + role + ", restarted after " + hold.toMillis() + " ms");
                    try {
                        quiet(hold);
                    } finally {
                        cluster.restart(target);
                    }
                }
                case PAUSE_LEADER, PAUSE_FOLLOWER -> {
                    cluster.pause(target);
                    record.setDetail("SIGSTOP of the " + role + ", SIGCONT after " + hold.toMillis() + " ms");
                    try {
                        quiet(hold);
                    } finally {
                        cluster.resume(target);
                    }
                }
                case ISOLATE_LEADER, ISOLATE_FOLLOWER -> {
                    boolean lose = random.nextBoolean();
                    if (lose) {
                        cluster.isolateDropping(target);
                    } else {
                        cluster.isolate(target);
                    }
                    record.setDetail("every peer link of the " + role + " blackholed for " + hold.toMillis() + " ms, bytes "
                            + (lose ? "lost (connections reset at the heal)" : "held (delivered at the heal)"));
                    try {
                        quiet(hold);
                    } finally {
                        cluster.heal();
                    }
                }
                case DELAY -> {
                    Duration d = between(config.minDelay(), config.maxDelay());
                    cluster.delay(target, d);
                    record.setDetail("+" + d.toMillis() + " ms each way on every peer link of the " + role + " for "
                            + hold.toMillis() + " ms");
                    try {
                        quiet(hold);
                    } finally {
                        cluster.delay(target, Duration.ZERO);
                    }
                }
                case MOVE_LEADER -> {
                    record.clearTargets().addTargets(leader.name()).addTargets(target.name());
                    record.setDetail("leadership moved from " + leader.name() + " to " + target.name());
                    cluster.moveLeader(target);
                }
                case REMOVE_ADD -> {
                    record.setDetail("the " + role + " removed, its data deleted, a new member added");
                    Member added = cluster.removeAndAdd(target);
                    record.addTargets(added.name());
                    record.setDetail("the " + role + " " + target.name() + " removed, its data deleted, "
                            + added.name() + " added");
                }
                case DEFRAGMENT -> {
                    record.setDetail("defragment of the " + role);
                    cluster.defragment(target);
                }
            }
        } catch (RuntimeException e) {
            record.setDetail(record.getDetail() + " (failed: " + e.getMessage() + ")");
            throw e;
        } finally {
            record.setEndNanos(recorder.now());
            built = record.build();
            recorder.fault(built);
            LOG.log(Level.INFO, "{0} {1}: {2} ({3} ms)", built.getKind(), built.getTargetsList(), built.getDetail(),
                    TimeUnit.NANOSECONDS.toMillis(built.getEndNanos() - built.getStartNanos()));
        }
        return built;
    }

    /**
     * Undoes whatever may be left: heals every link, resumes paused members, restarts killed ones,
     * and adds members if a remove-and-add stopped halfway. Idempotent; run after every fault and at stop.
     */
    private void restore() {
        cluster.heal();
        for (Member m : cluster.members()) {
            if (m.isPaused()) {
                cluster.resume(m);
            }
        }
        for (Member m : cluster.members()) {
            if (!m.isRunning()) {
                // after a kill that was not restarted; otherwise the server died by itself: see its log
                LOG.log(Level.WARNING, "{0} is not running; restarting it (its log: {1})", m, m.log());
                cluster.restart(m);
            }
        }
        while (cluster.members().size() < size) {
            LOG.log(Level.WARNING, "{0} members of {1}; adding one", cluster.members().size(), size);
            cluster.addMember();
        }
    }

    /** Sleeps {@code d}, or less if stopped meanwhile. */
    private void quiet(Duration d) {
        try {
            stopping.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Duration between(Duration min, Duration max) {
        long span = max.toMillis() - min.toMillis();
        return min.plusMillis(span <= 0 ? 0 : random.nextLong(span + 1));
    }
}
