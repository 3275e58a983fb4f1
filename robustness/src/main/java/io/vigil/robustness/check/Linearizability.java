package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Linearizability judged by revisions (README, "How the history is judged"): every revision is
 * explained by exactly one request, every response agrees with the states, and the revisions fit
 * the requests' real-time intervals ({@link RealTime}, serializable reads in {@link SerializableReads}).
 *
 * <p>Content is judged only below the first revision no watcher saw: above it the states are not
 * known (that gap is reported by {@link WatchHistory}).
 */
final class Linearizability {
    private final WatchHistory watched;
    private final States states;
    private final long last;
    private final List<Violation> violations = new ArrayList<>();

    private final TreeMap<Long, List<Op>> claims = new TreeMap<>();
    private final List<Op> noChangeWrites = new ArrayList<>();
    private final List<Op> ranges = new ArrayList<>();
    private final List<Op> revokes = new ArrayList<>();
    private final UnknownWrites unknown;

    private final long[] writerLo;
    private final long[] writerHi;
    private final Op[] writer;
    private final List<RealTime.Read> linearizableReads = new ArrayList<>();
    private final List<RealTime.Read> serializableReads = new ArrayList<>();

    Linearizability(List<Op> ops, WatchHistory watched, States states) {
        this.watched = watched;
        this.states = states;
        this.last = watched.lastRevision();
        List<Op> unknownWrites = new ArrayList<>();
        for (Op op : ops) {
            switch (op.status()) {
                case OK -> {
                    if (op.isKvWrite() && op.responseClaimsChange()) {
                        claims.computeIfAbsent(op.headerRevision(), r -> new ArrayList<>()).add(op);
                    } else if (op.isKvWrite()) {
                        noChangeWrites.add(op);
                    } else if (op.isRange()) {
                        ranges.add(op);
                    } else if (op.request().getKindCase() == Request.KindCase.LEASE_REVOKE) {
                        revokes.add(op);
                    }
                    // lease, compaction and defragment headers are not judged: see the README
                }
                case UNKNOWN -> {
                    if (op.isKvWrite()) {
                        unknownWrites.add(op);
                    }
                }
                case FAILED -> {
                }
            }
        }
        this.unknown = new UnknownWrites(unknownWrites);
        int size = (int) last + 2;
        writerLo = new long[size];
        writerHi = new long[size];
        writer = new Op[size];
        Arrays.fill(writerLo, RealTime.NEG);
        Arrays.fill(writerHi, RealTime.POS);
    }

    List<Violation> check() {
        for (var claim : claims.headMap(WatchHistory.FIRST_REVISION, true).entrySet()) {
            for (Op op : claim.getValue()) {
                violations.add(Violation.ofOperation(Violation.Kind.WRONG_WRITE, claim.getKey(), op,
                        op.describe() + " claims it wrote revision " + claim.getKey() + ", but the first write is revision "
                                + (WatchHistory.FIRST_REVISION + 1)));
            }
        }
        for (long r = WatchHistory.FIRST_REVISION + 1; r <= last; r++) {
            explain(r);
        }
        for (Op op : noChangeWrites) {
            judgeUnchanged(op);
        }
        for (Op op : ranges) {
            judgeRange(op);
        }
        for (Op op : revokes) {
            judgeRevoke(op);
        }
        RealTime realTime = new RealTime(last, writerLo, writerHi, writer, watched, linearizableReads);
        violations.addAll(realTime.check());
        violations.addAll(new SerializableReads(realTime, serializableReads).check());
        return violations;
    }

    private boolean known(long revision) {
        return revision < watched.firstUnwatched();
    }

