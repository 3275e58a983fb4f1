package io.vigil.revlog;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.LeaseCheckpoint;
import io.vigil.proto.etcdserverpb.LeaseCheckpointRequest;
import io.vigil.proto.internal.LeaseRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;

/**
 * The leases in memory: which exist (with their granted TTL), which keys are attached to each,
 * and when each expires. Named after etcd's lessor.
 *
 * <p>Two kinds of state, two owners:
 * <ul>
 *   <li>Existence, TTL, the checkpointed remaining TTL and attached keys are replicated state.
 *       Only the apply thread changes them ({@link #grant}, {@link #revoke}, {@link #attach},
 *       {@link #detach}, {@link #checkpoint}), in the same order as the LMDB writes that make
 *       them durable; the lease table in LMDB is their durable copy and a key's attachment is
 *       durable in its own KeyValue.lease.</li>
 *   <li>Expiry is leader-local and never logged (etcd does not log keep-alives either): a
 *       deadline on a {@link MonotonicClock}. Granting starts it at now + TTL, {@link #renew}
 *       (keep-alive) moves it to now + TTL. Opening the store starts every lease at now + TTL;
 *       {@link #promote} (becoming leader) at now + its checkpointed remaining TTL (its TTL when
 *       none is recorded or checkpoints are off) + the given extension (etcd extends by an
 *       election timeout), so neither a restart nor a failover shortens a lease.</li>
 * </ul>
 *
 * <p>Checkpoints (etcd's lease checkpointing, on when {@link #enableCheckpoints} was called): the
 * leader ({@link #promote}d, not {@link #demote}d) looks at each lease every checkpoint interval
 * while its remaining TTL exceeds the interval, and {@link #takeCheckpoints} hands out its
 * remaining TTL, rounded up to whole seconds, for the caller to propose through the log (at most
 * {@link #MAX_CHECKPOINTS_PER_REQUEST} leases per request); applying it records the value on
 * every member. Safety invariant: a recorded remaining TTL r of a lease never lets a promote
 * (now + r + extension) give it an earlier deadline than the leader's own. Checkpoints keep it
 * because remaining TTLs only shrink and are rounded up; a keep-alive breaks it (the deadline
 * moves out to a whole TTL), so {@link #renew}, and applying a checkpoint the leader finds stale,
 * queue a clear (remaining TTL 0: the whole TTL), which the next {@link #takeCheckpoints} hands
 * out ahead of every other checkpoint. Until a clear is applied, a failover may give that lease
 * its older recorded remaining TTL (plus the extension) instead of a whole TTL.
 *
 * <p>Expiry contract: once a lease's deadline has passed it is expired for good: {@link #renew}
 * refuses it, and it stays listed (with a remaining TTL ≤ 0) until its revoke is applied. The
 * expiry loop takes expired leases with {@link #claimExpired} (at most a given number, oldest
 * first), proposes their revokes, and hands back with {@link #unclaim} any whose revoke could not
 * be proposed, to be offered again {@link #RETRY_NANOS} later.
 *
 * <p>Reads ({@link #timeToLive}, {@link #leases}) run on any thread and may see the changes of a
 * batch still being applied, as etcd's lessor is changed before its backend commits.
 */
public final class Lessor {
    /** etcd's MaxLeaseTTL: larger TTLs get "etcdserver: too large lease TTL". */
    public static final long MAX_TTL_SECONDS = 9_000_000_000L;
    /** etcd's expiredLeaseRetryInterval: an expired lease whose revoke failed is offered again after this. */
    static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(3);
    /** etcd's maxLeaseCheckpointBatchSize: the most leases one checkpoint request carries. */
    public static final int MAX_CHECKPOINTS_PER_REQUEST = 1000;

    /** What LeaseTimeToLive reports of an existing lease. */
    public record TimeToLive(long id, long remainingSeconds, long grantedTtl, List<ByteString> keys) {
    }

