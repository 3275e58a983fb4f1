package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.WatchRecord;
import io.vigil.proto.mvccpb.Event;
import io.vigil.robustness.history.Recorder;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A watcher of the whole key space on one member, from revision 1, feeding the checker's merged
 * watch history: it must see every event of every revision.
 *
 * <p>It watches key {0} with range_end {0}, which etcd reads as "every key from the smallest one"
 * (clientv3's WithPrefix of the empty key), with prev_kv off. When its watch ends it opens a new
 * one on the same member from the revision after the last event it got, waiting and retrying while
 * the member is down; only a member the cluster no longer lists is left, for another member (the
 * move is recorded as an error record naming both), again from the next revision.
 *
 * <p>Invariant: {@link #reached()} is a revision all of whose events this watcher has recorded,
 * as have all below it; it starts at 1, the empty store's revision, which has no events. Only a
 * compaction of the watcher breaks it (the harness never compacts that far): then the watcher goes
 * on from the compacted revision and {@link #compactedAt()} tells the events before it are lost.
 */
final class KeyspaceWatcher implements Runnable {
    private static final System.Logger LOG = System.getLogger(KeyspaceWatcher.class.getName());
    static final ByteString ALL_KEYS = ByteString.copyFrom(new byte[] {0});
    private static final long RETRY_MILLIS = 200;
    private static final long MAX_RETRY_MILLIS = 1000;

    private final int number;
    private final Members members;
    private final Recorder recorder;
    /** Picks the member to move to when this watcher's member left the cluster. */
    private final Function<String, String> successor;
    private final AtomicLong reached = new AtomicLong(1);
    /** The compacted revision this watcher was refused at, or 0 (the watch history is complete). */
    private volatile long compactedAt;
    /** See {@link #needlesslyCompactedAt()}. */
    private volatile long needlesslyCompactedAt;
    private volatile String member;
    private volatile boolean closed;
    private WatchStream stream;

    KeyspaceWatcher(int number, String member, Members members, Recorder recorder, Function<String, String> successor) {
        this.number = number;
        this.member = member;
        this.members = members;
        this.recorder = recorder;
        this.successor = successor;
    }

    int number() {
        return number;
    }

    String member() {
        return member;
    }

    /** The highest revision through which this watcher has recorded every event (unless compacted). */
    long reached() {
        return reached.get();
    }

    /** 0, or the compacted revision a watch of this watcher was refused at: events before it are lost. */
    long compactedAt() {
        return compactedAt;
    }

    /**
     * 0, or the highest compacted revision a watch of this watcher was ended with although the
     * watcher had every event up to it: no event lost, but a watch ended that need not have been.
     */
    long needlesslyCompactedAt() {
        return needlesslyCompactedAt;
    }

    @Override
    public void run() {
        int failures = 0;
        try {
            while (!closed) {
                if (!members.isMember(member)) {
                    String next = successor.apply(member);
                    recorder.watch(WatchRecord.newBuilder().setWatcher(number).setMember(member).setNanos(recorder.now())
                            .setError("member left the cluster; watching from " + next + " on").build());
                    LOG.log(Level.INFO, "watcher {0}: {1} left the cluster, moving to {2}", number, member, next);
                    member = next;
                }
                WatchCreateRequest create = WatchCreateRequest.newBuilder()
                        .setKey(ALL_KEYS)
                        .setRangeEnd(ALL_KEYS)
                        .setStartRevision(Math.max(reached.get() + 1, compactedAt))
                        .setProgressNotify(true)
                        .build();
                WatchStream s;
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    s = WatchStream.open(recorder, number, member, members.channel(member), create, false, this::onResponse);
                    stream = s;
                }
                while (!s.awaitEnd(RETRY_MILLIS)) {
                    if (closed) {
                        return;
                    }
                }
                // a down member fails every attempt at once: back off, up to a second, until one gets somewhere
                failures = s.responded() ? 0 : failures + 1;
                WatchResponse canceled = s.canceledBy();
                if (canceled != null && canceled.getCompactRevision() > 0) {
                    long compactRevision = canceled.getCompactRevision();
                    // the harness compacts only below every watcher's reached revision, so this is
                    // a lost guarantee; the history shows it, and the watcher goes on from what is
                    // left. At or below reached + 1 nothing is skipped: the watch was ended for
                    // nothing (etcd issue 15271: a member that installs a snapshot takes its synced
                    // watchers back to the revision they were synced at)
                    if (compactRevision > reached.get() + 1) {
                        LOG.log(Level.WARNING, "watcher {0} on {1} was compacted at {2} after reaching {3}", number,
                                member, compactRevision, reached.get());
                        compactedAt = Math.max(compactedAt, compactRevision);
                    } else {
                        LOG.log(Level.WARNING, "watcher {0} on {1} was ended as compacted at {2} though it had every "
                                + "event through {3}: nothing lost", number, member, compactRevision, reached.get());
                        needlesslyCompactedAt = Math.max(needlesslyCompactedAt, compactRevision);
                    }
                }
                Thread.sleep(Math.min(MAX_RETRY_MILLIS, RETRY_MILLIS * Math.max(1, failures)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "watcher " + number + " stopped", e);
        }
    }

    private void onResponse(WatchResponse response) {
        // events arrive in revision order; the last one's revision is complete, since etcd sends a
        // revision's events in one response
        int n = response.getEventsCount();
        if (n > 0) {
            Event last = response.getEvents(n - 1);
            reached.accumulateAndGet(last.getKv().getModRevision(), Math::max);
        }
    }

    /** Stops watching: no new watch is opened and the current stream is cancelled. */
    void close() {
        WatchStream s;
        synchronized (this) {
            closed = true;
            s = stream;
        }
        if (s != null) {
            s.cancel("watcher closed");
        }
    }
}