    /** Finds the one request that wrote revision r and sets its real-time interval. */
    private void explain(long r) {
        List<Op> claimants = claims.getOrDefault(r, List.of());
        if (!watched.watched(r)) {
            for (Op op : claimants) {
                violations.add(Violation.ofOperation(Violation.Kind.LOST_WRITE, r, op, "lost acknowledged write: "
                        + op.describe() + " was acknowledged at revision " + r + ", which no watcher ever saw"));
            }
            reportDuplicates(r, claimants, null);
            return; // unknown effect: unconstrained in real time
        }
        List<Event> actual = watched.events(r);
        if (!claimants.isEmpty()) {
            Op chosen = claimants.get(0);
            for (Op op : claimants) {
                Apply.Outcome o = claimants.size() == 1 ? null : quietOutcome(op, r - 1, r);
                if (o != null && o.error() == null && sameEvents(o.events(), actual)) {
                    chosen = op;
                    break;
                }
            }
            reportDuplicates(r, claimants, chosen);
            if (known(r)) {
                judgeWrite(chosen, r, actual);
            }
            writerLo[(int) r] = chosen.call();
            writerHi[(int) r] = chosen.ret();
            writer[(int) r] = chosen;
            return;
        }
        if (!known(r)) {
            return;
        }
        if (leaseEnded(r, actual)) {
            return; // a lease's expiry (or revoke) may happen at any time
        }
        Op op = unknown.explain(r, actual, states, this::sameEvents);
        if (op != null) {
            writerLo[(int) r] = op.call();
            writer[(int) r] = op;
            return;
        }
        violations.add(Violation.ofRevision(Violation.Kind.UNEXPLAINED_REVISION, r, "revision " + r + " "
                + Events.show(actual) + " was written by no request: no acknowledged write names it, no request of "
                + "unknown outcome gives it applied to revision " + (r - 1) + ", and it is no lease's expiry"));
    }

    private void reportDuplicates(long r, List<Op> claimants, Op chosen) {
        for (Op op : claimants) {
            if (op != chosen && (chosen != null || op != claimants.get(0))) {
                Op other = chosen != null ? chosen : claimants.get(0);
                violations.add(Violation.ofOperation(Violation.Kind.DUPLICATE_REVISION, r, op, "duplicate revision: "
                        + op.describe() + " and " + other.describe() + " were both acknowledged as writing revision " + r));
            }
        }
    }

