package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * etcd's watch guarantees, per watcher (all its streams, in order): ordered, unique, atomic,
 * bookmarkable, reliable, resumable. A watcher's streams chain: a resumed stream starts at the
 * revision after the last event the watcher got, so ordering, uniqueness and bookmarks hold across
 * them. A stream the server canceled or compacted ends there; that is noted, not a violation.
 */
final class WatchGuarantees {
    private final WatchHistory merged;
    private final States states;
    private final List<Violation> violations = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    /** {call nanos, revision} of every compaction that may have happened, in call order. */
    private final List<long[]> compactions;

    WatchGuarantees(WatchHistory merged, States states, List<long[]> compactions) {
        this.merged = merged;
        this.states = states;
        this.compactions = compactions;
    }

    /**
     * Whether a compaction to at least {@code revision} may have happened before {@code nanos}:
     * then etcd cannot read a key at {@code revision - 1} and sends an event without its prev_kv
     * (its watcher reads prev_kv from the store when it sends the event, not when it was written).
     */
    private boolean compactedBefore(long revision, long nanos) {
        for (long[] c : compactions) {
            if (c[0] > nanos) {
                return false;
            }
            if (c[1] >= revision) {
                return true;
            }
        }
        return false;
    }

    List<Violation> check(List<WatcherStream> streams) {
        for (WatcherStream stream : streams) {
            check(stream);
        }
        return violations;
    }

    /** What happened to watches that the server ended: canceled or compacted, per watcher. */
    List<String> notes() {
        return notes;
    }

    private record Key(long revision, com.google.protobuf.ByteString key) {
    }

    /**
     * A watcher's reliability window: from the revision its first stream started at to the last
     * revision it reached (an event, or a progress notification promising everything up to it).
     * A resumed stream continues the window, so a resume that starts too late shows as a gap; a
     * stream the server canceled or compacted closes it, and the next stream opens a new one.
     */
    private static final class Window {
        long from;
        long reached;

        boolean open() {
            return from > 0;
        }
    }

