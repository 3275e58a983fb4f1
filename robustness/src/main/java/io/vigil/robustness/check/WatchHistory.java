package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.history.Operation;
import io.vigil.proto.mvccpb.Event;
import io.vigil.robustness.history.History;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The events of every watcher merged by revision (an event's revision is its kv's mod_revision).
 *
 * <p>Invariants once built: for each watched revision, {@link #events(long)} holds each key at most
 * once, in the order the widest watcher saw them, with prev_kv cleared (watchers differ in asking
 * for it). The store is empty at {@link #FIRST_REVISION}, as etcd's is; the first change is revision
 * 2. Every revision in (1, {@link #lastRevision()}] that no watcher saw is reported once as part of a
 * run of unwatched revisions, and {@link #firstUnwatched()} bounds what the states can tell.
 */
final class WatchHistory {
    static final long FIRST_REVISION = 1;

    private final Map<Long, List<Event>> events = new HashMap<>();
    private final Map<Long, Seen> firstSeen = new HashMap<>();
    private final long lastRevision;
    private final long firstUnwatched;
    private final List<Violation> violations = new ArrayList<>();

    /** A watcher that received a response naming a revision (an event of it, or its header) at nanos. */
    record Seen(long nanos, int watcher, String member) {
    }

    /** One watcher's view of one revision. */
    private record View(int watcher, String member, long nanos, List<Event> events) {
    }

    WatchHistory(History history, List<WatcherStream> streams) {
        // every revision after the first needs a request (a lease's expiry needs its grant), so no
        // revision of the run is above this; one that is would make every per-revision array huge
        long plausible = FIRST_REVISION + 1 + history.operations().size() + history.watches().size();
        TreeMap<Long, List<View>> views = new TreeMap<>();
        long last = FIRST_REVISION;
        for (WatcherStream stream : streams) {
            for (WatcherStream.Segment segment : stream.segments()) {
                for (WatcherStream.Received received : segment.responses()) {
                    Seen seen = new Seen(received.nanos(), stream.watcher(), segment.member());
                    long header = received.response().getHeader().getRevision();
                    if (header > plausible) {
                        impossible(header, seen, "a watch response header");
                    } else {
                        last = Math.max(last, header);
                        seen(header, seen);
                    }
                    Map<Long, View> byRevision = new LinkedHashMap<>();
                    for (Event e : received.response().getEventsList()) {
                        long revision = e.getKv().getModRevision();
                        if (revision > plausible || revision <= FIRST_REVISION) {
                            impossible(revision, seen, Events.show(e));
                            continue;
                        }
                        seen(revision, seen);
                        byRevision.computeIfAbsent(revision,
                                r -> new View(stream.watcher(), segment.member(), received.nanos(), new ArrayList<>()))
                                .events().add(e.toBuilder().clearPrevKv().build());
                    }
                    for (var v : byRevision.entrySet()) {
                        views.computeIfAbsent(v.getKey(), r -> new ArrayList<>()).add(v.getValue());
                        last = Math.max(last, v.getKey());
                    }
                }
            }
        }
        int index = 0;
        for (Operation o : history.operations()) {
            Op op = new Op(index++, o);
            if (op.status() == Op.Status.OK) {
                long header = op.headerRevision();
                if (header > plausible) {
                    violations.add(Violation.ofOperation(Violation.Kind.IMPOSSIBLE_REVISION, header, op, op.describe()
                            + " answered at revision " + header + ", more revisions than the run has requests"));
                } else {
                    last = Math.max(last, header);
                }
            }
        }
        for (var v : views.entrySet()) {
            events.put(v.getKey(), merge(v.getKey(), v.getValue()));
        }
        this.lastRevision = last;
        this.firstUnwatched = reportUnwatched();
    }

    private void impossible(long revision, Seen seen, String what) {
        violations.add(Violation.ofWatcher(Violation.Kind.IMPOSSIBLE_REVISION, revision, seen.nanos(), seen.watcher(),
                "watcher " + seen.watcher() + " on " + seen.member() + " got " + what + " at revision " + revision
                        + ", which the run cannot have made (the empty store is revision 1, and it has fewer requests)"));
    }

    /**
     * The widest view gives the order; keys only narrower views saw are appended. Every view must
     * hold the same event for a key as the merged one and list its keys in the merged order.
     */
    private List<Event> merge(long revision, List<View> views) {
        View widest = views.get(0);
        for (View v : views) {
            if (v.events().size() > widest.events().size()) {
                widest = v;
            }
        }
        LinkedHashMap<ByteString, Event> merged = new LinkedHashMap<>();
        Map<ByteString, View> source = new HashMap<>();
        for (Event e : widest.events()) {
            merged.putIfAbsent(e.getKv().getKey(), e);
            source.putIfAbsent(e.getKv().getKey(), widest);
        }
        for (View v : views) {
            for (Event e : v.events()) {
                if (merged.putIfAbsent(e.getKv().getKey(), e) == null) {
                    source.put(e.getKv().getKey(), v);
                }
            }
        }
        Map<ByteString, Integer> order = new HashMap<>();
        for (ByteString key : merged.keySet()) {
            order.put(key, order.size());
        }
        for (View v : views) {
            int lastPosition = -1;
            for (Event e : v.events()) {
                ByteString key = e.getKv().getKey();
                Event m = merged.get(key);
                View other = source.get(key);
                if (!m.equals(e)) {
                    violations.add(Violation.ofWatcher(Violation.Kind.MEMBERS_DISAGREE, revision, v.nanos(), v.watcher(),
                            "revision " + revision + ": watcher " + v.watcher() + " on " + v.member() + " got "
                                    + Events.show(e) + " but watcher " + other.watcher() + " on " + other.member()
                                    + " got " + Events.show(m)));
                }
                int position = order.get(key);
                if (position < lastPosition) {
                    violations.add(Violation.ofWatcher(Violation.Kind.MEMBERS_DISAGREE, revision, v.nanos(), v.watcher(),
                            "revision " + revision + ": watcher " + v.watcher() + " on " + v.member()
                                    + " got the events in another order than watcher " + widest.watcher() + " on "
                                    + widest.member() + ": " + Events.show(v.events()) + " vs " + Events.show(widest.events())));
                }
                lastPosition = Math.max(lastPosition, position);
            }
        }
        return List.copyOf(merged.values());
    }

    private long reportUnwatched() {
        long first = Long.MAX_VALUE;
        long runStart = -1;
        for (long r = FIRST_REVISION + 1; r <= lastRevision + 1; r++) {
            boolean missing = r <= lastRevision && !events.containsKey(r);
            if (missing && runStart < 0) {
                runStart = r;
                first = Math.min(first, r);
            } else if (!missing && runStart >= 0) {
                long runEnd = r - 1;
                violations.add(Violation.ofRevision(Violation.Kind.REVISION_NOT_WATCHED, runStart,
                        (runStart == runEnd ? "revision " + runStart + " was" : "revisions " + runStart + ".." + runEnd + " were")
                                + " seen by no watcher (the last revision any response or watch saw is " + lastRevision + ")"));
                runStart = -1;
            }
        }
        return first;
    }

    private void seen(long revision, Seen seen) {
        if (revision > 0) {
            firstSeen.merge(revision, seen, (a, b) -> b.nanos() < a.nanos() ? b : a);
        }
    }

    /**
     * The first time a watcher received a response naming the revision: the revision had been
     * written by then. Null when no watch response named it.
     */
    Seen firstSeen(long revision) {
        return firstSeen.get(revision);
    }

    /** The merged events of a revision; empty when no watcher saw it. */
    List<Event> events(long revision) {
        return events.getOrDefault(revision, List.of());
    }

    boolean watched(long revision) {
        return events.containsKey(revision);
    }

    /** The highest revision any operation's response, watch response or event named. */
    long lastRevision() {
        return lastRevision;
    }

    /** The lowest revision above the first that no watcher saw; Long.MAX_VALUE when all were seen. */
    long firstUnwatched() {
        return firstUnwatched;
    }

    List<Violation> violations() {
        return violations;
    }
}
