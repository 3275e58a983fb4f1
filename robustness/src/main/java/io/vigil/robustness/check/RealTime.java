package io.vigil.robustness.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The real-time check: instants t(2) < t(3) < … for the revisions, each within the interval of the
 * request that wrote it, such that every linearizable read answered at r overlaps [t(r), t(r+1)).
 * Every constraint is a bound on one t(r) or on t(r) - t(r-1), so assigning each t(r) the earliest
 * value its lower bounds allow decides feasibility in one pass. Where it is infeasible, the two
 * bounds that clash name the operations to blame. Stale reads are then left out, so t(r) stays
 * the earliest instant the others allow and later revisions are not blamed on them.
 */
final class RealTime {
    static final long NEG = Long.MIN_VALUE;
    static final long POS = Long.MAX_VALUE;

    enum Role { WRITE_CALL, WRITE_RETURN, READ_CALL, READ_RETURN, WATCHED }

    /**
     * Why a bound has its value: an operation's call or return at the revision it wrote or read, or
     * a watcher receiving the revision ({@code seen}).
     */
    record Bound(long nanos, Op op, long revision, Role role, WatchHistory.Seen seen) {
        Bound(long nanos, Op op, long revision, Role role) {
            this(nanos, op, revision, role, null);
        }
    }

    record Read(Op op, long revision) {
    }

    private final long last;
    private final long[] writerLo;
    private final long[] writerHi;
    private final Op[] writer;
    private final WatchHistory watched;
    private final Map<Long, List<Read>> readsAt = new HashMap<>();
    private final long[] t;
    private final Bound[] why;
    private final List<Violation> violations = new ArrayList<>();
    private final Set<String> reported = new HashSet<>();

    /**
     * @param writerLo the earliest instant revision r can have been written (NEG when unknown)
     * @param writerHi the latest (POS when unknown)
     * @param writer   the request that wrote r when one is known, for messages
     * @param watched  when watchers first received each revision: it was written by then
     */
    RealTime(long last, long[] writerLo, long[] writerHi, Op[] writer, WatchHistory watched, List<Read> linearizableReads) {
        this.last = last;
        this.watched = watched;
        this.writerLo = writerLo;
        this.writerHi = writerHi;
        this.writer = writer;
        for (Read read : linearizableReads) {
            readsAt.computeIfAbsent(read.revision(), r -> new ArrayList<>()).add(read);
        }
        this.t = new long[(int) last + 2];
        this.why = new Bound[(int) last + 2];
    }

    List<Violation> check() {
        t[(int) WatchHistory.FIRST_REVISION] = NEG;
        for (int r = (int) WatchHistory.FIRST_REVISION + 1; r <= last; r++) {
            // lower bounds: the writer's call, just after t(r-1), just after the calls of reads at r-1
            long base = writerLo[r];
            Bound baseWhy = base == NEG ? null : new Bound(base, writer[r], r, Role.WRITE_CALL);
            if (t[r - 1] != NEG && t[r - 1] + 1 > base) {
                base = t[r - 1] + 1;
                baseWhy = why[r - 1];
            }
            // upper bounds: the writer's return, the first watch of r, the returns of reads at r
            long upper = writerHi[r];
            Bound upperWhy = upper == POS ? null : new Bound(upper, writer[r], r, Role.WRITE_RETURN);
            WatchHistory.Seen seen = watched.firstSeen(r);
            if (seen != null && seen.nanos() < upper) {
                upper = seen.nanos();
                upperWhy = new Bound(upper, null, r, Role.WATCHED, seen);
            }
            for (Read read : readsAt.getOrDefault((long) r, List.of())) {
                if (read.op().ret() < upper) {
                    upper = read.op().ret();
                    upperWhy = new Bound(upper, read.op(), r, Role.READ_RETURN);
                }
            }
            // reads at r-1 called after r can last have been written are stale: reported, then left out
            // so that t(r) stays the earliest instant the rest allows and nothing later is blamed on them
            long lower = base;
            Bound lowerWhy = baseWhy;
            List<Read> stale = new ArrayList<>();
            for (Read read : readsAt.getOrDefault((long) r - 1, List.of())) {
                if (read.op().call() + 1 > upper) {
                    stale.add(read);
                } else if (read.op().call() + 1 > lower) {
                    lower = read.op().call() + 1;
                    lowerWhy = new Bound(read.op().call(), read.op(), r - 1, Role.READ_CALL);
                }
            }
            stale.sort(Comparator.comparingLong(read -> read.op().call()));
            for (Read read : stale) {
                reportStale(read.op(), read.revision(), upperWhy);
            }
            if (base > upper) {
                report(r, baseWhy, upperWhy);
            }
            t[r] = lower;
            why[r] = lowerWhy;
        }
        return violations;
    }

