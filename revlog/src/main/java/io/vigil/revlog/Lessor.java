package io.vigil.revlog;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;

/**
 * The leases in memory: which exist (with their granted TTL), which keys are attached to each,
 * and when each expires. Named after etcd's lessor.
 *
 * <p>Two kinds of state, two owners:
 * <ul>
 *   <li>Existence, TTL and attached keys are replicated state. Only the apply thread changes them
 *       ({@link #grant}, {@link #revoke}, {@link #attach}, {@link #detach}), in the same order as
 *       the LMDB writes that make them durable; the lease table in LMDB is their durable copy
 *       and a key's attachment is durable in its own KeyValue.lease.</li>
 *   <li>Expiry is leader-local and never logged (etcd does not log keep-alives either): a
 *       deadline on a {@link MonotonicClock}. Granting starts it at now + TTL, {@link #renew}
 *       (keep-alive) moves it to now + TTL, {@link #promote} (open, or becoming leader) moves
 *       every lease to now + TTL, so neither a restart nor a failover shortens a lease.</li>
 * </ul>
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
        /** Attached keys in etcd's order (unsigned bytes), which is the order revoke deletes them in. */
        final ConcurrentSkipListSet<byte[]> keys = new ConcurrentSkipListSet<>(Arrays::compareUnsigned);
        // expiry state, guarded by this
        private long deadline;
        private boolean claimed;
        /** The queue item that counts for this lease; null while claimed. */
        private Due due;

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

        synchronized void copyExpiryOf(Lease old) {
            synchronized (old) {
                deadline = old.deadline;
                claimed = old.claimed;
                due = old.claimed ? null : new Due(old.due.at, this);
            }
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
        Due d = l.expireAt(clock.nanoTime() + l.ttlNanos());
        leases.put(id, l);
        enqueue(d);
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
    void restore(Map<Long, Long> ttls, Map<Long, List<byte[]>> attached) {
        long now = clock.nanoTime();
        Map<Long, Lease> before = leases;
        Map<Long, Lease> after = new ConcurrentHashMap<>();
        for (Map.Entry<Long, Long> e : ttls.entrySet()) {
            Lease old = before.get(e.getKey());
            Lease l = new Lease(e.getKey(), e.getValue());
            if (old != null && old.ttlSeconds == l.ttlSeconds) {
                l.copyExpiryOf(old);
            } else {
                l.expireAt(now + l.ttlNanos());
            }
            l.keys.addAll(attached.getOrDefault(e.getKey(), List.of()));
            after.put(l.id, l);
        }
        leases = after;
        requeueAll();
    }

    // ---- expiry: any thread ----

    /**
     * Keep-alive: the lease now expires TTL from now. Returns the granted TTL, or 0 when the lease
     * does not exist or has expired (etcd's keep-alive answers TTL 0 for both; an expired lease
     * is never renewed, it is about to be revoked).
     */
    public long renew(long id) {
        Lease l = leases.get(id);
        Due d = l == null ? null : l.renew(clock.nanoTime());
        if (d == null) {
            return 0;
        }
        enqueue(d);
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
     * Every lease expires TTL from now, claims are dropped: etcd's Promote, done on open and
     * (with Raft) when this member becomes leader, so no lease dies for a restart or failover.
     */
    public void promote() {
        long now = clock.nanoTime();
        for (Lease l : leases.values()) {
            l.expireAt(now + l.ttlNanos());
        }
        requeueAll();
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
