package io.vigil.robustness.check;

import io.vigil.proto.history.Operation;
import io.vigil.robustness.history.History;
import java.util.ArrayList;
import java.util.List;

/**
 * The entry point: judges a history with every checker. Pure: no I/O, no clock; the same history
 * gives the same report, violations in a fixed order (watch history, linearizability, watch
 * guarantees; within each, by revision as found).
 */
public final class Checkers {
    private Checkers() {
    }

    public static CheckReport checkAll(History history) {
        List<Op> ops = new ArrayList<>(history.operations().size());
        int i = 0;
        for (Operation o : history.operations()) {
            ops.add(new Op(i++, o));
        }
        List<WatcherStream> streams = WatcherStream.parse(history.watches());
        WatchHistory watched = new WatchHistory(history, streams);
        States states = new States(watched);
        List<Violation> violations = new ArrayList<>(watched.violations());
        violations.addAll(new Linearizability(ops, watched, states).check());
        WatchGuarantees guarantees = new WatchGuarantees(watched, states, compactions(history));
        violations.addAll(guarantees.check(streams));
        int events = 0;
        for (long r = WatchHistory.FIRST_REVISION + 1; r <= watched.lastRevision(); r++) {
            events += watched.events(r).size();
        }
        return new CheckReport(violations, ops.size(), streams.size(), watched.lastRevision(), events, guarantees.notes());
    }

    /** Every compaction that may have happened: {call nanos, revision}, in call order. */
    private static List<long[]> compactions(History history) {
        List<long[]> out = new ArrayList<>();
        for (Operation o : history.operations()) {
            if (o.getRequest().hasCompaction() && !o.getDefinitelyFailed()) {
                out.add(new long[] {o.getCallNanos(), o.getRequest().getCompaction().getRevision()});
            }
        }
        out.sort(java.util.Comparator.comparingLong(c -> c[0]));
        return out;
    }
}
