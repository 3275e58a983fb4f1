package io.vigil.client;

import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Watches of a key or a range that resume by themselves: after a disconnect, a member's loss or
 * its losing the leader, the watch continues on another member from the first revision it had
 * not told, so the listener sees every revision exactly once, in order; a compaction that took
 * that history away is told ({@link WatchListener#onCompacted}) rather than skipped over.
 *
 * <pre>{@code
 * OpResult.Get list = client.kv().getPrefix("pods/");
 * Watch w = client.watches().watch(Op.getPrefix("pods/"), list.revision() + 1, listener);
 * }</pre>
 */
public final class Watches {
    private final Endpoints endpoints;
    private final Executor listenerExecutor;
    private final ScheduledExecutorService timer;

    Watches(Endpoints endpoints, Executor listenerExecutor, ScheduledExecutorService timer) {
        this.endpoints = endpoints;
        this.listenerExecutor = listenerExecutor;
        this.timer = timer;
    }

    /**
     * Watches the keys of {@code range} (an {@link Op#get}, {@link Op#getPrefix} or
     * {@link Op#getRange}) from {@code fromRevision} (0: from now on).
     */
    public Watch watch(Op range, long fromRevision, WatchListener listener) {
        return watch(range, fromRevision, false, listener);
    }

    /** As {@link #watch(Op, long, WatchListener)}; with {@code prevKv} each event carries the value it replaced. */
    public Watch watch(Op range, long fromRevision, boolean prevKv, WatchListener listener) {
        if (!range.request().hasRequestRange()) {
            throw new IllegalArgumentException("a watch takes a key or range: " + range);
        }
        if (fromRevision < 0) {
            throw new IllegalArgumentException("fromRevision must be 0 (now) or a revision: " + fromRevision);
        }
        RangeRequest r = range.request().getRequestRange();
        WatchCreateRequest template = WatchCreateRequest.newBuilder().setKey(r.getKey()).setRangeEnd(r.getRangeEnd())
                .setStartRevision(fromRevision).setPrevKv(prevKv).setProgressNotify(true).build();
        ResumingWatch w = new ResumingWatch(endpoints, template, listener, new SerialExecutor(listenerExecutor), timer);
        w.start();
        return w;
    }
}
