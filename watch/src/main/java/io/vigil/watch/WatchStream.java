package io.vigil.watch;

import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client watch stream (one gRPC Watch call): its watchers, and the responses waiting for the
 * transport.
 *
 * <p>Ordering contract: responses leave in the order they were enqueued, and the hub enqueues them
 * under its lock, so per watcher they follow revision order, and a progress notice follows every
 * event it vouches for.
 *
 * <p>Merging: an events response still in the queue takes the events of its watcher's later
 * revisions (its header moves up to the newest), so a stream that is behind sends fewer, larger
 * responses, as etcd's catch-up does, and a stream that keeps up sends one per revision. Only
 * events responses queued after the newest other response (created, canceled, progress) take
 * more: events move earlier in the stream, never past a response that names a revision, so a
 * progress notice never vouches for less than a watcher already got.
 *
 * <p>Memory bound: the outbound queue is the only buffer (the transport is handed a response only
 * while it is ready, in batches of {@link #BATCH_BYTES}, so it holds at most its own ready threshold plus one
 * batch). Once the queue
 * holds {@link WatchHub.Config#streamBufferBytes}, or holds anything while all streams together
 * hold {@link WatchHub.Config#maxBufferedBytes}, the hub stops adding events (the watchers it skips
 * fall back to catching up from the log at their own next revision) and the stream stops reading
 * client requests; both resume when the transport has drained it below half of its own limit, and
 * either drained it empty or the total is below half of the budget. A stream whose client reads
 * empties its queue, so slow streams holding the budget never stop it from being served.
 *
 * <p>The hub's bookkeeping of the stream (its watchers by watch_id, the next auto watch_id, the
 * waiting progress request, whether it is on the drain list, whether it is closed) lives here,
 * guarded by the hub lock, and the hub reads and changes it only through this class's methods;
 * the stream reaches the hub only through the hub's request methods.
 */
public final class WatchStream {
    private static final long NO_PROGRESS_REQUEST = Long.MIN_VALUE;
    /**
     * A drain hands the transport the queued responses in batches of about this many bytes, each
     * one write ({@link WatchSink#send(List)}), while the transport is ready: it may then
     * hold up to one batch beyond its own ready threshold.
     */
    static final int BATCH_BYTES = 16 * 1024;

    private final WatchHub hub;
    private final WatchSink sink;
    private final long bufferBytes;
    private final BufferBudget budget;
    /** The client connection this stream is on, for the per-connection watcher limit. */
    private final Object connection;

    // ---- guarded by the hub lock; the hub reads and changes them only through methods ----
    private final Map<Long, Watcher> watchers = new HashMap<>();
    private long nextAutoId;
    /** A WatchProgressRequest is answered once every watcher is synced and this revision published. */
    private long progressTarget = NO_PROGRESS_REQUEST;
    /** On the hub's list of streams to drain once its lock is released ({@link WatchEncoder}). */
    private boolean touched;
    private boolean closed;

    /** Watchers of this stream that are catching up; written under the hub lock, read by drain. */
    private volatile int catchingUp;

    // ---- guarded by the outbound queue's monitor ----
    private final ArrayDeque<QueuedResponse> outbound = new ArrayDeque<>();
    /**
     * Raised by every response that events must not merge past: a watcher's queued events
     * response ({@link Watcher#queued}) takes more only while it was queued in this epoch.
     */
    private long mergeEpoch;
    private long queuedBytes;
    /**
     * The part of queuedBytes the shared budget holds. The budget is told of a stream's changes in
     * batches (once per hub pass that wrote to the stream, once per drain), not per response, so
     * that streams on different threads do not contend on it for every event: it lags each
     * stream by at most one hub pass or one drain.
     */
    private long reportedBytes;
    private boolean inboundPaused;

    /** Serializes {@link #drain}: whoever raises it from zero sends; the others leave a mark. */
    private final AtomicInteger drainWip = new AtomicInteger();
    /** A drain handed to the transport's thread has not started yet: no need for another. */
    private final java.util.concurrent.atomic.AtomicBoolean drainScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    WatchStream(WatchHub hub, WatchSink sink, long bufferBytes, BufferBudget budget, Object connection) {
        this.hub = hub;
        this.sink = sink;
        this.bufferBytes = bufferBytes;
        this.budget = budget;
        this.connection = connection;
    }

    // ---- client requests, in the order the client sent them ----

    public void create(WatchCreateRequest request) {
        hub.create(this, request);
        afterRequest();
    }

    /**
     * Refuses a create request the server will not serve (its caller may not read the range):
     * the stream answers it as etcd, created and canceled at once with {@code cancelReason}.
     */
    public void refuseCreate(String cancelReason) {
        hub.refuseCreate(this, cancelReason);
        afterRequest();
    }

    public void cancel(long watchId) {
        hub.cancel(this, watchId);
        afterRequest();
    }

    public void requestProgress() {
        hub.requestProgress(this);
        afterRequest();
    }

    /** The client went away or the call ended: drop every watcher. Idempotent. */
    public void close() {
        hub.closeStream(this);
        synchronized (outbound) {
            outbound.clear();
            mergeEpoch++;
            budget.add(-reportedBytes);
            queuedBytes = 0;
            reportedBytes = 0;
        }
    }

    /** The transport can take more: send what waits. */
    public void onReady() {
        drain();
    }

    /** Watchers on this stream (for tests and metrics). */
    public int watcherCount() {
        return hub.watcherCount(this);
    }

    private void afterRequest() {
        drain();
        boolean next;
        synchronized (outbound) {
            next = !full();
            inboundPaused = !next;
        }
        if (next) {
            sink.requestNext();
        }
    }

    // ---- the hub's side: its bookkeeping of this stream, all under the hub lock ----

    Object connection() {
        return connection;
    }

    /** Hub lock held. Whether the stream was closed (it then takes no watchers and sends nothing). */
    boolean isClosed() {
        return closed;
    }

    /** Hub lock held. Closes the stream for the hub; returns false if it was closed already. */
    boolean markClosed() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /** Hub lock held. The watcher with this watch_id, or null. */
    Watcher watcher(long watchId) {
        return watchers.get(watchId);
    }

    /** Hub lock held. */
    int watchersOnStream() {
        return watchers.size();
    }

    /** Hub lock held. The watchers of the stream, to unregister them when it closes. */
    Collection<Watcher> watchers() {
        return Collections.unmodifiableCollection(watchers.values());
    }

    /** Hub lock held. etcd's auto id: the lowest id not taken, counting up from the last one given. */
    long takeAutoWatchId() {
        while (watchers.containsKey(nextAutoId)) {
            nextAutoId++;
        }
        return nextAutoId++;
    }

    /** Hub lock held. */
    void addWatcher(Watcher w) {
        watchers.put(w.id, w);
    }

    /** Hub lock held. Returns the watcher removed, or null if there was none with that id. */
    Watcher removeWatcher(long watchId) {
        return watchers.remove(watchId);
    }

    /** Hub lock held. */
    void clearWatchers() {
        watchers.clear();
    }

    /** Hub lock held. Whether a WatchProgressRequest waits for an answer. */
    boolean progressRequested() {
        return progressTarget != NO_PROGRESS_REQUEST;
    }

    /** Hub lock held. The revision the waiting progress answer must reach (if one waits). */
    long progressTarget() {
        return progressTarget;
    }

    /** Hub lock held. A progress request arrived while the head was at {@code head}. */
    void requestProgressAt(long head) {
        progressTarget = Math.max(progressTarget, head);
    }

    /**
     * Hub lock held. A watcher was created at {@code head}: a progress answer still waiting must
     * not name a revision below its created response.
     */
    void watcherCreatedAt(long head) {
        if (progressRequested()) {
            progressTarget = Math.max(progressTarget, head);
        }
    }

    /** Hub lock held. The waiting progress request was answered. */
    void progressAnswered() {
        progressTarget = NO_PROGRESS_REQUEST;
    }

    /** Hub lock held. Puts the stream on the drain list; returns false if it was on it already. */
    boolean touch() {
        if (touched) {
            return false;
        }
        touched = true;
        return true;
    }

    /** Hub lock held. The stream left the drain list. */
    void untouch() {
        touched = false;
    }

    /** Hub lock held. A response other than a watcher's events: nothing merges past it. */
    void enqueue(WatchOut response) {
        if (closed) {
            return;
        }
        synchronized (outbound) {
            mergeEpoch++;
            outbound.add(new QueuedResponse(response));
            grow(response.size());
        }
    }

    /** What {@link #enqueueEvents} did with the events. */
    enum Enqueued {
        /** Appended to w's response still in the queue. */
        MERGED,
        /** Queued as a new response. */
        QUEUED,
        /** Not taken: the stream is at its high-water mark (the watcher must catch up later). */
        FULL
    }

    /**
     * Hub lock held. Events of w, in order after everything enqueued for w before: appended to
     * w's response still in the queue if there is one with room for them below
     * {@code mergeBytes}, otherwise queued as a new response; not taken when the stream is full.
     *
     * @param header the encoded header of the newest revision among events
     * @param events encoded {@code events} fields; the stream keeps the array
     * @param eventBytes the summed length of events
     */
    Enqueued enqueueEvents(Watcher w, byte[] header, byte[][] events, long eventBytes, long mergeBytes) {
        if (closed) {
            return Enqueued.QUEUED;
        }
        synchronized (outbound) {
            if (full()) {
                return Enqueued.FULL;
            }
            QueuedResponse q = w.queued;
            long grownSize = q == null ? 0 : q.size - q.headerLength() + header.length + eventBytes;
            if (q != null && q.epoch == mergeEpoch && grownSize <= mergeBytes) {
                grow(grownSize - q.size);
                q.append(header, events, grownSize);
                return Enqueued.MERGED;
            }
            q = new QueuedResponse(w, header, events, eventBytes, mergeEpoch);
            outbound.add(q);
            w.queued = q;
            grow(q.size);
            return Enqueued.QUEUED;
        }
    }

    /** Hub lock held: whether live events must stop being added. */
    boolean isFull() {
        synchronized (outbound) {
            return full();
        }
    }

    /** Whether catch-up may add to this stream now. */
    boolean hasRoomForCatchUp() {
        synchronized (outbound) {
            return roomy();
        }
    }

    /** Queue monitor held. The high-water mark: no more events, no more client requests. */
    private boolean full() {
        return queuedBytes >= bufferBytes || (queuedBytes > 0 && budget.spent());
    }

    /** Queue monitor held. The low-water mark: catch-up and client requests resume. */
    private boolean roomy() {
        return queuedBytes < bufferBytes / 2 && (queuedBytes == 0 || budget.roomy());
    }

    /** Queue monitor held. The budget hears of it at the next {@link #reportToBudget}. */
    private void grow(long delta) {
        queuedBytes += delta;
    }

    /** Tells the shared budget what this stream holds now; any thread. */
    void reportToBudget() {
        synchronized (outbound) {
            reportLocked();
        }
    }

    /** Queue monitor held. */
    private void reportLocked() {
        if (queuedBytes != reportedBytes) {
            budget.add(queuedBytes - reportedBytes);
            reportedBytes = queuedBytes;
        }
    }

    long queuedBytes() {
        synchronized (outbound) {
            return queuedBytes;
        }
    }

    /** Watchers of this stream that are unsynced (catching up); any thread. */
    int catchingUp() {
        return catchingUp;
    }

    /** Hub lock held. One of its watchers became unsynced (+1) or left that state (-1). */
    void addCatchingUp(int delta) {
        catchingUp += delta;
    }

    /**
     * Has {@link #drain} run on the transport's thread ({@link WatchSink#execute}). Whatever was
     * enqueued before this call is sent by that drain (or an earlier one still to start).
     */
    void drainSoon() {
        if (drainScheduled.compareAndSet(false, true)) {
            sink.execute(() -> {
                drainScheduled.set(false);
                drain();
            });
        }
    }

    /**
     * Sends queued responses while the transport is ready; any thread, never two at once. Once
     * below the low-water mark it resumes reading client requests and wakes the catch-up of this
     * stream's watchers that fell behind.
     */
    void drain() {
        if (drainWip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        List<WatchOut> batch = new ArrayList<>();
        do {
            while (sink.isReady()) {
                long batchBytes = 0;
                synchronized (outbound) {
                    QueuedResponse next;
                    while (batchBytes < BATCH_BYTES && (next = outbound.poll()) != null) {
                        if (next.watcher != null && next.watcher.queued == next) {
                            // nothing appends to it now, and an idle watcher holds no sent response
                            next.watcher.queued = null;
                        }
                        grow(-next.size);
                        batchBytes += next.size;
                        batch.add(next.toWatchOut());
                    }
                }
                if (batch.isEmpty()) {
                    break;
                }
                sink.send(batch);
                batch.clear();
            }
            boolean resumeInbound;
            boolean roomy;
            synchronized (outbound) {
                reportLocked();
                roomy = roomy();
                resumeInbound = roomy && inboundPaused;
                if (resumeInbound) {
                    inboundPaused = false;
                }
            }
            if (resumeInbound) {
                sink.requestNext();
            }
            if (roomy && catchingUp > 0) {
                hub.wakeCatchUp();
            }
            missed = drainWip.addAndGet(-missed);
        } while (missed != 0);
    }
}
