package io.vigil.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lease IDs for grants that name none, made as etcd's idutil.Generator makes them: the member's
 * low 16 bits, then a 40-bit millisecond timestamp taken at start and a counter that runs on from
 * it, masked to a positive int64. Unique per member as long as it grants fewer than 256 leases a
 * millisecond on average since start; a clash with a client-chosen ID is refused at apply with
 * etcd's "lease already exists", as in etcd.
 */
final class LeaseIds {
    private static final int SUFFIX_BITS = 48;
    private static final int COUNTER_BITS = 8;
    private static final long SUFFIX_MASK = (1L << SUFFIX_BITS) - 1;

    private final long prefix;
    private final AtomicLong suffix;

    LeaseIds(long memberId, long unixMillis) {
        this.prefix = (memberId & 0xffff) << SUFFIX_BITS;
        this.suffix = new AtomicLong((unixMillis & ((1L << (SUFFIX_BITS - COUNTER_BITS)) - 1)) << COUNTER_BITS);
    }

    /** A non-zero positive ID. */
    long next() {
        while (true) {
            long id = (prefix | (suffix.incrementAndGet() & SUFFIX_MASK)) & Long.MAX_VALUE;
            if (id != 0) {
                return id;
            }
        }
    }
}
