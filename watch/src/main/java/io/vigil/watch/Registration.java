package io.vigil.watch;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.revlog.RevLog;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Watchers coming and going (etcd's {@code watch} and {@code cancelWatcher}): a create checked,
 * given its watch_id and answered created, then entered into the key index, its stream, the
 * per-connection count and its first state; a cancel, a compaction or a stream's end taking it out
 * of all of them again.
 *
 * <p>Invariants: a watcher that is not canceled is in its stream's map under its watch_id, in the
 * {@link WatcherRegistry} and in the per-connection count; a canceled one is in none of them. A
 * created response is enqueued before the watcher can receive anything, and a canceled one after
 * everything it received.
 *
 * <p>Lock: the hub lock, for every method; stream requests arrive from the transport's threads,
 * compaction cancels from the catch-up thread.
 */
final class Registration {
    /** etcd: a watch_id of 0 in a create request asks the server to choose one. */
    private static final long AUTO_WATCH_ID = 0;

    private final RevLog revLog;
    private final WatchHub.Config config;
    private final WatcherRegistry registry;
    private final Unsynced unsynced;
    private final Progress progress;
    private final WatchEncoder encoder;
    private final WatchMetrics metrics;
    /** Watchers per connection, for the connections that have any. */
    private final Map<Object, Integer> watchersByConnection = new HashMap<>();

    Registration(RevLog revLog, WatchHub.Config config, WatcherRegistry registry, Unsynced unsynced,
                 Progress progress, WatchEncoder encoder, WatchMetrics metrics) {
        this.revLog = revLog;
        this.config = config;
        this.registry = registry;
        this.unsynced = unsynced;
        this.progress = progress;
        this.encoder = encoder;
        this.metrics = metrics;
    }

    /** A create request; returns whether the new watcher is unsynced (catch-up has work). */
    boolean create(WatchStream stream, WatchCreateRequest request, long lastPublished) {
        if (stream.isClosed()) {
            return false;
        }
        long head = revLog.currentRevision();
        String refused = null;
        byte[] end = rangeEnd(request.getRangeEnd());
        long id = request.getWatchId();
        if (end != null && end.length > 0 && Arrays.compareUnsigned(request.getKey().toByteArray(), end) >= 0) {
            refused = WatchHub.ERR_EMPTY_RANGE;
        } else if (id != AUTO_WATCH_ID && stream.watcher(id) != null) {
            refused = WatchHub.ERR_DUPLICATE_ID;
        } else if (stream.watchersOnStream() >= config.maxWatchersPerStream
                || watchersByConnection.getOrDefault(stream.connection(), 0) >= config.maxWatchersPerConnection) {
            refused = WatchHub.ERR_TOO_MANY_WATCHERS;
            metrics.limitRefusals.increment();
        } else if (id == AUTO_WATCH_ID) {
            id = stream.takeAutoWatchId();
        }
        if (refused != null) {
            encoder.refused(stream, head, refused);
            return false;
        }
        return register(stream, request, id, end, head, lastPublished);
    }

    /** Answers a create request with a refusal (created and canceled at once, no watch id), as etcd. */
    void refuse(WatchStream stream, String cancelReason) {
        if (!stream.isClosed()) {
            encoder.refused(stream, revLog.currentRevision(), cancelReason);
        }
    }

    /** etcd: no range_end is one key; "\0" is every key from key on; anything else is the end. */
    private static byte[] rangeEnd(ByteString rangeEnd) {
        if (rangeEnd.isEmpty()) {
            return null;
        }
        if (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0) {
            return new byte[0];
        }
        return rangeEnd.toByteArray();
    }

    private boolean register(WatchStream stream, WatchCreateRequest request, long id, byte[] end, long head,
                             long lastPublished) {
        boolean noPut = false;
        boolean noDelete = false;
        for (WatchCreateRequest.FilterType f : request.getFiltersList()) {
            noPut |= f == WatchCreateRequest.FilterType.NOPUT;
            noDelete |= f == WatchCreateRequest.FilterType.NODELETE;
        }
        // etcd: start_revision 0 means "from the next revision on"
        long start = request.getStartRevision() == 0 ? head + 1 : request.getStartRevision();
        boolean synced = start > lastPublished;
        Watcher w = new Watcher(id, stream, request.getKey(), end, noPut, noDelete, request.getPrevKv(),
                request.getFragment(), request.getProgressNotify(), start, head, synced);
        // the created response is enqueued before the watcher can receive anything
        encoder.created(stream, id, head);
        stream.addWatcher(w);
        // a progress response still waiting must not name a revision below this created one
        stream.watcherCreatedAt(head);
        registry.add(w);
        watchersByConnection.merge(stream.connection(), 1, Integer::sum);
        metrics.watchers.incrementAndGet();
        progress.watcherAdded(w);
        if (synced) {
            return false;
        }
        unsynced.add(w);
        return true;
    }

    /** A cancel request; etcd answers a cancel of an unknown watch_id with nothing. */
    void cancel(WatchStream stream, long watchId, long lastPublished) {
        Watcher w = stream.isClosed() ? null : stream.removeWatcher(watchId);
        if (w == null) {
            return;
        }
        // the cancel goes out before a progress notice its unregistering may release
        encoder.canceled(stream, watchId, revLog.currentRevision());
        unregister(w, lastPublished);
    }

    /** etcd: a watcher behind the compacted revision gets compact_revision, then nothing. */
    void cancelCompacted(Watcher w, long compactRevision, long head, long lastPublished) {
        w.stream.removeWatcher(w.id);
        encoder.compacted(w.stream, w.id, compactRevision, head);
        unregister(w, lastPublished);
        metrics.compactedCancels.increment();
    }

    /** The stream ended: every watcher goes. Returns false if it had ended already. */
    boolean close(WatchStream stream, long lastPublished) {
        if (!stream.markClosed()) {
            return false;
        }
        for (Watcher w : stream.watchers()) {
            unregister(w, lastPublished);
        }
        stream.clearWatchers();
        return true;
    }

    /** The caller removed w from its stream's map. */
    private void unregister(Watcher w, long lastPublished) {
        Watcher.State was = w.cancel();
        registry.remove(w);
        progress.watcherRemoved(w);
        watchersByConnection.computeIfPresent(w.stream.connection(), (c, n) -> n == 1 ? null : n - 1);
        metrics.watchers.decrementAndGet();
        if (was == Watcher.State.UNSYNCED) {
            unsynced.remove(w, lastPublished);
        }
    }
}