    /** A write that claims revision r: S(r-1) under its request gives S(r), and it answered as etcd would. */
    private void judgeWrite(Op op, long r, List<Event> actual) {
        Apply.Outcome expected = outcome(op, r - 1, r);
        if (expected == null) {
            return;
        }
        if (expected.error() != null) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_WRITE, r, op, op.describe()
                    + " succeeded at revision " + r + ", but at revision " + (r - 1) + " etcd refuses it: " + expected.error()));
            return;
        }
        if (wrongBranch(op, r - 1, expected)) {
            return;
        }
        if (!sameEvents(expected.events(), actual)) {
            boolean anySeen = false;
            for (Event e : expected.events()) {
                for (Event a : actual) {
                    anySeen |= a.getKv().getKey().equals(e.getKv().getKey()) && a.getType() == e.getType()
                            && a.getKv().getValue().equals(e.getKv().getValue());
                }
            }
            violations.add(Violation.ofOperation(anySeen ? Violation.Kind.WRONG_WRITE : Violation.Kind.LOST_WRITE, r, op,
                    (anySeen ? "wrong write: " : "lost acknowledged write: ") + op.describe() + " was acknowledged at revision "
                            + r + ", which should hold " + Events.show(expected.events()) + " but the watchers saw "
                            + Events.show(actual)));
            return;
        }
        String diff = Responses.diff(expected.response(), op.response());
        if (diff != null) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, r, op,
                    "wrong response: " + op.describe() + " at revision " + r + ": " + diff));
        }
    }

    /** A write that changed nothing is a read at its header revision h: applied to S(h) it changes nothing. */
    private void judgeUnchanged(Op op) {
        long h = op.headerRevision();
        linearizableReads.add(new RealTime.Read(op, h));
        if (!known(h) || h > last) {
            return;
        }
        Apply.Outcome expected = outcome(op, h, h + 1);
        if (expected == null || wrongBranch(op, h, expected)) {
            return;
        }
        if (expected.error() != null) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, h, op, "wrong response: " + op.describe()
                    + " succeeded at revision " + h + ", but etcd refuses it there: " + expected.error()));
        } else if (expected.changed()) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, h, op, "wrong response: " + op.describe()
                    + " answered at revision " + h + " as having changed nothing, but there it gives "
                    + Events.show(expected.events())));
        } else {
            String diff = Responses.diff(expected.response(), op.response());
            if (diff != null) {
                violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, h, op,
                        "wrong response: " + op.describe() + " at revision " + h + ": " + diff));
            }
        }
    }

    /** A range answered at header h returns S(h), or S(revision) when it asked for one. */
    private void judgeRange(Op op) {
        var req = op.request().getRange();
        long h = op.headerRevision();
        (req.getSerializable() ? serializableReads : linearizableReads).add(new RealTime.Read(op, h));
        long at = req.getRevision() > 0 ? req.getRevision() : h;
        if (at > h) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, h, op, "wrong response: " + op.describe()
                    + " answered with header revision " + h + ", below the revision it asked for"));
            return;
        }
        if (!known(at) || at > last) {
            return;
        }
        try {
            String diff = Responses.diff(Apply.range(states.at(at), req), op.response().getRange());
            if (diff != null) {
                violations.add(Violation.ofOperation(Violation.Kind.WRONG_RESPONSE, at, op,
                        "wrong response: " + op.describe() + " answered at revision " + at + ": " + diff));
            }
        } catch (Apply.Unsupported e) {
            violations.add(Violation.ofOperation(Violation.Kind.UNSUPPORTED_REQUEST, at, op,
                    "not judged: " + op.describe() + ": " + e.getMessage()));
        }
    }

    /** A revoked lease's keys are gone by the revision the revoke answered at. */
    private void judgeRevoke(Op op) {
        long h = op.headerRevision();
        long lease = op.request().getLeaseRevoke().getID();
        if (!known(h) || h > last || lease == 0) {
            return;
        }
        List<ByteString> kept = states.keysWithLease(lease, h);
        if (!kept.isEmpty()) {
            violations.add(Violation.ofOperation(Violation.Kind.WRONG_WRITE, h, op, "lease keys kept: " + op.describe()
                    + " answered at revision " + h + ", where keys attached to the lease remain: "
                    + kept.stream().map(Keys::show).toList()));
        }
    }

    /** The request applied to S(base) as revision r; null (and reported) when the model does not judge it. */
    private Apply.Outcome outcome(Op op, long base, long r) {
        try {
            return Apply.apply(states.at(base), r, op.request());
        } catch (Apply.Unsupported e) {
            violations.add(Violation.ofOperation(Violation.Kind.UNSUPPORTED_REQUEST, r, op,
                    "not judged: " + op.describe() + ": " + e.getMessage()));
            return null;
        }
    }

    /** As {@link #outcome} without reporting: null when the model does not judge the request. */
    private Apply.Outcome quietOutcome(Op op, long base, long r) {
        try {
            return Apply.apply(states.at(base), r, op.request());
        } catch (Apply.Unsupported e) {
            return null;
        }
    }

    private boolean wrongBranch(Op op, long base, Apply.Outcome expected) {
        if (op.request().getKindCase() != Request.KindCase.TXN
                || expected.response().getTxn().getSucceeded() == op.response().getTxn().getSucceeded()) {
            return false;
        }
        TxnRequest txn = op.request().getTxn();
        StringBuilder why = new StringBuilder();
        for (Compare c : txn.getCompareList()) {
            boolean holds = Apply.holds(states.at(base), c);
            List<KeyValue> kvs = states.range(c.getKey(), c.getRangeEnd(), base);
            why.append(why.isEmpty() ? "" : "; ").append(Describe.compare(c)).append(" is ").append(holds)
                    .append(" (").append(kvs.isEmpty() ? "absent" : Events.showKvs(kvs)).append(')');
        }
        violations.add(Violation.ofOperation(Violation.Kind.WRONG_TXN_BRANCH, base, op, "wrong txn branch: "
                + op.describe() + " took the " + (op.response().getTxn().getSucceeded() ? "success" : "failure")
                + " branch, but at revision " + base + ": " + why));
        return true;
    }

    /** The same key-events, in any order (etcd's order within a revision is checked between watchers). */
    boolean sameEvents(List<Event> expected, List<Event> actual) {
        if (expected.size() != actual.size()) {
            return false;
        }
        Map<ByteString, Event> byKey = new HashMap<>();
        for (Event e : actual) {
            byKey.put(e.getKv().getKey(), Events.comparable(e));
        }
        for (Event e : expected) {
            if (!Events.comparable(e).equals(byKey.get(e.getKv().getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Revision r deletes exactly the keys attached to one lease at r-1, and nothing else. */
    private boolean leaseEnded(long r, List<Event> actual) {
        Set<ByteString> deleted = new HashSet<>();
        for (Event e : actual) {
            if (e.getType() != Event.EventType.DELETE) {
                return false;
            }
            deleted.add(e.getKv().getKey());
        }
        KeyValue first = states.get(actual.get(0).getKv().getKey(), r - 1);
        if (first == null || first.getLease() == 0) {
            return false;
        }
        return deleted.equals(new HashSet<>(states.keysWithLease(first.getLease(), r - 1)));
    }
}
