package io.vigil.watch;

import java.util.HashSet;
import java.util.Set;

/**
 * Progress: the answers to WatchProgressRequests, and the periodic progress_notify notices.
 *
 * <p>A stream's request is answered (watch_id -1) with the published revision R once every watcher
 * of the stream is synced, so has been handed every event up to R, and R is at least the head when
 * the request came (etcd after issue 15220). Until then the stream waits here; it is looked at
 * again whenever that may have become true: a revision was published, or one of its watchers left
 * the unsynced group (synced, or canceled). Invariant: a stream whose request waits unanswered is
 * in {@code waiting}, unless it is closed.
 *
 * <p>Lock: the hub lock, for every method.
 */
final class Progress {
    private final WatchEncoder encoder;
    /** The watchers created with progress_notify, whatever their state (not canceled). */
    private final Set<Watcher> notify = new HashSet<>();
    private final Set<WatchStream> waiting = new HashSet<>();

    Progress(WatchEncoder encoder) {
        this.encoder = encoder;
    }

    void watcherAdded(Watcher w) {
        if (w.progressNotify) {
            notify.add(w);
        }
    }

    void watcherRemoved(Watcher w) {
        notify.remove(w);
    }

    /** A WatchProgressRequest on an open stream, arriving while the log's head is at head. */
    void request(WatchStream stream, long head, long lastPublished) {
        stream.requestProgressAt(head);
        if (!answerIfDue(stream, lastPublished)) {
            waiting.add(stream);
        }
    }

    /** A watcher of stream left the unsynced group: its request may be due now. */
    void unsyncedLeft(WatchStream stream, long lastPublished) {
        if (stream.progressRequested() && answerIfDue(stream, lastPublished)) {
            waiting.remove(stream);
        }
    }

    /** Revisions up to lastPublished were published: answers the requests that are due. */
    void published(long lastPublished) {
        if (!waiting.isEmpty()) {
            waiting.removeIf(s -> answerIfDue(s, lastPublished));
        }
    }

    void streamClosed(WatchStream stream) {
        waiting.remove(stream);
    }

    /** Answers the stream's request if it is due; returns whether none waits any more. */
    private boolean answerIfDue(WatchStream stream, long lastPublished) {
        if (!stream.progressRequested()) {
            return true;
        }
        if (stream.catchingUp() > 0 || lastPublished < stream.progressTarget()) {
            return false;
        }
        stream.progressAnswered();
        encoder.progress(stream, lastPublished);
        return true;
    }

    /**
     * The periodic progress notice (etcd's --experimental-watch-progress-notify-interval): each
     * synced watcher created with progress_notify that was sent nothing since the last tick gets
     * an empty response at the published revision.
     */
    void tick(long lastPublished) {
        for (Watcher w : notify) {
            // not to a full stream (etcd drops the notice too), and not at a revision below
            // the head its created response named (the live path may lag the log)
            if (w.isSynced() && !w.sentSinceTick && !w.stream.isFull() && w.createdAt <= lastPublished) {
                encoder.progressNotice(w, lastPublished);
            }
            w.sentSinceTick = false;
        }
    }
}