    private void check(WatcherStream stream) {
        int w = stream.watcher();
        long lastRevision = 0;
        long progress = 0;
        Set<Key> received = new HashSet<>();
        Map<Long, Integer> responseOfRevision = new HashMap<>();
        List<long[]> windows = new ArrayList<>();
        Window window = new Window();
        int responseId = 0;
        for (WatcherStream.Segment segment : stream.segments()) {
            WatchCreateRequest create = segment.create();
            if (!window.open()) {
                window.from = create.getStartRevision();
            }
            boolean firstEvent = true;
            boolean continuesFragment = false;
            for (WatcherStream.Received got : segment.responses()) {
                WatchResponse response = got.response();
                if (!continuesFragment) {
                    responseId++;
                }
                continuesFragment = response.getFragment();
                if (response.getCreated() && !window.open()) {
                    window.from = response.getHeader().getRevision() + 1; // "from now": the next revision on
                }
                if (response.getCanceled() || response.getCompactRevision() > 0) {
                    notes.add("watcher " + w + " on " + segment.member() + " "
                            + (response.getCompactRevision() > 0 ? "compacted at revision " + response.getCompactRevision()
                                    : "canceled (" + response.getCancelReason() + ")")
                            + " at " + Keys.seconds(got.nanos()) + ", asked from revision " + create.getStartRevision());
                    close(window, windows);
                    break;
                }
                if (got.isProgressNotification()) {
                    progress = Math.max(progress, response.getHeader().getRevision());
                    window.reached = Math.max(window.reached, response.getHeader().getRevision());
                    continue;
                }
                for (Event e : response.getEventsList()) {
                    long r = e.getKv().getModRevision();
                    Supplier<String> where = () -> "watcher " + w + " on " + segment.member() + " got " + Events.show(e)
                            + " at " + Keys.seconds(got.nanos()); // built only for a violation
                    if (firstEvent && create.getStartRevision() > 0) {
                        checkResume(w, segment, e, got.nanos());
                    }
                    firstEvent = false;
                    if (r < lastRevision) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_ORDER, r, got.nanos(), w,
                                "unordered watch: " + where.get() + " after an event of revision " + lastRevision));
                    }
                    boolean duplicate = !received.add(new Key(r, e.getKv().getKey()));
                    if (duplicate) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_DUPLICATE, r, got.nanos(), w,
                                "duplicate watch event: " + where.get() + " a second time"));
                    }
                    Integer earlier = responseOfRevision.putIfAbsent(r, responseId);
                    if (!duplicate && earlier != null && earlier != responseId) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_ATOMIC, r, got.nanos(), w,
                                "split revision: " + where.get() + " in another response than earlier events of revision " + r));
                    }
                    if (r <= progress) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_BOOKMARK, r, got.nanos(), w,
                                "bookmark broken: " + where.get() + " after a progress notification at revision " + progress));
                    }
                    if (!matches(create, e)) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_UNEXPECTED_EVENT, r, got.nanos(), w,
                                "unexpected watch event: " + where.get() + ", outside its watch of "
                                        + Keys.showRange(create.getKey(), create.getRangeEnd()) + " " + create.getFiltersList()));
                    }
                    if (create.getPrevKv() && r - 1 < merged.firstUnwatched()) {
                        checkPrevKv(w, e, got.nanos(), where);
                    }
                    lastRevision = Math.max(lastRevision, r);
                    window.reached = Math.max(window.reached, r);
                }
            }
        }
        close(window, windows);
        for (long[] range : windows) {
            checkReliable(stream, range[0], range[1], received);
        }
    }

    private static void close(Window window, List<long[]> windows) {
        if (window.open() && window.reached >= window.from) {
            windows.add(new long[] {window.from, window.reached});
        }
        window.from = 0;
        window.reached = 0;
    }

    /**
     * A watch asking for prev_kv gets the key as it was at the revision before the event, or none
     * when the key was absent then or that revision was compacted before the event was sent.
     */
    private void checkPrevKv(int w, Event e, long nanos, Supplier<String> where) {
        long r = e.getKv().getModRevision();
        KeyValue before = states.get(e.getKv().getKey(), r - 1);
        KeyValue got = e.hasPrevKv() ? e.getPrevKv() : null;
        if (got == null && before != null && compactedBefore(r, nanos)) {
            return; // the version before was compacted by the time the event was sent
        }
        if (!Objects.equals(before, got)) {
            violations.add(Violation.ofWatcher(Violation.Kind.WATCH_PREV_KV, r, nanos, w, "wrong prev_kv: " + where.get()
                    + " with prev_kv " + (got == null ? "none" : Events.show(got)) + ", but at revision " + (r - 1)
                    + " the key was " + (before == null ? "absent" : Events.show(before))));
        }
    }

    /** Reliable: every merged event matching the watch in [from, to] was received. */
    private void checkReliable(WatcherStream stream, long from, long to, Set<Key> received) {
        WatchCreateRequest create = stream.segments().get(0).create();
        List<Event> missed = new ArrayList<>();
        // an impossible revision (reported by WatchHistory) does not stretch the window past the run
        for (long r = Math.max(from, WatchHistory.FIRST_REVISION + 1); r <= Math.min(to, merged.lastRevision()); r++) {
            for (Event e : merged.events(r)) {
                if (matches(create, e) && !received.contains(new Key(r, e.getKv().getKey()))) {
                    missed.add(e);
                }
            }
        }
        if (!missed.isEmpty()) {
            long first = missed.get(0).getKv().getModRevision();
            violations.add(Violation.ofWatcher(Violation.Kind.WATCH_GAP, first, 0, stream.watcher(),
                    "watch gap: watcher " + stream.watcher() + " reached revision " + to + " from " + from + " but missed "
                            + missed.size() + " event(s): " + Events.show(missed.subList(0, Math.min(5, missed.size())))
                            + (missed.size() > 5 ? " …" : "")));
        }
    }

    /**
     * Resumable: a watch from R first gets an event of the first revision at or after R that has a
     * matching event (the order within a revision is the members' agreement's to judge).
     */
    private void checkResume(int w, WatcherStream.Segment segment, Event first, long nanos) {
        long from = segment.create().getStartRevision();
        for (long r = from; r <= merged.lastRevision(); r++) {
            for (Event e : merged.events(r)) {
                if (matches(segment.create(), e)) {
                    if (r != first.getKv().getModRevision()) {
                        violations.add(Violation.ofWatcher(Violation.Kind.WATCH_RESUME, first.getKv().getModRevision(),
                                nanos, w, "wrong resume: watcher " + w + " on " + segment.member() + " watching from revision "
                                        + from + " first got " + Events.show(first) + ", but the first matching event is "
                                        + Events.show(e)));
                    }
                    return;
                }
            }
        }
    }

    static boolean matches(WatchCreateRequest create, Event e) {
        if (!Keys.inRange(e.getKv().getKey(), create.getKey(), create.getRangeEnd())) {
            return false;
        }
        for (WatchCreateRequest.FilterType f : create.getFiltersList()) {
            if ((f == WatchCreateRequest.FilterType.NOPUT && e.getType() == Event.EventType.PUT)
                    || (f == WatchCreateRequest.FilterType.NODELETE && e.getType() == Event.EventType.DELETE)) {
                return false;
            }
        }
        return true;
    }
}
