package io.vigil.server;

import io.vigil.proto.etcdserverpb.LeaseCheckpointRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.Lessor;
import io.vigil.revlog.RevLogException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The leader's lease loop: every {@link #TICK_MILLIS} it claims the leases whose deadline passed
 * and proposes a LeaseRevoke for each, through the log like a client's revoke; then, when lease
 * checkpoints are on, it proposes the checkpoints that are due (etcd's runLoop does both).
 *
 * <p>Bound: at most {@code revokesPerSecond / 2} revokes are in flight (proposed, not yet
 * applied), and a tick proposes only what brings them back to that, so a mass expiry reaches
 * the apply queue at most a few hundred entries at a time and client writes queue behind at most
 * that many revokes. etcd bounds it the same way (leaseRevokeRate = 1000/s, checked every 500 ms),
 * and the default here is etcd's; what it does not revoke this tick stays expired (keep-alive
 * refuses it) and is taken by a later tick.
 *
 * <p>A revoke that could not be proposed or applied (queue full, store full, stopping) is handed
 * back to the lessor, which offers it again a few seconds later. A revoke that finds the lease
 * gone (the client revoked it meanwhile) is done.
 *
 * <p>Checkpoints: each tick hands out at most {@link #CHECKPOINT_REQUESTS_PER_TICK} requests of
 * at most {@link Lessor#MAX_CHECKPOINTS_PER_REQUEST} leases each (etcd's rate and batch size), and
 * proposes them in the order the lessor gave them, from this one thread: that order is the lessor's
 * contract (a clear follows every earlier checkpoint of its lease). A keep-alive that queues a
 * clear asks for an extra round at once ({@link #checkpointSoon}), so followers learn of the
 * renewal within a commit instead of a tick. A checkpoint that could not be proposed or applied is
 * handed back to the lessor.
 *
 * <p>Only the leader expires and checkpoints leases: on other members a tick does nothing. A member
 * that becomes leader first calls {@link Lessor#promote}, so no lease dies for the failover.
 */
final class LeaseExpiry implements AutoCloseable {
    /** etcd's default leaseRevokeRate. */
    static final int REVOKES_PER_SECOND_DEFAULT = 1000;
    /** etcd's lessor checks for expired leases every 500 ms. */
    static final long TICK_MILLIS = 500;
    /** etcd proposes at most leaseCheckpointRate / 2 = 500 checkpoint requests per 500 ms round. */
    static final int CHECKPOINT_REQUESTS_PER_TICK = 500;

    private final Lessor lessor;
    private final Proposer proposer;
    private final java.util.function.BooleanSupplier isLeader;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** An extra checkpoint round is queued on the timer and has not started yet. */
    private final AtomicBoolean checkpointQueued = new AtomicBoolean();
    private volatile ScheduledExecutorService timer;

    /** Without lease checkpoints. */
    LeaseExpiry(Lessor lessor, Proposer proposer, java.util.function.BooleanSupplier isLeader, int revokesPerSecond) {
        this(lessor, proposer, isLeader, revokesPerSecond, null);
    }

    /**
     * @param checkpointInterval how often the leader checkpoints each lease's remaining TTL; null
     *                           for no checkpoints. Turned on in the lessor here, so it must be
     *                           made before the member can become leader.
     */
    LeaseExpiry(Lessor lessor, Proposer proposer, java.util.function.BooleanSupplier isLeader, int revokesPerSecond,
                Duration checkpointInterval) {
        this.lessor = lessor;
        this.proposer = proposer;
        this.isLeader = isLeader;
        this.maxInFlight = Math.max(1, (int) (revokesPerSecond * TICK_MILLIS / 1000));
        if (checkpointInterval != null) {
            lessor.enableCheckpoints(checkpointInterval, this::checkpointSoon);
        }
    }

    /** Starts ticking on its own thread. */
    void start() {
        timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-lease-expiry"));
        timer.scheduleWithFixedDelay(this::tickSafely, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            // a failed tick must not end the schedule; the claimed leases were handed back
            VigilServer.LOG.log(System.Logger.Level.WARNING, "lease expiry tick failed: " + e);
        }
        checkpointSafely();
    }

    private void checkpointSafely() {
        try {
            checkpoint();
        } catch (RuntimeException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "lease checkpoint round failed: " + e);
        }
    }

    /**
     * A clear was queued (any thread): run a checkpoint round on the timer thread soon, at most one
     * queued at a time. Before {@link #start} and after {@link #close} the ticks take care of it.
     */
    private void checkpointSoon() {
        ScheduledExecutorService t = timer;
        if (t == null || !checkpointQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            t.execute(() -> {
                checkpointQueued.set(false);
                checkpointSafely();
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            checkpointQueued.set(false);
        }
    }

    /**
     * One checkpoint round, on the timer thread (or a test's): proposes what the lessor hands out,
     * in its order; returns how many requests. Nothing off the leader.
     */
    int checkpoint() {
        if (!isLeader.getAsBoolean()) {
            return 0;
        }
        List<LeaseCheckpointRequest> requests = lessor.takeCheckpoints(CHECKPOINT_REQUESTS_PER_TICK);
        for (LeaseCheckpointRequest request : requests) {
            proposer.propose(InternalRequest.newBuilder().setLeaseCheckpoint(request).build())
                    .whenComplete((result, failure) -> {
                        if (failure != null || result.error() != null) {
                            lessor.checkpointFailed(request);
                        }
                    });
        }
        return requests.size();
    }

    /** One round: proposes revokes of expired leases up to the in-flight bound; returns how many. */
    int tick() {
        int room = maxInFlight - inFlight.get();
        if (room <= 0 || !isLeader.getAsBoolean()) {
            return 0;
        }
        List<Long> expired = lessor.claimExpired(room);
        for (long id : expired) {
            inFlight.incrementAndGet();
            proposer.propose(InternalRequest.newBuilder()
                            .setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)).build())
                    .whenComplete((result, failure) -> {
                        inFlight.decrementAndGet();
                        boolean gone = failure == null && (result.error() == null
                                || result.error().code() == RevLogException.Code.LEASE_NOT_FOUND);
                        if (!gone) {
                            lessor.unclaim(id);
                        }
                    });
        }
        return expired.size();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** Stops ticking; revokes already proposed are left to the proposer, which is closed after. */
    @Override
    public void close() {
        if (timer == null) {
            return;
        }
        timer.shutdown();
        try {
            if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
                timer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            timer.shutdownNow();
        }
    }
}
