package io.vigil.watch;

import io.vigil.proto.mvccpb.Event;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The events of one revision (live path) or of one history chunk (catch-up), each encoded as a
 * WatchResponse {@code events} field at most twice, with and without prev_kv, however many
 * watchers on however many streams receive it. prev_kv is added only when a watcher that asked
 * for it receives the event ({@code withPrevKv}: a live put's event comes without it, and the
 * store is read for it only then). Used under the hub lock only.
 */
final class EncodedEvents {
    private static final int EVENTS_FIELD = 11;

    private final List<Event> events;
    private final UnaryOperator<Event> withPrevKv;
    private final byte[][] withPrev;
    private final byte[][] withoutPrev;

    EncodedEvents(List<Event> events, UnaryOperator<Event> withPrevKv) {
        this.events = events;
        this.withPrevKv = withPrevKv;
        this.withPrev = new byte[events.size()][];
        this.withoutPrev = new byte[events.size()][];
    }

    int size() {
        return events.size();
    }

    Event event(int i) {
        return events.get(i);
    }

    long revision(int i) {
        return events.get(i).getKv().getModRevision();
    }

    /** Event i as the bytes of one {@code events} entry, with prev_kv only if asked and known. */
    byte[] field(int i, boolean prevKv) {
        if (prevKv) {
            byte[] f = withPrev[i];
            if (f == null) {
                f = withPrev[i] = WatchOut.messageField(EVENTS_FIELD, withPrevKv.apply(events.get(i)));
            }
            return f;
        }
        byte[] f = withoutPrev[i];
        if (f == null) {
            Event e = events.get(i);
            f = withoutPrev[i] = WatchOut.messageField(EVENTS_FIELD, e.hasPrevKv() ? e.toBuilder().clearPrevKv().build() : e);
        }
        return f;
    }
}
