package io.vigil.server;

import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.RevLogException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The scheduler around a {@link CompactionPolicy} ({@code --auto-compaction-mode},
 * {@code --auto-compaction-retention}): a thread ({@code vigil-auto-compaction}) that ticks the
 * policy every tick interval and, when it names a revision and this member leads, proposes a
 * Compaction through the log, exactly as a client's compact is, and waits for it to be applied
 * before the next tick. One log line per compaction, as etcd's compactor logs.
 */
final class AutoCompactor implements AutoCloseable {
    private final CompactionPolicy.Start start;
    private final Proposer proposer;
    private final LongSupplier currentRevision;
    private final BooleanSupplier isLeader;
    private final long timeoutMs;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-auto-compaction"));
    private CompactionPolicy policy;

    AutoCompactor(CompactionPolicy.Start start, Proposer proposer, LongSupplier currentRevision,
                  BooleanSupplier isLeader, long timeoutMs) {
        this.start = start;
        this.proposer = proposer;
        this.currentRevision = currentRevision;
        this.isLeader = isLeader;
        this.timeoutMs = timeoutMs;
    }

    void start() {
        policy = start.at(System.nanoTime(), currentRevision.getAsLong());
        long ms = Math.max(1, policy.tickInterval().toMillis());
        timer.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        long target = policy.tick(System.nanoTime(), currentRevision.getAsLong(), isLeader.getAsBoolean());
        if (target == CompactionPolicy.NONE) {
            return;
        }
        boolean succeeded = compact(target);
        policy.completed(System.nanoTime(), target, succeeded);
    }

    /** Proposes the compaction and waits for it; true when applied or already compacted (etcd's success). */
    private boolean compact(long target) {
        String what = "auto " + policy.mode() + " compaction at revision " + target + " (retention: " + policy.retention() + ")";
        try {
            ApplyResult r = proposer.propose(InternalRequest.newBuilder()
                            .setCompaction(CompactionRequest.newBuilder().setRevision(target)).build())
                    .get(timeoutMs, TimeUnit.MILLISECONDS);
            if (r.error() == null || r.error().code() == RevLogException.Code.COMPACTED) {
                VigilServer.LOG.log(System.Logger.Level.INFO, "completed " + what
                        + (r.error() == null ? "" : ": already compacted"));
                return true;
            }
            VigilServer.LOG.log(System.Logger.Level.WARNING, "failed " + what + ": " + r.error().getMessage()
                    + "; retry after " + policy.tickInterval());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "failed " + what + ": "
                    + EtcdErrors.toStatus(e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e).getStatus().getDescription()
                    + "; retry after " + policy.tickInterval());
        }
        return false;
    }

    /** Stops ticking; a compaction under way is waited for no longer than its proposal's timeout. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
