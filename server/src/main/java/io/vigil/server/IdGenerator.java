package io.vigil.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * IDs made as etcd's idutil.Generator makes them, for lease grants that name none and for the
 * request ids proposals carry: the member's low 16 bits, then a 40-bit millisecond timestamp
 * taken at start and a counter that runs on from it, masked to a positive int64. Unique per
 * member as long as it makes fewer than 256 a millisecond on average since start; a clash with a
 * client-chosen lease ID is refused at apply with etcd's "lease already exists", as in etcd.
 */
final class IdGenerator {
    private static final int SUFFIX_BITS = 48;
    private static final int COUNTER_BITS = 8;
    private static final long SUFFIX_MASK = (1L << SUFFIX_BITS) - 1;

    private final long prefix;
    private final AtomicLong suffix;

    IdGenerator(long memberId, long unixMillis) {
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
