package io.vigil.watch;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.MeterRegistry;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.History;
import io.vigil.revlog.RevLog;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;

/**
 * The watch hub: every watcher of every stream, fed from committed revisions.
 *
 * <p>Two paths feed a watcher. The live path: {@link #publish} gets each applied batch, in apply
 * order, and hands each revision's events to the live watchers whose range holds the keys (found
 * through the {@link WatcherRegistry}, so the cost grows with the matches, not with all watchers).
 * The catch-up path: {@link #catchUp} reads history from the {@link RevLog} in chunks for watchers
 * behind the published head (created at an old revision, or moved back because their stream was
 * full) and moves each one to the live set once it reached the head.
 *
 * <p>Atomic join: both paths, and every watcher state change, run under one lock, and
 * {@code lastPublished} moves only under it. A catching-up watcher becomes live in the same
 * critical section in which its nextRevision passes lastPublished, so the next revision published
 * is the first one the live path owes it: no gap, no duplicate. The revision log is committed
 * before its revisions are published, so history always reaches at least lastPublished.
 *
 * <p>Threads: publish from one thread (the dispatcher), catchUp from one thread (the catch-up
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
    /** etcd: a watch_id of 0 in a create request asks the server to choose one. */
    private static final long AUTO_WATCH_ID = 0;
    /** etcd: the watch_id of a response that is not any one watcher's (a progress notice). */
    private static final long NO_WATCH_ID = -1;
    private static final byte[] FRAGMENT_FIELD = {0x38, 0x01};

    private final RevLog revLog;
    private final Config config;
    private final LongFunction<ResponseHeader> headers;
    private final Runnable wakeCatchUp;
    private final WatchMetrics metrics;
    /** Bytes queued on all streams; each stream adds and subtracts its own under its queue's monitor. */
    private final BufferBudget buffered;

    private final ReentrantLock lock = new ReentrantLock();
    // ---- guarded by lock ----
    private final WatcherRegistry registry = new WatcherRegistry();
    private final Set<Watcher> catchingUp = new LinkedHashSet<>();
    private final Set<Watcher> progressNotify = new HashSet<>();
    private final Set<WatchStream> progressWaiting = new HashSet<>();
    /** Watchers per connection, for the connections that have any. */
    private final Map<Object, Integer> watchersByConnection = new java.util.HashMap<>();
    private List<WatchStream> touched = new ArrayList<>();
    private long lastPublished;
    /** The live path moved a watcher to catching up during the current publish. */
    private boolean demoted;
    private long headerRevision = Long.MIN_VALUE;
    /**
     * Test seam: runs between a catch-up round's history read and its feed, outside the lock, so
     * that a model test can interleave writes, creates and stalls exactly there.
     */
    Runnable afterHistoryRead = () -> { };
    private byte[] headerField;

    /**
     * @param headers the response header at a revision (cluster and member ids, raft term)
     * @param wakeCatchUp asks for {@link #catchUp} to be run (again) soon, on another thread
     */
    public WatchHub(RevLog revLog, Config config, LongFunction<ResponseHeader> headers, Runnable wakeCatchUp,
                    MeterRegistry meters) {
        this.revLog = revLog;
        this.config = config;
        this.headers = headers;
        this.wakeCatchUp = wakeCatchUp;
        this.buffered = new BufferBudget(config.maxBufferedBytes);
        this.metrics = new WatchMetrics(meters, buffered);
        this.lastPublished = revLog.currentRevision();
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
        underLock(() -> {
            if (stream.closed) {
                return false;
            }
            long head = revLog.currentRevision();
            String refused = null;
            byte[] end = rangeEnd(request.getRangeEnd());
            long id = request.getWatchId();
            if (end != null && end.length > 0 && Arrays.compareUnsigned(request.getKey().toByteArray(), end) >= 0) {
                refused = ERR_EMPTY_RANGE;
            } else if (id != AUTO_WATCH_ID && stream.watchers.containsKey(id)) {
                refused = ERR_DUPLICATE_ID;
            } else if (stream.watchers.size() >= config.maxWatchersPerStream
                    || watchersByConnection.getOrDefault(stream.connection, 0) >= config.maxWatchersPerConnection) {
                refused = ERR_TOO_MANY_WATCHERS;
                metrics.limitRefusals.increment();
            } else if (id == AUTO_WATCH_ID) {
                while (stream.watchers.containsKey(stream.nextAutoId)) {
                    stream.nextAutoId++;
                }
                id = stream.nextAutoId++;
            }
            if (refused != null) {
                refuse(stream, head, refused);
                return false;
            }
            return register(stream, request, id, end, head);
        });
    }

    /** Answers a create request with a refusal (created and canceled at once, no watch id), as etcd. */
    void refuseCreate(WatchStream stream, String cancelReason) {
        underLock(() -> {
            if (!stream.closed) {
                refuse(stream, revLog.currentRevision(), cancelReason);
            }
            return false;
        });
    }

    /** Lock held. */
    private void refuse(WatchStream stream, long head, String cancelReason) {
        stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(head))
                .setWatchId(NO_WATCH_ID).setCreated(true).setCanceled(true).setCancelReason(cancelReason).build()));
        touch(stream);
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

    /** Lock held. Returns whether the new watcher needs the catch-up path. */
    private boolean register(WatchStream stream, WatchCreateRequest request, long id, byte[] end, long head) {
        boolean noPut = false;
        boolean noDelete = false;
        for (WatchCreateRequest.FilterType f : request.getFiltersList()) {
            noPut |= f == WatchCreateRequest.FilterType.NOPUT;
            noDelete |= f == WatchCreateRequest.FilterType.NODELETE;
        }
        // etcd: start_revision 0 means "from the next revision on"
        long start = request.getStartRevision() == 0 ? head + 1 : request.getStartRevision();
        Watcher w = new Watcher(id, stream, request.getKey(), end, noPut, noDelete, request.getPrevKv(),
                request.getFragment(), request.getProgressNotify(), start, head);
        // the created response is enqueued before the watcher can receive anything
        stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(head))
                .setWatchId(id).setCreated(true).build()));
        touch(stream);
        stream.watchers.put(id, w);
        // a progress response still waiting must not name a revision below this created one
        if (stream.progressTarget != WatchStream.NO_PROGRESS_REQUEST) {
            stream.progressTarget = Math.max(stream.progressTarget, head);
        }
        registry.add(w);
        watchersByConnection.merge(stream.connection, 1, Integer::sum);
        metrics.watchers.incrementAndGet();
        if (w.progressNotify) {
            progressNotify.add(w);
        }
        if (start > lastPublished) {
            w.live = true;
            return false;
        }
        startCatchingUp(w);
        return true;
    }

    void cancel(WatchStream stream, long watchId) {
        underLock(() -> {
            Watcher w = stream.closed ? null : stream.watchers.remove(watchId);
            if (w == null) {
                // etcd answers a cancel of an unknown watch_id with nothing
                return false;
            }
            // the cancel goes out before a progress notice its unregistering may release
            stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(revLog.currentRevision()))
                    .setWatchId(watchId).setCanceled(true).build()));
            touch(stream);
            unregister(w);
            return false;
        });
    }

    /**
     * A WatchProgressRequest: answered with the published revision R, watch_id -1, once every
     * watcher of the stream has been handed every event up to R (all of them live) and R is at
     * least the head when the request came, so that a client that read revision X and then asks
     * learns about X. Until then it waits (etcd after issue 15220).
     */
    void requestProgress(WatchStream stream) {
        underLock(() -> {
            if (!stream.closed) {
                stream.progressTarget = Math.max(stream.progressTarget, revLog.currentRevision());
                if (!answerProgressIfDue(stream)) {
                    progressWaiting.add(stream);
                }
            }
            return false;
        });
    }

    /** Lock held. */
    private boolean answerProgressIfDue(WatchStream stream) {
        if (stream.progressTarget == WatchStream.NO_PROGRESS_REQUEST) {
            return true;
        }
        if (stream.catchingUp() > 0 || lastPublished < stream.progressTarget) {
            return false;
        }
        stream.progressTarget = WatchStream.NO_PROGRESS_REQUEST;
        stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(lastPublished))
                .setWatchId(NO_WATCH_ID).build()));
        touch(stream);
        return true;
    }

    void closeStream(WatchStream stream) {
        underLock(() -> {
            if (!stream.closed) {
                stream.closed = true;
                for (Watcher w : stream.watchers.values()) {
                    unregister(w);
                }
                stream.watchers.clear();
                progressWaiting.remove(stream);
                metrics.streams.decrementAndGet();
            }
            return false;
        });
    }

    int watcherCount(WatchStream stream) {
        lock.lock();
        try {
            return stream.watchers.size();
        } finally {
            lock.unlock();
        }
    }

    /** Lock held; the caller removed w from its stream's map. */
    private void unregister(Watcher w) {
        registry.remove(w);
        progressNotify.remove(w);
        watchersByConnection.computeIfPresent(w.stream.connection, (c, n) -> n == 1 ? null : n - 1);
        metrics.watchers.decrementAndGet();
        if (!w.live) {
            catchingUp.remove(w);
            w.stream.addCatchingUp(-1);
            metrics.catchingUp.decrementAndGet();
            if (w.stream.progressTarget != WatchStream.NO_PROGRESS_REQUEST && answerProgressIfDue(w.stream)) {
                progressWaiting.remove(w.stream);
            }
        }
    }

    // ---- the live path ----

    /**
     * Hands an applied batch to the live watchers. One thread, in apply order, after the batch is
     * committed to the revision log.
     */
    public void publish(List<ApplyResult> results) {
        underLock(() -> {
            demoted = false;
            for (ApplyResult r : results) {
                if (!r.events().isEmpty()) {
                    dispatch(r.revision(), r.events());
                }
                lastPublished = Math.max(lastPublished, r.revision());
            }
            if (!progressWaiting.isEmpty()) {
                progressWaiting.removeIf(this::answerProgressIfDue);
            }
            return demoted;
        });
    }

    /** Lock held. One revision's events to each live watcher that has not seen the revision. */
    private void dispatch(long revision, List<Event> events) {
        EncodedEvents encoded = new EncodedEvents(events);
        byte[] header = header(revision);
        if (events.size() == 1) {
            Event e = events.get(0);
            int[] only = {0};
            registry.forEachCovering(e.getKv().getKey(), w -> {
                if (w.live && revision >= w.nextRevision && w.acceptsType(e)) {
                    deliverLive(w, revision, header, encoded, only, 1);
                }
            });
            return;
        }
        // several events (a txn): gather each watcher's share, in sub-revision order
        Map<Watcher, int[]> shares = new IdentityHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            int index = i;
            registry.forEachCovering(e.getKv().getKey(), w -> {
                if (w.live && revision >= w.nextRevision && w.acceptsType(e)) {
                    int[] share = shares.computeIfAbsent(w, x -> new int[] {0});
                    if (share.length == share[0] + 1) {
                        share = Arrays.copyOf(share, share.length * 2);
                        shares.put(w, share);
                    }
                    share[++share[0]] = index;
                }
            });
        }
        for (Map.Entry<Watcher, int[]> s : shares.entrySet()) {
            int[] share = s.getValue();
            deliverLive(s.getKey(), revision, header, encoded, Arrays.copyOfRange(share, 1, share[0] + 1), share[0]);
        }
    }

    /** Lock held. A full stream does not take the revision: the watcher catches up from it later. */
    private void deliverLive(Watcher w, long revision, byte[] header, EncodedEvents encoded, int[] indexes, int count) {
        if (w.stream.isFull()) {
            w.nextRevision = revision;
            startCatchingUp(w);
            demoted = true;
            metrics.slowMoves.increment();
            return;
        }
        enqueueEvents(w, header, encoded, indexes, count);
        w.nextRevision = revision + 1;
    }

    /** Lock held. */
    private void startCatchingUp(Watcher w) {
        w.live = false;
        catchingUp.add(w);
        w.stream.addCatchingUp(1);
        metrics.catchingUp.incrementAndGet();
    }

    // ---- the catch-up path ----

    /**
     * One round of catch-up: reads one chunk of history from the oldest position among the
     * catching-up watchers whose stream has room, hands it to every such watcher it covers, and
     * moves those that reached the head to the live set. Returns whether another round may find
     * work. One thread at a time.
     */
    public boolean catchUp() {
        long from = Long.MAX_VALUE;
        boolean wantPrevKv = false;
        lock.lock();
        try {
            for (Watcher w : catchingUp) {
                if (w.stream.hasRoomForCatchUp()) {
                    from = Math.min(from, w.nextRevision);
                    wantPrevKv |= w.prevKv;
                }
            }
        } finally {
            lock.unlock();
        }
        if (from == Long.MAX_VALUE) {
            return false;
        }
        // read outside the lock: the live path goes on meanwhile
        History history = revLog.readHistory(from, config.catchUpChunkEvents, config.catchUpChunkBytes, wantPrevKv);
        metrics.catchUpReads.increment();
        afterHistoryRead.run();
        long start = from;
        boolean readWithPrevKv = wantPrevKv;
        underLock(() -> {
            if (history.compacted()) {
                cancelCompacted(history.compactRevision());
            } else {
                feed(start, history, readWithPrevKv);
            }
            return false;
        });
        return true;
    }

    /** Lock held. etcd: a watcher behind the compacted revision gets compact_revision, then nothing. */
    private void cancelCompacted(long compactRevision) {
        List<Watcher> behind = new ArrayList<>();
        for (Watcher w : catchingUp) {
            if (w.nextRevision < compactRevision) {
                behind.add(w);
            }
        }
        long head = revLog.currentRevision();
        for (Watcher w : behind) {
            w.stream.watchers.remove(w.id);
            w.stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(head))
                    .setWatchId(w.id).setCompactRevision(compactRevision).setCanceled(true).build()));
            touch(w.stream);
            unregister(w);
            metrics.compactedCancels.increment();
        }
    }

    /**
     * Lock held. Hands history [from, through] to each catching-up watcher positioned inside it.
     * The history is cut at lastPublished: the log may be ahead of the live path, and a watcher
     * must not be told of a revision (in a header) that a later progress notice would go back on.
     * A watcher that wants prev_kv is skipped when the read was made without (it joined the
     * candidates after the read began); the next round reads with it.
     */
    private void feed(long from, History history, boolean readWithPrevKv) {
        long through = Math.min(history.throughRevision(), lastPublished);
        EncodedEvents encoded = new EncodedEvents(history.events());
        byte[] header = WatchOut.messageField(1, headers.apply(through));
        int[] indexes = new int[encoded.size()];
        List<Watcher> joined = new ArrayList<>();
        for (Watcher w : catchingUp) {
            // a watcher whose stream filled meanwhile waits; history is not going anywhere
            if (w.nextRevision < from || w.nextRevision > through || !w.stream.hasRoomForCatchUp()
                    || (w.prevKv && !readWithPrevKv)) {
                continue;
            }
            int count = 0;
            for (int i = 0; i < encoded.size() && encoded.revision(i) <= through; i++) {
                if (encoded.revision(i) >= w.nextRevision && w.accepts(encoded.event(i))) {
                    indexes[count++] = i;
                }
            }
            if (count > 0) {
                enqueueEvents(w, header, encoded, indexes, count);
            }
            w.nextRevision = through + 1;
            if (w.nextRevision > lastPublished) {
                joined.add(w);
            }
        }
        for (Watcher w : joined) {
            catchingUp.remove(w);
            w.live = true;
            w.stream.addCatchingUp(-1);
            metrics.catchingUp.decrementAndGet();
            if (w.stream.progressTarget != WatchStream.NO_PROGRESS_REQUEST && answerProgressIfDue(w.stream)) {
                progressWaiting.remove(w.stream);
            }
        }
    }

    public void wakeCatchUp() {
        wakeCatchUp.run();
    }

    // ---- progress_notify ----

    /**
     * The periodic progress notice (etcd's --experimental-watch-progress-notify-interval): each
     * live watcher created with progress_notify that was sent nothing since the last tick gets an
     * empty response at the published revision.
     */
    public void progressNotifyTick() {
        underLock(() -> {
            for (Watcher w : progressNotify) {
                // not to a full stream (etcd drops the notice too), and not at a revision below
                // the head its created response named (the live path may lag the log)
                if (w.live && !w.sentSinceTick && !w.stream.isFull() && w.createdAt <= lastPublished) {
                    w.stream.enqueue(WatchOut.of(WatchResponse.newBuilder().setHeader(headers.apply(lastPublished))
                            .setWatchId(w.id).build()));
                    touch(w.stream);
                }
                w.sentSinceTick = false;
            }
            return false;
        });
    }

    // ---- encoding and sending ----

    /** Lock held. The events at indexes[0, count) as one response, or as fragments if asked. */
    private void enqueueEvents(Watcher w, byte[] header, EncodedEvents encoded, int[] indexes, int count) {
        long size = header.length + w.idField.length;
        for (int i = 0; i < count; i++) {
            size += encoded.field(indexes[i], w.prevKv).length;
        }
        w.sentSinceTick = true;
        metrics.eventsSent.increment(count);
        touch(w.stream);
        if (!w.fragment || size < config.maxRequestBytes || count < 2) {
            byte[][] fields = new byte[count][];
            for (int i = 0; i < count; i++) {
                fields[i] = encoded.field(indexes[i], w.prevKv);
            }
            long eventBytes = size - header.length - w.idField.length;
            if (w.stream.enqueueEvents(w, header, fields, eventBytes, Math.min(config.mergeBytes, config.maxRequestBytes))) {
                metrics.eventsMerged.increment(count);
            }
            return;
        }
        // etcd's sendFragments: each part below the limit unless it holds a single event; every
        // part but the last says fragment=true
        int next = 0;
        while (next < count) {
            List<byte[]> parts = new ArrayList<>();
            parts.add(header);
            parts.add(w.idField);
            parts.add(FRAGMENT_FIELD);
            long partSize = header.length + w.idField.length + FRAGMENT_FIELD.length;
            int inPart = 0;
            while (next < count) {
                byte[] f = encoded.field(indexes[next], w.prevKv);
                if (inPart > 0 && partSize + f.length >= config.maxRequestBytes) {
                    break;
                }
                parts.add(f);
                partSize += f.length;
                inPart++;
                next++;
            }
            if (next == count) {
                parts.remove(2);
            }
            w.stream.enqueue(new WatchOut(parts.toArray(new byte[0][])));
        }
    }

    /** Lock held. The encoded header field at revision, shared by the responses of one revision. */
    private byte[] header(long revision) {
        if (revision != headerRevision) {
            headerField = WatchOut.messageField(1, headers.apply(revision));
            headerRevision = revision;
        }
        return headerField;
    }

    /** Lock held. */
    private void touch(WatchStream stream) {
        if (!stream.touched) {
            stream.touched = true;
            touched.add(stream);
        }
    }

    /**
     * Runs body under the lock, then (outside it) sends what the body enqueued, and wakes the
     * catch-up thread if the body returned true. Every change of hub state goes through here.
     */
    private void underLock(java.util.function.BooleanSupplier body) {
        List<WatchStream> toDrain;
        boolean wake;
        lock.lock();
        try {
            wake = body.getAsBoolean();
            toDrain = takeTouched();
        } finally {
            lock.unlock();
        }
        drainAll(toDrain);
        if (wake) {
            wakeCatchUp.run();
        }
    }

    /** Lock held: the streams to drain once the lock is released. */
    private List<WatchStream> takeTouched() {
        List<WatchStream> out = touched;
        for (WatchStream s : out) {
            s.touched = false;
        }
        touched = new ArrayList<>();
        return out;
    }

    private static void drainAll(List<WatchStream> streams) {
        for (WatchStream s : streams) {
            s.drainSoon();
        }
    }
}
