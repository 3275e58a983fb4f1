package io.vigil.server;

import io.vigil.proto.internal.MemberAttributes;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * etcd's publish: this member's name and client URLs go through the log as a
 * {@code member_attributes} request, so that every member lists them (also one that never had a
 * peer stream from this member, and after restarts) and counts this member as started.
 *
 * <p>Published once this member knows a leader and finds itself among the members its log made
 * (a joining member, only once it has applied its own addition), and again whenever the
 * membership records other attributes for it than its flags give (a restart with other client
 * URLs). At most one proposal is out at a time; one not applied here within the request timeout
 * is made again at the next check, as etcd retries publish every request timeout. Learners
 * publish too: the Raft core forwards a learner's proposal to the leader as a follower's.
 *
 * <p>Checks run every {@link #CHECK_MS} until the attributes are recorded here (a member learns
 * of a leader from its heartbeat, and other members' MemberList should not wait long for it),
 * then stop: nothing but this member's own publish changes them. A membership change applied
 * here looks once more ({@link #poke}).
 *
 * <p>Threads: checks run on the one {@code vigil-publish} thread.
 */
final class MemberPublisher implements AutoCloseable {
    static final long CHECK_MS = 10;

    private final Membership membership;
    private final ReplicatedLog log;
    private final MemberAttributes attributes;
    private volatile ScheduledFuture<?> checks;
    private final AtomicBoolean proposing = new AtomicBoolean();
    /** Completes once the membership here records this member's attributes. */
    private final CompletableFuture<Void> recordedHere = new CompletableFuture<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-publish"));

    MemberPublisher(Membership membership, ReplicatedLog log, long selfId, String name, List<URI> clientUrls) {
        this.membership = membership;
        this.log = log;
        MemberAttributes.Builder b = MemberAttributes.newBuilder().setMemberId(selfId).setName(name);
        clientUrls.forEach(u -> b.addClientUrls(u.toString()));
        this.attributes = b.build();
    }

    /** Starts checking; the log must be started. */
    void start() {
        checks = timer.scheduleWithFixedDelay(this::check, 0, CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /** Looks now rather than at the next check: the membership changed (this member may just have joined it). */
    void poke() {
        try {
            timer.execute(this::check);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // stopping: nothing more is published
        }
    }

    /** Whether the membership records what this member would publish. */
    private boolean recorded() {
        Membership.Member self = membership.member(attributes.getMemberId());
        return self != null && self.name().equals(attributes.getName())
                && self.clientUrls().equals(attributes.getClientUrlsList());
    }

    /**
     * Waits until this member's attributes are recorded here, for at most {@code timeoutMs}: a
     * joining member is ready once the cluster lists it (etcd serves only after publishing), so
     * that an operator adding the next member gets an initial cluster that names this one.
     */
    void awaitPublished(long timeoutMs) {
        try {
            recordedHere.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "name and client URLs not published within "
                    + timeoutMs + " ms; serving anyway, publishing goes on");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.CancellationException stopping) {
            // closed meanwhile: nothing to wait for
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private void check() {
        if (membership.member(attributes.getMemberId()) == null) {
            return;
        }
        if (recorded()) {
            recordedHere.complete(null);
            ScheduledFuture<?> c = checks;
            if (c != null) {
                c.cancel(false);
            }
            return;
        }
        if (log.node().leaderId() == 0 || !proposing.compareAndSet(false, true)) {
            return;
        }
        log.publish(attributes).whenComplete((recorded, failure) -> {
            proposing.set(false);
            if (failure != null) {
                VigilServer.LOG.log(System.Logger.Level.WARNING, "publishing name " + attributes.getName()
                        + " and client URLs " + attributes.getClientUrlsList() + " failed, trying again: " + failure);
            } else if (recorded) {
                VigilServer.LOG.log(System.Logger.Level.INFO, "published name " + attributes.getName()
                        + " and client URLs " + attributes.getClientUrlsList() + " to the cluster");
                poke();
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
        // a start waiting for the publish gives up: the member is stopping (or restarting to install a snapshot)
        recordedHere.cancel(false);
    }
}