    private final MonotonicClock clock;
    private volatile Map<Long, Lease> leases = new ConcurrentHashMap<>();
    /**
     * Each lease that is not claimed has exactly one current item ({@code Lease.due}), due at its
     * deadline (or at its retry time once handed back). Items superseded by a renewal stay in
     * place and are skipped when they come due, as in etcd's lease heap, so there are about
     * (renewals per TTL) items per lease. Guarded by itself.
     */
    private final PriorityQueue<Due> queue = new PriorityQueue<>(Due.ORDER);
    /**
     * Checkpoint schedule while primary: each lease has at most one current item
     * ({@code Lease.checkpointDue}); superseded ones are skipped. Empty when not primary. Guarded
     * by itself.
     */
    private final PriorityQueue<Due> checkpointQueue = new PriorityQueue<>(Due.ORDER);
    /** Leases whose recorded remaining TTL must be cleared, oldest first ({@code Lease.clearPending}). */
    private final ConcurrentLinkedQueue<Lease> clears = new ConcurrentLinkedQueue<>();
    /** Set by {@link #promote}, cleared by {@link #demote}: this member is the leader and checkpoints. */
    private volatile boolean primary;
    /** 0 while checkpoints are off. */
    private volatile long checkpointIntervalNanos;
    /** What the last {@link #promote} added to every deadline; a recorded remaining TTL counts with it. */
    private volatile long extendNanos;
    /** Told when a clear is queued, so that it is proposed without waiting for the next tick. */
    private volatile Runnable clearQueued = () -> { };

    Lessor(MonotonicClock clock) {
        this.clock = clock;
    }

    /** One queue item: look at {@code lease} when the clock reaches {@code at}. */
    private record Due(long at, Lease lease) {
        /** Clock readings compare by difference, so a clock that wraps around still orders. */
        static final Comparator<Due> ORDER = (a, b) -> Long.signum(a.at - b.at);
    }

    private static final class Lease {
        final long id;
        final long ttlSeconds;
        /** The checkpointed remaining TTL in seconds, 0 for none. Replicated: apply thread writes. */
        volatile long remainingTtl;
        /** Attached keys in etcd's order (unsigned bytes), which is the order revoke deletes them in. */
        final ConcurrentSkipListSet<byte[]> keys = new ConcurrentSkipListSet<>(Arrays::compareUnsigned);
        // expiry state, guarded by this
        private long deadline;
        private boolean claimed;
        /** The queue item that counts for this lease; null while claimed. */
        private Due due;
        /** The checkpoint queue item that counts for this lease; any other item of it is superseded. */
        private Due checkpointDue;
        /** In {@code clears}, not yet handed out. */
        private boolean clearPending;

        Lease(long id, long ttlSeconds) {
            this.id = id;
            this.ttlSeconds = ttlSeconds;
        }

        long ttlNanos() {
            return TimeUnit.SECONDS.toNanos(ttlSeconds);
        }

        synchronized long deadline() {
            return deadline;
        }

        /** Sets a new deadline, unclaimed; returns the item to queue for it. */
        synchronized Due expireAt(long at) {
            deadline = at;
            claimed = false;
            due = new Due(at, this);
            return due;
        }

        /** Keep-alive: null when expired or claimed, else the item to queue for the new deadline. */
        synchronized Due renew(long now) {
            if (claimed || deadline - now <= 0) {
                return null;
            }
            return expireAt(now + ttlNanos());
        }

        /** Claims the lease if {@code d} is its current item and its deadline has passed. */
        synchronized boolean claim(Due d, long now) {
            if (claimed || d != due || deadline - now > 0) {
                return false;
            }
            claimed = true;
            due = null;
            return true;
        }

        /** Hands a claimed lease back, to come due again at {@code retryAt}; null if not claimed. */
        synchronized Due unclaim(long retryAt) {
            if (!claimed) {
                return null;
            }
            claimed = false;
            due = new Due(retryAt, this);
            return due;
        }

