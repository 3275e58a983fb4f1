package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.robustness.history.Recorder;
import java.lang.System.Logger.Level;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Kubernetes informer (client-go's reflector) of one resource prefix: a paged list at revision
 * R, then a watch of the prefix from R+1 with progress notifications and prev_kv, asking for
 * progress now and then. When the watch ends with an error it resumes, on the next member, from
 * the last revision it saw + 1 ("resourceVersion"); when the watch was canceled (compacted: "too
 * old resource version") it lists again. Its watches ask for a leader, as the apiserver's do.
 *
 * <p>The lists are operations of its own client; the watches are records of its own watcher number.
 *
 * <p>Invariant: {@link #resumeRevision} only moves on what proves the prefix complete up to it:
 * an event's revision, or a progress notification addressed to this watch (etcd sends those only
 * to watchers that have caught up). Progress answered to a RequestProgress (watch_id -1) is not
 * trusted for resuming, since etcd 3.4 can send it before the watcher has caught up
 * (etcd-io/etcd#15220); it only counts for {@link #reached}, the catch-up check at the end.
 */
final class Informer implements Runnable {
    private static final System.Logger LOG = System.getLogger(Informer.class.getName());
    private static final long RETRY_MILLIS = 200;

    private final int number;
    private final Client client;
    private final ByteString prefix;
    private final ByteString end;
    private final Recorder recorder;
    private final Random random;
    private final int pageSize;
    /** The revision the next watch starts after; 0 until a list succeeded. */
    private final AtomicLong resumeRevision = new AtomicLong();
    /** The highest revision a progress notification of any watch id announced. */
    private final AtomicLong progressRevision = new AtomicLong();
    private volatile long watchId = Long.MIN_VALUE;
    private volatile boolean stopping;
    private volatile boolean closed;
    private volatile boolean done;
    private WatchStream stream;

    Informer(int number, Client client, String prefix, Recorder recorder, Random random, int pageSize) {
        this.number = number;
        this.client = client;
        this.prefix = Keys.key(prefix);
        this.end = Keys.prefixEnd(this.prefix);
        this.recorder = recorder;
        this.random = random;
        this.pageSize = pageSize;
    }

    int number() {
        return number;
    }

    String member() {
        return client.member();
    }

    String prefix() {
        return prefix.toStringUtf8();
    }

    /** The highest revision through which this informer's watch is known complete. */
    long reached() {
        return Math.max(resumeRevision.get(), progressRevision.get());
    }

    /** Whether this informer still watches (after stop(), one that must list again gives up instead). */
    boolean live() {
        return !done && !closed;
    }

    @Override
    public void run() {
        boolean mustList = true;
        try {
            while (!closed) {
                if (mustList) {
                    if (stopping) {
                        return; // no more lists once the traffic stopped: this informer is done
                    }
                    PagedList.Snapshot snapshot = PagedList.list(client, prefix, end, pageSize);
                    if (snapshot == null) {
                        Thread.sleep(RETRY_MILLIS);
                        continue;
                    }
                    resumeRevision.set(snapshot.revision());
                    mustList = false;
                }
                WatchStream s = openWatch();
                if (s == null) {
                    return;
                }
                while (!s.awaitEnd(200 + random.nextInt(600))) {
                    if (closed) {
                        return;
                    }
                    if (random.nextInt(3) == 0) {
                        s.requestProgress();
                    }
                }
                // canceled (compacted, or refused): the reflector's "too old resource version", list again
                mustList = s.canceledBy() != null;
                if (!mustList) {
                    client.moveOn(); // as clientv3 does: a broken stream is retried on another member
                }
                Thread.sleep(RETRY_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "informer " + number + " stopped", e);
        } finally {
            done = true;
        }
    }

    private synchronized WatchStream openWatch() {
        if (closed) {
            return null;
        }
        String member = client.member();
        WatchCreateRequest create = WatchCreateRequest.newBuilder()
                .setKey(prefix)
                .setRangeEnd(end)
                .setStartRevision(resumeRevision.get() + 1)
                .setProgressNotify(true)
                .setPrevKv(true)
                .build();
        watchId = Long.MIN_VALUE;
        stream = WatchStream.open(recorder, number, member, client.members().channel(member), create, true, this::onResponse);
        return stream;
    }

    private void onResponse(WatchResponse response) {
        if (response.getCreated()) {
            watchId = response.getWatchId();
            return;
        }
        int n = response.getEventsCount();
        if (n > 0) {
            resumeRevision.accumulateAndGet(response.getEvents(n - 1).getKv().getModRevision(), Math::max);
        } else if (!response.getCanceled()) {
            long revision = response.getHeader().getRevision();
            progressRevision.accumulateAndGet(revision, Math::max);
            if (response.getWatchId() == watchId) {
                resumeRevision.accumulateAndGet(revision, Math::max);
            }
        }
    }

    /** Asks the open watch for a progress notification (the harness does, waiting for catch-up). */
    synchronized void requestProgress() {
        if (stream != null && !stream.ended()) {
            stream.requestProgress();
        }
    }

    /** No more lists: from now on an informer that would list again ends instead. */
    void stop() {
        stopping = true;
    }

    void close() {
        WatchStream s;
        synchronized (this) {
            closed = true;
            s = stream;
        }
        if (s != null) {
            s.cancel("informer closed");
        }
    }
}
