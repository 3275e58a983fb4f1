package io.vigil.watch;

import java.util.Arrays;

/**
 * One response in a {@link WatchStream}'s outbound queue: a finished one, or a watcher's events
 * response that may still grow (see WatchStream, "Merging"). Guarded by the stream's outbound
 * queue monitor while it is in the queue; once a drain took it, nothing appends to it.
 */
final class QueuedResponse {
    private final WatchOut finished;
    /** The watcher whose events these are; null for a finished response. */
    final Watcher watcher;
    private byte[] header;
    private byte[][] events;
    private int eventCount;
    /** The stream's merge epoch when this was queued. */
    final long epoch;
    long size;

    QueuedResponse(WatchOut finished) {
        this.finished = finished;
        this.watcher = null;
        this.epoch = -1;
        this.size = finished.size();
    }

    QueuedResponse(Watcher watcher, byte[] header, byte[][] events, long eventBytes, long epoch) {
        this.finished = null;
        this.watcher = watcher;
        this.epoch = epoch;
        this.header = header;
        this.events = events;
        this.eventCount = events.length;
        this.size = header.length + watcher.idField.length + eventBytes;
    }

    /** The encoded length of the header it carries now (it moves up as events are appended). */
    int headerLength() {
        return header.length;
    }

    /** more after the events held, under newHeader; newSize is the encoded size after that. */
    void append(byte[] newHeader, byte[][] more, long newSize) {
        size = newSize;
        header = newHeader;
        if (eventCount + more.length > events.length) {
            events = Arrays.copyOf(events, Math.max(eventCount + more.length, events.length * 2));
        }
        System.arraycopy(more, 0, events, eventCount, more.length);
        eventCount += more.length;
    }

    WatchOut toWatchOut() {
        if (finished != null) {
            return finished;
        }
        byte[][] parts = new byte[2 + eventCount][];
        parts[0] = header;
        parts[1] = watcher.idField;
        System.arraycopy(events, 0, parts, 2, eventCount);
        return new WatchOut(parts, Math.toIntExact(size));
    }
}