        /** Copies the leader-local state; returns whether a clear is pending for the copy. */
        synchronized boolean copyExpiryOf(Lease old) {
            synchronized (old) {
                deadline = old.deadline;
                claimed = old.claimed;
                due = old.claimed ? null : new Due(old.due.at, this);
                clearPending = old.clearPending;
                return clearPending;
            }
        }

        /** Schedules the next checkpoint at {@code at}; returns the item to queue. */
        synchronized Due scheduleCheckpoint(long at) {
            checkpointDue = new Due(at, this);
            return checkpointDue;
        }

        /**
         * Whether the recorded remaining TTL would let a promote now ({@code now} + it +
         * {@code extend}) end this lease before its deadline; if so the lease is marked for a
         * clear, and true is returned exactly once until the clear is handed out.
         */
        synchronized boolean markClearIfStale(long now, long extend) {
            long recorded = remainingTtl;
            if (clearPending || claimed || recorded <= 0
                    || now + TimeUnit.SECONDS.toNanos(recorded) + extend - deadline >= 0) {
                return false;
            }
            clearPending = true;
            return true;
        }

        /** A clear could not be proposed: mark it again; true if the lease must be queued again. */
        synchronized boolean markClear() {
            if (clearPending) {
                return false;
            }
            clearPending = true;
            return true;
        }

        /** Hands out the pending clear; false if there is none. */
        synchronized boolean takeClear() {
            boolean was = clearPending;
            clearPending = false;
            return was;
        }

        /**
         * The checkpoint due with item {@code d}: the remaining TTL in whole seconds rounded up,
         * or 0 for none (a superseded item, an expired or claimed lease, or nothing left to
         * record: a remaining TTL of a whole TTL is what a promote gives anyway). Schedules the
         * next one {@code interval} later while more than that remains.
         */
        synchronized long takeCheckpoint(Due d, long now, long interval, PriorityQueue<Due> into) {
            if (d != checkpointDue) {
                return 0;
            }
            checkpointDue = null;
            long left = deadline - now;
            if (claimed || left <= 0) {
                return 0;
            }
            if (left - interval > 0) {
                checkpointDue = new Due(now + interval, this);
                into.add(checkpointDue);
            }
            long seconds = (left - 1) / 1_000_000_000L + 1;
            return seconds >= ttlSeconds ? 0 : seconds;
        }

        synchronized Due due() {
            return due;
        }
    }

    /** Whether the lease exists (granted, not yet revoked; possibly expired). Any thread. */
    public boolean exists(long id) {
        return leases.containsKey(id);
    }

    // ---- replicated state: apply thread only ----

    /** A new lease expiring TTL from now. The caller checked that the id is free. */
    void grant(long id, long ttlSeconds) {
        Lease l = new Lease(id, ttlSeconds);
        long now = clock.nanoTime();
        Due d = l.expireAt(now + l.ttlNanos());
        leases.put(id, l);
        enqueue(d);
        if (primary) {
            scheduleCheckpoint(l, now, l.ttlNanos());
        }
    }

    /** The granted TTL of an existing lease, or -1. */
    long grantedTtl(long id) {
        Lease l = leases.get(id);
        return l == null ? -1 : l.ttlSeconds;
    }

    /**
     * Applies a checkpoint: records the lease's remaining TTL (0 clears it). On the leader, a
     * recorded value below what the lease has left (an older leader's checkpoint, or one taken
     * before a keep-alive) queues a clear. Returns false when the lease does not exist.
     */
    boolean checkpoint(long id, long remainingTtlSeconds) {
        Lease l = leases.get(id);
        if (l == null) {
            return false;
        }
        l.remainingTtl = Math.max(0, remainingTtlSeconds);
        if (primary && checkpointIntervalNanos > 0) {
            clearIfStale(l, clock.nanoTime());
        }
        return true;
    }

    /** The lease's deadline on the clock (tests); the lease must exist. */
    long deadlineNanos(long id) {
        return leases.get(id).deadline();
    }

