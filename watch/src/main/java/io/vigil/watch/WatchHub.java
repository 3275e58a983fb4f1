package io.vigil.watch;

import io.micrometer.core.instrument.MeterRegistry;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.History;
import io.vigil.revlog.RevLog;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongFunction;

/**
 * The watch hub: every watcher of every stream, fed from committed revisions. It coordinates; each
 * aspect has its own class, as etcd's mvcc has its own file per aspect:
 * <ul>
 * <li>{@link Registration}: creates and cancels watchers (ids, limits, the key index
 *     {@link WatcherRegistry}, each watcher's first state);
 * <li>{@link Synced}: the live path, {@link #publish}: each revision's events to the synced
 *     watchers whose range holds the keys;
 * <li>{@link Unsynced}: the catch-up path, {@link #catchUp}: history from the {@link RevLog} in
 *     chunks for watchers behind the published head, which then become synced;
 * <li>{@link Progress}: progress requests and progress_notify ticks;
 * <li>{@link WatchEncoder}: the responses, their shared encoded parts and fragments, and the
 *     streams to drain.
 * </ul>
 * A watcher's state ({@link Watcher.State}) says which path feeds it.
 *
 * <p>Atomic join: both paths, and every watcher state change, run under one lock, and
 * {@code lastPublished} moves only under it. An unsynced watcher becomes synced in the same
 * critical section in which its nextRevision passes lastPublished, so the next revision published
 * is the first one the live path owes it: no gap, no duplicate. The revision log is committed
 * before its revisions are published, so history always reaches at least lastPublished.
 *
 * <p>Threads: publish one batch at a time, in apply order (the dispatcher, or the apply thread when
 * no stream is open: {@link WatchHubThreads}), catchUp from one thread (the catch-up
 * executor, woken through {@code wakeCatchUp}), stream requests from the transport. Sending happens
 * outside the lock, serialized per stream ({@link WatchStream#drain}).
 */
public final class WatchHub {
    /** Tunables; the defaults are etcd's where etcd has one. */
    public static final class Config {
        long maxRequestBytes = 1536 * 1024;
        long streamBufferBytes = 4L << 20;
        long mergeBytes = 64 * 1024;
        int catchUpChunkEvents = 1000;
        long catchUpChunkBytes = 1L << 20;
        int maxWatchersPerStream = Integer.MAX_VALUE;
        int maxWatchersPerConnection = Integer.MAX_VALUE;
        long maxBufferedBytes = Long.MAX_VALUE;

        /** A watcher created with fragment=true gets responses larger than this split in parts. */
        public Config maxRequestBytes(long bytes) {
            this.maxRequestBytes = bytes;
            return this;
        }

        /** Bytes queued on one stream before its watchers stop getting live events. */
        public Config streamBufferBytes(long bytes) {
            this.streamBufferBytes = bytes;
            return this;
        }

        /**
         * How large an events response still in a stream's queue may grow by taking its watcher's
         * next events (never above maxRequestBytes); 0 sends every revision on its own.
         */
        public Config mergeBytes(long bytes) {
            this.mergeBytes = bytes;
            return this;
        }

        /**
         * Events per history read, etcd's 1000 by default. Whole revisions: a larger revision is
         * read whole.
         */
        public Config catchUpChunkEvents(int events) {
            this.catchUpChunkEvents = events;
            return this;
        }

        /**
         * Record bytes per history read (whole revisions), so that a replayed response stays
         * within what clients accept by default (grpc's 4 MiB).
         */
        public Config catchUpChunkBytes(long bytes) {
            this.catchUpChunkBytes = bytes;
            return this;
        }

        /** A create beyond this many watchers on one stream is refused ({@link #ERR_TOO_MANY_WATCHERS}). */
        public Config maxWatchersPerStream(int watchers) {
            this.maxWatchersPerStream = watchers;
            return this;
        }

        /**
         * A create beyond this many watchers on all the streams of one connection (the
         * {@code connection} given to {@link #openStream}) is refused.
         */
        public Config maxWatchersPerConnection(int watchers) {
            this.maxWatchersPerConnection = watchers;
            return this;
        }

        /**
         * The budget for the responses queued on all streams together. Beyond it a stream that
         * has anything queued takes no more events (its watchers catch up from the log later,
         * which holds no memory); a stream with an empty queue still takes one response, so that
         * streams that keep up are served while slow ones hold the budget.
         */
        public Config maxBufferedBytes(long bytes) {
            this.maxBufferedBytes = bytes;
            return this;
        }
    }

