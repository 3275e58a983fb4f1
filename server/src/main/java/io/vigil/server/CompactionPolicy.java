package io.vigil.server;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * etcd 3.4's auto-compaction decisions (its compactor package) as a deterministic core: no
 * thread, no clock, no store. The scheduler ({@link AutoCompactor}) calls {@link #tick} every
 * {@link #tickInterval} with the time and the current revision, proposes the compaction it
 * returns, and reports the outcome to {@link #completed}. Only the leader compacts; a member that
 * does not lead still ticks (the periodic mode keeps sampling revisions, as etcd's paused
 * compactor does), so a new leader compacts on the revisions it saw.
 */
abstract sealed class CompactionPolicy {
    /** What {@link #tick} returns when nothing is to be compacted. */
    static final long NONE = 0;
    static final String PERIODIC = "periodic";
    static final String REVISION = "revision";

    /** Makes the policy when the scheduler starts, from the clock and the revision then. */
    @FunctionalInterface
    interface Start {
        CompactionPolicy at(long nowNanos, long revision);
    }

    /**
     * What {@code --auto-compaction-mode} and {@code --auto-compaction-retention} ask for, parsed as
     * etcd 3.4 parses them: a bare whole number is hours (periodic) or revisions (revision); in
     * periodic mode a Go duration ("30m", "1h30m") too. Null when the retention is 0: no
     * auto-compaction (the default).
     *
     * @param revisionInterval how often the revision mode compacts ({@link Revisions#INTERVAL}; tests shorten it)
     */
    static Start parse(String mode, String retention, Duration revisionInterval) {
        String r = retention.trim();
        boolean whole = r.matches("\\d+");
        switch (mode) {
            case PERIODIC -> {
                Duration period = whole ? Duration.ofHours(Long.parseLong(r)) : ServerFlags.goDurationOrZero(r);
                return period.isZero() ? null : checked((now, rev) -> new Periodic(period, now, rev));
            }
            case REVISION -> {
                if (!whole) {
                    throw new IllegalArgumentException("--auto-compaction-retention must be a whole number of revisions"
                            + " in revision mode, got \"" + retention + "\"");
                }
                long revisions = Long.parseLong(r);
                return revisions == 0 ? null : checked((now, rev) -> new Revisions(revisions, revisionInterval));
            }
            default -> throw new IllegalArgumentException("unsupported compaction mode " + mode
                    + " (--auto-compaction-mode is periodic or revision)");
        }
    }

    /** The start, made once here so that a bad retention is refused with the flags, not later. */
    private static Start checked(Start start) {
        start.at(0, 1);
        return start;
    }

    /** How often the scheduler ticks. */
    abstract Duration tickInterval();

    /**
     * One tick at {@code nowNanos} (a monotonic clock) with the store at {@code revision}: the
     * revision to compact at, or {@link #NONE}.
     */
    abstract long tick(long nowNanos, long revision, boolean leader);

    /**
     * The compaction {@link #tick} asked for ended at {@code nowNanos}: applied, or refused as
     * already compacted (both success, as in etcd), or failed (timed out, not leader any more).
     */
    abstract void completed(long nowNanos, long target, boolean succeeded);

    /** The retention, as the log line of a compaction names it. */
    abstract String retention();

    /** The mode's name, as the flag and the log lines name it. */
    abstract String mode();

    /**
     * etcd's periodic mode: keep {@code retention} of history. A revision is sampled every tenth of
     * the retention (of an hour when the retention is longer); once a whole retention has passed
     * since the start (or since the last compaction, after the first: the compaction interval, the
     * retention but at most an hour) the leader compacts to the oldest sample kept, the revision
     * from one retention ago. A failed compaction is tried again on the next tick.
     */
    static final class Periodic extends CompactionPolicy {
        private final Duration period;
        private final Duration retryInterval;
        private final Duration compactInterval;
        /** Samples kept: one a retry interval across a whole period, plus one. */
        private final int retentions;
        /** The newest samples, oldest first; the first is the revision one period ago. */
        private final ArrayDeque<Long> revisions = new ArrayDeque<>();
        private long lastSuccessNanos;
        /** The period until the first compaction, the compaction interval after it. */
        private Duration baseInterval;

        /** Starts at {@code nowNanos}, with its first sample. */
        Periodic(Duration period, long nowNanos, long revision) {
            if (period.isNegative() || period.isZero()) {
                throw new IllegalArgumentException("the periodic retention must be positive, got " + period);
            }
            this.period = period;
            this.compactInterval = period.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : period;
            this.retryInterval = compactInterval.dividedBy(10);
            if (retryInterval.isZero()) {
                throw new IllegalArgumentException("the periodic retention is too short: " + period);
            }
            this.retentions = (int) (period.toNanos() / retryInterval.toNanos()) + 1;
            this.baseInterval = period;
            this.lastSuccessNanos = nowNanos;
            sample(revision);
        }

        @Override
        Duration tickInterval() {
            return retryInterval;
        }

        @Override
        long tick(long nowNanos, long revision, boolean leader) {
            long target = NONE;
            if (leader && nowNanos - lastSuccessNanos >= baseInterval.toNanos()) {
                // after the first, wait the compaction interval (at most an hour), not the period
                baseInterval = compactInterval;
                target = revisions.peekFirst();
            }
            sample(revision);
            return target;
        }

        private void sample(long revision) {
            revisions.addLast(revision);
            if (revisions.size() > retentions) {
                revisions.removeFirst();
            }
        }

        @Override
        void completed(long nowNanos, long target, boolean succeeded) {
            if (succeeded) {
                lastSuccessNanos = nowNanos;
            }
        }

        @Override
        String retention() {
            return period.toString();
        }

        @Override
        String mode() {
            return "periodic";
        }
    }

    /**
     * etcd's revision mode: every five minutes the leader compacts to the current revision minus
     * {@code retention}, unless that is not positive or is what it last compacted to.
     */
    static final class Revisions extends CompactionPolicy {
        /** etcd's revInterval. */
        static final Duration INTERVAL = Duration.ofMinutes(5);

        private final long retention;
        private final Duration interval;
        /** The last revision compacted to; 0 for none. */
        private long previous;

        Revisions(long retention, Duration interval) {
            if (retention <= 0) {
                throw new IllegalArgumentException("the revision retention must be positive, got " + retention);
            }
            this.retention = retention;
            this.interval = interval;
        }

        @Override
        Duration tickInterval() {
            return interval;
        }

        @Override
        long tick(long nowNanos, long revision, boolean leader) {
            long target = revision - retention;
            return leader && target > 0 && target != previous ? target : NONE;
        }

        @Override
        void completed(long nowNanos, long target, boolean succeeded) {
            if (succeeded) {
                previous = target;
            }
        }

        @Override
        String retention() {
            return retention + " revisions";
        }

        @Override
        String mode() {
            return "revision";
        }
    }
}