    /** The checkpointed remaining TTL in seconds, 0 for none (or no such lease). Any thread. */
    public long recordedRemainingTtl(long id) {
        Lease l = leases.get(id);
        return l == null ? 0 : l.remainingTtl;
    }

    /** Removes the lease; returns its attached keys in deletion order, or null if it did not exist. */
    List<byte[]> revoke(long id) {
        Lease l = leases.remove(id);
        return l == null ? null : new ArrayList<>(l.keys);
    }

    /** The keys attached to the lease in deletion order, or null if it does not exist. */
    List<byte[]> keys(long id) {
        Lease l = leases.get(id);
        return l == null ? null : new ArrayList<>(l.keys);
    }

    /** Attaches key to an existing lease (a put with this lease). No-op for lease 0. */
    void attach(long id, byte[] key) {
        Lease l = leases.get(id);
        if (l != null) {
            l.keys.add(key);
        }
    }

    /** Detaches key (overwritten without the lease, or deleted). No-op if not attached. */
    void detach(long id, byte[] key) {
        Lease l = leases.get(id);
        if (l != null) {
            l.keys.remove(key);
        }
    }

    /**
     * Replaces the replicated state with what the store holds: at open, and after a batch was
     * rolled back. A lease that already existed keeps its deadline (a rollback must not extend
     * it); a new one expires TTL from now. A keep-alive racing with a rollback may be lost, which
     * at worst lets that lease expire one renewal early; a rollback needs a full store.
     */
    void restore(Map<Long, LeaseRecord> stored, Map<Long, List<byte[]>> attached) {
        long now = clock.nanoTime();
        Map<Long, Lease> before = leases;
        Map<Long, Lease> after = new ConcurrentHashMap<>();
        List<Lease> pendingClears = new ArrayList<>();
        for (LeaseRecord rec : stored.values()) {
            Lease old = before.get(rec.getID());
            Lease l = new Lease(rec.getID(), rec.getTTL());
            l.remainingTtl = Math.max(0, rec.getRemainingTTL());
            if (old != null && old.ttlSeconds == l.ttlSeconds) {
                if (l.copyExpiryOf(old)) {
                    pendingClears.add(l);
                }
            } else {
                l.expireAt(now + l.ttlNanos());
            }
            l.keys.addAll(attached.getOrDefault(rec.getID(), List.of()));
            after.put(l.id, l);
        }
        leases = after;
        requeueAll();
        // the old leases' checkpoint items and queued clears no longer count: schedule afresh
        clears.clear();
        clears.addAll(pendingClears);
        synchronized (checkpointQueue) {
            checkpointQueue.clear();
        }
        if (primary) {
            for (Lease l : after.values()) {
                scheduleCheckpoint(l, now, l.deadline() - now);
            }
        }
    }

    // ---- expiry: any thread ----

    /**
     * Keep-alive: the lease now expires TTL from now. Returns the granted TTL, or 0 when the lease
     * does not exist or has expired (etcd's keep-alive answers TTL 0 for both; an expired lease
     * is never renewed, it is about to be revoked).
     */
    public long renew(long id) {
        Lease l = leases.get(id);
        long now = clock.nanoTime();
        Due d = l == null ? null : l.renew(now);
        if (d == null) {
            return 0;
        }
        enqueue(d);
        if (primary && checkpointIntervalNanos > 0) {
            // the deadline moved out: a recorded remaining TTL may now be below it
            clearIfStale(l, now);
        }
        return l.ttlSeconds;
    }

    /**
     * LeaseTimeToLive of an existing lease: remaining seconds truncated toward zero as etcd's
     * {@code int64(Remaining().Seconds())} (so ≤ 0 once expired and not yet revoked), the
     * granted TTL, and, if asked, the attached keys.
     */
    public Optional<TimeToLive> timeToLive(long id, boolean withKeys) {
        Lease l = leases.get(id);
        if (l == null) {
            return Optional.empty();
        }
        long remaining = (l.deadline() - clock.nanoTime()) / 1_000_000_000L;
        List<ByteString> keys = withKeys ? l.keys.stream().map(ByteString::copyFrom).toList() : List.of();
        return Optional.of(new TimeToLive(id, remaining, l.ttlSeconds, keys));
    }