    static final String ERR_EMPTY_RANGE = "mvcc: watcher range is empty";
    static final String ERR_DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";
    /**
     * Vigil's own refusal (etcd has no watcher limits), in etcd's style: the create is answered
     * created and canceled with this reason, and the stream's other watchers go on.
     */
    public static final String ERR_TOO_MANY_WATCHERS = "etcdserver: too many watchers";

    private final RevLog revLog;
    private final Config config;
    private final Runnable wakeCatchUp;
    private final WatchMetrics metrics;
    /** Bytes queued on all streams; each stream adds and subtracts its own under its queue's monitor. */
    private final BufferBudget buffered;

    private final ReentrantLock lock = new ReentrantLock();
    // ---- guarded by lock ----
    private final WatchEncoder encoder;
    private final Progress progress;
    private final Unsynced unsynced;
    private final Synced synced;
    private final WatcherRegistry registry;
    private final Registration registration;
    private long lastPublished;
    /**
     * Test seam: runs between a catch-up round's history read and its feed, outside the lock, so
     * that a model test can interleave writes, creates and stalls exactly there.
     */
    Runnable afterHistoryRead = () -> { };

    /**
     * @param headers the response header at a revision (cluster and member ids, raft term)
     * @param wakeCatchUp asks for {@link #catchUp} to be run (again) soon, on another thread
     */
    public WatchHub(RevLog revLog, Config config, LongFunction<ResponseHeader> headers, Runnable wakeCatchUp,
                    MeterRegistry meters) {
        this.revLog = revLog;
        this.config = config;
        this.wakeCatchUp = wakeCatchUp;
        this.buffered = new BufferBudget(config.maxBufferedBytes);
        this.metrics = new WatchMetrics(meters, buffered);
        this.lastPublished = revLog.currentRevision();
        this.registry = new WatcherRegistry();
        this.encoder = new WatchEncoder(headers, config, metrics);
        this.progress = new Progress(encoder);
        this.unsynced = new Unsynced(encoder, progress, metrics);
        this.synced = new Synced(registry, unsynced, encoder, metrics);
        this.registration = new Registration(revLog, config, registry, unsynced, progress, encoder, metrics);
    }

    public WatchStream openStream(WatchSink sink) {
        return openStream(sink, new Object());
    }

    /**
     * A stream on {@code connection} (any key that equals itself for the streams of one client
     * connection), whose watchers count against the per-connection limit.
     */
    public WatchStream openStream(WatchSink sink, Object connection) {
        metrics.streams.incrementAndGet();
        return new WatchStream(this, sink, config.streamBufferBytes, buffered, connection);
    }

    /**
     * Whether publishing a batch is light work: at most {@code maxWatchers} watchers registered
     * and none asking for prev_kv (whose values {@link #publish} reads from the store). A racy
     * read: a watcher that comes meanwhile is served by {@link #publish} all the same.
     */
    public boolean fansOutLightly(int maxWatchers) {
        return metrics.watchers.get() <= maxWatchers && !registry.anyPrevKv();
    }

    /** Bytes queued on all streams now (the budget's gauge). */
    public long bufferedBytes() {
        return buffered.bytes();
    }

    /** The newest revision handed to the live path. */
    public long lastPublished() {
        lock.lock();
        try {
            return lastPublished;
        } finally {
            lock.unlock();
        }
    }

    // ---- stream requests ----

    void create(WatchStream stream, WatchCreateRequest request) {
        underLock(() -> registration.create(stream, request, lastPublished));
    }

    /** Answers a create request with a refusal (created and canceled at once, no watch id), as etcd. */
    void refuseCreate(WatchStream stream, String cancelReason) {
        underLock(() -> {
            registration.refuse(stream, cancelReason);
            return false;
        });
    }

    void cancel(WatchStream stream, long watchId) {
        underLock(() -> {
            registration.cancel(stream, watchId, lastPublished);
            return false;
        });
    }

    /**
     * A WatchProgressRequest: answered with the published revision R, watch_id -1, once every
     * watcher of the stream has been handed every event up to R (all of them synced) and R is at
     * least the head when the request came, so that a client that read revision X and then asks
     * learns about X. Until then it waits (etcd after issue 15220).
     */
    void requestProgress(WatchStream stream) {
        underLock(() -> {
            if (!stream.isClosed()) {
                progress.request(stream, revLog.currentRevision(), lastPublished);
            }
            return false;
        });
    }

