package io.vigil.watch;

import io.vigil.proto.mvccpb.Event;
import java.util.List;

/**
 * The events of one revision (live path) or of one history chunk (catch-up), each encoded as a
 * WatchResponse {@code events} field at most twice, with and without prev_kv, however many
 * watchers on however many streams receive it. Used under the hub lock only.
 */
final class EncodedEvents {
    private static final int EVENTS_FIELD = 11;

    private final List<Event> events;
    private final byte[][] withPrev;
    private final byte[][] withoutPrev;

    EncodedEvents(List<Event> events) {
        this.events = events;
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
        Event e = events.get(i);
        if (prevKv || !e.hasPrevKv()) {
            byte[] f = withPrev[i];
            if (f == null) {
                f = withPrev[i] = WatchOut.messageField(EVENTS_FIELD, e);
            }
            return f;
        }
        byte[] f = withoutPrev[i];
        if (f == null) {
            f = withoutPrev[i] = WatchOut.messageField(EVENTS_FIELD, e.toBuilder().clearPrevKv().build());
        }
        return f;
    }
}