    /** The earliest instant revision r can have been written at; NEG when unconstrained. */
    long earliest(long revision) {
        return revision <= last ? t[(int) revision] : NEG;
    }

    Bound earliestWhy(long revision) {
        return revision <= last ? why[(int) revision] : null;
    }

    private void reportStale(Op read, long revision, Bound upperWhy) {
        if (reported.add("stale " + read.index())) {
            violations.add(Violation.ofOperation(Violation.Kind.STALE_READ, revision, read, "stale read: " + read.describe()
                    + " answered revision " + revision + ", after " + describe(upperWhy)));
        }
    }

    /**
     * The lower bound from before r (a writer's call, or through t(r-1) a read's call at an earlier
     * revision) clashes with an upper bound of r. Each operation is blamed once: a clash carried on
     * through later revisions by the same bound is the same violation.
     */
    private void report(int r, Bound lowerWhy, Bound upperWhy) {
        if (lowerWhy.role() == Role.READ_CALL) {
            reportStale(lowerWhy.op(), lowerWhy.revision(), upperWhy);
            return;
        }
        Op lowerOp = lowerWhy.op();
        String written = lowerOp == null ? "revision " + lowerWhy.revision()
                : "the write of revision " + lowerWhy.revision() + " (" + lowerOp.describe() + ")";
        String called = ", but " + written + " was called only at " + Keys.seconds(lowerWhy.nanos());
        if (upperWhy.role() == Role.WATCHED) {
            if (reported.add("watch " + upperWhy.seen().watcher() + " " + lowerWhy.revision())) {
                violations.add(Violation.ofWatcher(Violation.Kind.READ_FROM_FUTURE, r, upperWhy.nanos(),
                        upperWhy.seen().watcher(), "watch from the future: " + describe(upperWhy) + called));
            }
        } else if (upperWhy.role() == Role.READ_RETURN) {
            if (reported.add("future " + upperWhy.op().index())) {
                violations.add(Violation.ofOperation(Violation.Kind.READ_FROM_FUTURE, r, upperWhy.op(),
                        "read from the future: " + upperWhy.op().describe() + " answered revision " + r + called));
            }
        } else if (reported.add("order " + lowerOp.index() + " " + upperWhy.op().index())) {
            violations.add(Violation.ofOperation(Violation.Kind.WRITE_ORDER, lowerWhy.revision(), lowerOp,
                    "revisions out of real-time order: " + written + " was called at " + Keys.seconds(lowerWhy.nanos())
                            + ", after " + describe(upperWhy)));
        }
    }

    private static String describe(Bound b) {
        if (b.role() == Role.WATCHED) {
            return "watcher " + b.seen().watcher() + " on " + b.seen().member() + " had received revision " + b.revision()
                    + " at " + Keys.seconds(b.nanos());
        }
        if (b.role() == Role.WRITE_RETURN) {
            return "revision " + b.revision() + " was acknowledged at " + Keys.seconds(b.nanos())
                    + (b.op() == null ? "" : " to " + b.op().describe());
        }
        return "a read had returned revision " + b.revision() + " at " + Keys.seconds(b.nanos()) + " ("
                + b.op().describe() + ")";
    }
}