    /** Every lease, soonest expiry first (etcd's leasesByExpiry). */
    public List<Long> leases() {
        long now = clock.nanoTime();
        List<Lease> all = new ArrayList<>(leases.values());
        List<long[]> byExpiry = new ArrayList<>(all.size());
        for (Lease l : all) {
            byExpiry.add(new long[] {l.deadline() - now, l.id});
        }
        byExpiry.sort(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
        return byExpiry.stream().map(a -> a[1]).toList();
    }

    public int size() {
        return leases.size();
    }

    /**
     * Claims up to {@code max} leases whose deadline has passed, soonest deadline first. A claimed
     * lease stays listed and refuses renewal; the caller must propose its revoke, or
     * {@link #unclaim} it.
     */
    public List<Long> claimExpired(int max) {
        List<Long> claimed = new ArrayList<>();
        synchronized (queue) {
            long now = clock.nanoTime();
            Due d;
            while (claimed.size() < max && (d = queue.peek()) != null && d.at - now <= 0) {
                queue.poll();
                // skip items of revoked leases and items a renewal or a claim superseded
                if (leases.get(d.lease.id) == d.lease && d.lease.claim(d, now)) {
                    claimed.add(d.lease.id);
                }
            }
        }
        return claimed;
    }

    /** The revoke of a claimed lease could not be proposed: offer it again after a while. */
    public void unclaim(long id) {
        Lease l = leases.get(id);
        Due d = l == null ? null : l.unclaim(clock.nanoTime() + RETRY_NANOS);
        if (d != null) {
            enqueue(d);
        }
    }

    /**
     * On open: every lease expires TTL from now (the leader's {@link #promote} decides later), so
     * no lease dies because the member was down.
     */
    void startDeadlines() {
        long now = clock.nanoTime();
        for (Lease l : leases.values()) {
            l.expireAt(now + l.ttlNanos());
        }
        requeueAll();
    }

    /**
     * This member became leader (etcd's Promote): every lease expires at now + its recorded
     * remaining TTL (its whole TTL when none is recorded or checkpoints are off) + {@code extend},
     * claims are dropped, and checkpoints are scheduled. Apply thread, in log order, so the
     * recorded values are those of every entry applied before the leadership change.
     */
    public void promote(Duration extend) {
        long extension = Math.max(0, extend.toNanos());
        long interval = checkpointIntervalNanos;
        extendNanos = extension;
        clears.clear();
        synchronized (checkpointQueue) {
            checkpointQueue.clear();
        }
        long now = clock.nanoTime();
        for (Lease l : leases.values()) {
            long recorded = l.remainingTtl;
            long base = interval > 0 && recorded > 0 ? TimeUnit.SECONDS.toNanos(recorded) : l.ttlNanos();
            l.expireAt(now + base + extension);
            l.takeClear();
            if (interval > 0) {
                scheduleCheckpoint(l, now, base);
            }
        }
        requeueAll();
        primary = true;
    }

    /** This member is no longer leader (etcd's Demote): no more checkpoints or clears from it. */
    public void demote() {
        primary = false;
        clears.clear();
        synchronized (checkpointQueue) {
            checkpointQueue.clear();
        }
    }

    /**
     * Turns checkpoints on, every {@code interval}; {@code clearQueued} is told (on the thread of
     * a keep-alive or of apply) when a clear is queued. Before the member can become leader.
     */
    public void enableCheckpoints(Duration interval, Runnable clearQueued) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the lease checkpoint interval must be positive");
        }
        this.clearQueued = clearQueued;
        this.checkpointIntervalNanos = interval.toNanos();
    }

    public boolean checkpointsEnabled() {
        return checkpointIntervalNanos > 0;
    }

    /**
     * The checkpoints to propose now, in order, as at most {@code maxRequests} requests of at most
     * {@link #MAX_CHECKPOINTS_PER_REQUEST} leases each: the queued clears first, then each lease
     * whose checkpoint is due. Empty unless primary with checkpoints on. The caller proposes them
     * in the order given, from one thread, so that a clear taken after a checkpoint of the same
     * lease is also proposed after it; what is left stays for the next call.
     */
    public List<LeaseCheckpointRequest> takeCheckpoints(int maxRequests) {
        long interval = checkpointIntervalNanos;
        List<LeaseCheckpointRequest> requests = new ArrayList<>();
        if (!primary || interval <= 0 || maxRequests <= 0) {
            return requests;
        }
        LeaseCheckpointRequest.Builder batch = LeaseCheckpointRequest.newBuilder();
        Lease c;
        while ((c = clears.poll()) != null) {
            if (leases.get(c.id) == c && c.takeClear()) {
                batch.addCheckpoints(LeaseCheckpoint.newBuilder().setID(c.id).setRemainingTTL(0));
                if (batch.getCheckpointsCount() == MAX_CHECKPOINTS_PER_REQUEST) {
                    requests.add(batch.build());
                    batch = LeaseCheckpointRequest.newBuilder();
                    if (requests.size() == maxRequests) {
                        return requests;
                    }
                }
            }
        }
        synchronized (checkpointQueue) {
            long now = clock.nanoTime();
            Due d;
            while ((d = checkpointQueue.peek()) != null && d.at - now <= 0) {
                checkpointQueue.poll();
                if (leases.get(d.lease.id) != d.lease) {
                    continue;
                }
                long remaining = d.lease.takeCheckpoint(d, now, interval, checkpointQueue);
                if (remaining > 0) {
                    batch.addCheckpoints(LeaseCheckpoint.newBuilder().setID(d.lease.id).setRemainingTTL(remaining));
                    if (batch.getCheckpointsCount() == MAX_CHECKPOINTS_PER_REQUEST) {
                        requests.add(batch.build());
                        batch = LeaseCheckpointRequest.newBuilder();
                        if (requests.size() == maxRequests) {
                            return requests;
                        }
                    }
                }
            }
        }
        if (batch.getCheckpointsCount() > 0) {
            requests.add(batch.build());
        }
        return requests;
    }

    /**
     * A checkpoint request could not be proposed or applied: its clears are queued again (for the
     * next call of {@link #takeCheckpoints}); its other checkpoints are simply taken again an
     * interval later, and meanwhile the older recorded values, which are larger, stand.
     */
    public void checkpointFailed(LeaseCheckpointRequest request) {
        if (!primary) {
            return;
        }
        for (LeaseCheckpoint cp : request.getCheckpointsList()) {
            Lease l = leases.get(cp.getID());
            if (cp.getRemainingTTL() == 0 && l != null && l.markClear()) {
                clears.add(l);
            }
        }
    }

    /** Queues a clear of l's recorded remaining TTL if it has become stale (see the class comment). */
    private void clearIfStale(Lease l, long now) {
        if (l.markClearIfStale(now, extendNanos)) {
            clears.add(l);
            clearQueued.run();
        }
    }

    /** Schedules l's first checkpoint one interval from now if more than that is left of it. */
    private void scheduleCheckpoint(Lease l, long now, long leftNanos) {
        long interval = checkpointIntervalNanos;
        if (interval > 0 && leftNanos - interval > 0) {
            Due d = l.scheduleCheckpoint(now + interval);
            synchronized (checkpointQueue) {
                checkpointQueue.add(d);
            }
        }
    }

    private void requeueAll() {
        synchronized (queue) {
            queue.clear();
            for (Lease l : leases.values()) {
                Due d = l.due();
                if (d != null) {
                    queue.add(d);
                }
            }
        }
    }

    private void enqueue(Due d) {
        synchronized (queue) {
            queue.add(d);
        }
    }
}