    void closeStream(WatchStream stream) {
        underLock(() -> {
            if (registration.close(stream, lastPublished)) {
                progress.streamClosed(stream);
                metrics.streams.decrementAndGet();
            }
            return false;
        });
    }

    int watcherCount(WatchStream stream) {
        lock.lock();
        try {
            return stream.watchersOnStream();
        } finally {
            lock.unlock();
        }
    }

    // ---- the live path ----

    /**
     * Hands an applied batch to the synced watchers. One thread, in apply order, after the batch
     * is committed to the revision log.
     *
     * <p>A put's event leaves apply without prev_kv ({@link RevLog#withPrevKv}). While any watcher
     * asks for prev_kv, it is read for every event of the batch before the hub lock is taken, not
     * under it: a store read may wait behind a defragmentation's swap, and watch creation waits
     * for the lock on transport threads. If such a watcher came while the store was read without
     * it, the batch is read again.
     */
    public void publish(List<ApplyResult> results) {
        List<List<Event>> withPrevKv = null;
        while (true) {
            if (withPrevKv == null && registry.anyPrevKv()) {
                withPrevKv = results.stream().map(r -> revLog.withPrevKv(r.events())).toList();
            }
            List<List<Event>> events = withPrevKv;
            boolean[] unread = {false};
            underLock(() -> {
                if (events == null && registry.anyPrevKv()) {
                    unread[0] = true;
                    return false;
                }
                boolean fellBehind = false;
                for (int i = 0; i < results.size(); i++) {
                    ApplyResult r = results.get(i);
                    List<Event> revision = events == null ? r.events() : events.get(i);
                    if (!revision.isEmpty()) {
                        fellBehind |= synced.dispatch(r.revision(), revision);
                    }
                    lastPublished = Math.max(lastPublished, r.revision());
                }
                progress.published(lastPublished);
                return fellBehind;
            });
            if (!unread[0]) {
                return;
            }
        }
    }

    // ---- the catch-up path ----

    /**
     * One round of catch-up: reads one chunk of history from the oldest position among the
     * unsynced watchers whose stream has room, hands it to every such watcher it covers, and
     * syncs those that reached the head. Returns whether another round may find work. One thread
     * at a time.
     */
    public boolean catchUp() {
        Unsynced.Read read;
        lock.lock();
        try {
            read = unsynced.nextRead();
        } finally {
            lock.unlock();
        }
        if (read == null) {
            return false;
        }
        // read outside the lock: the live path goes on meanwhile
        History history = revLog.readHistory(read.from(), config.catchUpChunkEvents, config.catchUpChunkBytes,
                read.prevKv());
        metrics.catchUpReads.increment();
        afterHistoryRead.run();
        underLock(() -> {
            if (history.compacted()) {
                cancelCompacted(history.compactRevision());
            } else {
                unsynced.feed(read, history, lastPublished);
            }
            return false;
        });
        return true;
    }

    /** Lock held. etcd: a watcher behind the compacted revision gets compact_revision, then nothing. */
    private void cancelCompacted(long compactRevision) {
        List<Watcher> behind = unsynced.behind(compactRevision);
        long head = revLog.currentRevision();
        for (Watcher w : behind) {
            registration.cancelCompacted(w, compactRevision, head, lastPublished);
        }
    }

    public void wakeCatchUp() {
        wakeCatchUp.run();
    }

    // ---- progress_notify ----

    /**
     * The periodic progress notice (etcd's --experimental-watch-progress-notify-interval): each
     * synced watcher created with progress_notify that was sent nothing since the last tick gets
     * an empty response at the published revision.
     */
    public void progressNotifyTick() {
        underLock(() -> {
            progress.tick(lastPublished);
            return false;
        });
    }

    // ---- the lock ----

    /**
     * Runs body under the lock, then (outside it) sends what the body enqueued, and wakes the
     * catch-up thread if the body returned true. Every change of hub state goes through here.
     */
    private void underLock(BooleanSupplier body) {
        List<WatchStream> toDrain;
        boolean wake;
        lock.lock();
        try {
            wake = body.getAsBoolean();
            toDrain = encoder.takeTouched();
        } finally {
            lock.unlock();
        }
        for (WatchStream s : toDrain) {
            s.drainSoon();
        }
        if (wake) {
            wakeCatchUp.run();
        }
    }
}
