package io.vigil.watch;

import io.micrometer.core.instrument.MeterRegistry;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.RevLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

/**
 * A {@link WatchHub} with the threads that drive it in a server: a dispatcher that publishes
 * applied batches (so that fan-out overlaps the next batch's commit instead of delaying it), a
 * catch-up thread woken by the hub, and the progress_notify ticker.
 *
 * <p>Bound: at most {@link #MAX_QUEUED_BATCHES} applied batches, and at most
 * {@link #MAX_QUEUED_EVENT_BYTES} of their events, wait for the dispatcher; beyond that
 * {@link #published} blocks the apply thread. That happens only when fan-out itself cannot keep
 * up (CPU), never because a client is slow: slow clients fall back to catch-up.
 *
 * <p>When the fan-out is light (at most {@link #INLINE_MAX_WATCHERS} watchers, none with prev_kv)
 * and every earlier batch is published, the apply thread publishes a batch itself. Waking the
 * dispatcher costs a thread hand-off per applied batch, which with no watcher at all (a member
 * that serves only puts) is all the work there is; and an event handed over that way reached its
 * stream one hand-off after the put's answer (etcd's watch-latency measures exactly that gap).
 * Order holds: a batch goes to the dispatcher while any earlier one is not yet published.
 */
public final class WatchHubThreads implements AutoCloseable {
    /** The server's one logger (the same name the server logs under). */
    private static final System.Logger LOG = System.getLogger("vigil");
    static final int MAX_QUEUED_BATCHES = 1024;
    /**
     * The most watchers whose fan-out the apply thread does itself (etcd's Go watch tool, one
     * member, unpaced: 200 and 1,000 watchers spent 8-9% less server CPU than through the
     * dispatcher, and 1,000 delivered 7% more events/s; at 10,000 it made no difference). Beyond
     * it the dispatcher overlaps a large fan-out with the next apply, so the answers to the next
     * batch's puts do not wait for it.
     */
    static final int INLINE_MAX_WATCHERS = 1024;
    static final long MAX_QUEUED_EVENT_BYTES = 64L << 20;
    /** A failed catch-up pass is tried again after this long. */
    private static final long CATCH_UP_RETRY_MILLIS = 1000;
    /** An applied batch and the serialized size of its events, counted once on the way in. */
    private record Batch(List<ApplyResult> results, long eventBytes) {
    }

    private static final Batch STOP = new Batch(List.of(), 0);

    private final WatchHub hub;
    private final BlockingQueue<Batch> batches = new ArrayBlockingQueue<>(MAX_QUEUED_BATCHES);
    private final Thread dispatcher;
    private final ScheduledExecutorService catchUpAndTicks;
    /** Wake-ups not yet served by a catch-up pass; the pass that raises it from zero runs. */
    private final AtomicInteger catchUpWakes = new AtomicInteger();
    /** Event bytes of the batches queued for the dispatcher; guarded by queuedBytesMonitor. */
    private long queuedEventBytes;
    private final Object queuedBytesMonitor = new Object();
    /** Batches handed to the dispatcher and not yet published; only the apply thread raises it. */
    private final AtomicInteger unpublished = new AtomicInteger();

    public WatchHubThreads(RevLog revLog, WatchHub.Config config, LongFunction<ResponseHeader> headers,
                           MeterRegistry meters, Duration progressNotifyInterval) {
        catchUpAndTicks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vigil-watch-catchup");
            t.setDaemon(true);
            return t;
        });
        hub = new WatchHub(revLog, config, headers, this::wakeCatchUp, meters);
        dispatcher = new Thread(this::dispatch, "vigil-watch-dispatch");
        dispatcher.setDaemon(true);
        dispatcher.start();
        long tick = progressNotifyInterval.toNanos();
        catchUpAndTicks.scheduleAtFixedRate(hub::progressNotifyTick, tick, tick, TimeUnit.NANOSECONDS);
    }

    public WatchHub hub() {
        return hub;
    }

    /** The apply thread hands over each applied batch, in apply order, after committing it. */
    public void published(List<ApplyResult> results) {
        if (unpublished.get() == 0 && hub.fansOutLightly(INLINE_MAX_WATCHERS)) {
            publish(results);
            return;
        }
        long bytes = eventBytes(results);
        try {
            synchronized (queuedBytesMonitor) {
                // one batch is always let through, however large, so that nothing waits forever
                while (queuedEventBytes > 0 && queuedEventBytes + bytes > MAX_QUEUED_EVENT_BYTES) {
                    queuedBytesMonitor.wait();
                }
                queuedEventBytes += bytes;
            }
            unpublished.incrementAndGet();
            batches.put(new Batch(results, bytes));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long eventBytes(List<ApplyResult> results) {
        long bytes = 0;
        for (ApplyResult r : results) {
            for (io.vigil.proto.mvccpb.Event e : r.events()) {
                bytes += e.getSerializedSize();
            }
        }
        return bytes;
    }

    private void publish(List<ApplyResult> results) {
        try {
            hub.publish(results);
        } catch (Throwable bug) {
            // watchers of this batch may have missed it: say so loudly, but keep draining, or the
            // apply thread would block on a full queue forever
            LOG.log(System.Logger.Level.ERROR, "watch dispatch failed", bug);
        }
    }

    private void dispatched(Batch batch) {
        synchronized (queuedBytesMonitor) {
            queuedEventBytes -= batch.eventBytes();
            queuedBytesMonitor.notifyAll();
        }
    }

    private void dispatch() {
        List<Batch> taken = new ArrayList<>();
        try {
            while (true) {
                taken.clear();
                taken.add(batches.take());
                batches.drainTo(taken);
                for (Batch batch : taken) {
                    if (batch == STOP) {
                        return;
                    }
                    try {
                        publish(batch.results());
                    } finally {
                        dispatched(batch);
                        unpublished.decrementAndGet();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void wakeCatchUp() {
        if (catchUpWakes.getAndIncrement() == 0) {
            try {
                catchUpAndTicks.execute(this::catchUpPass);
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                catchUpWakes.set(0);
            }
        }
    }

    /** Rounds until the hub has nothing to do, then again if woken meanwhile. */
    private void catchUpPass() {
        int wakes = catchUpWakes.get();
        do {
            try {
                while (hub.catchUp()) {
                    // each round serves the oldest position among the watchers that can take more
                }
            } catch (Throwable failure) {
                // e.g. no LMDB reader slot left: the watchers stay where they are; try again later,
                // since nothing else may wake catch-up for a stream that has room and is idle
                LOG.log(System.Logger.Level.WARNING, "watch catch-up failed, retrying in " + CATCH_UP_RETRY_MILLIS + " ms: " + failure);
                retryCatchUpLater();
            }
            wakes = catchUpWakes.addAndGet(-wakes);
        } while (wakes != 0);
    }

    private void retryCatchUpLater() {
        try {
            catchUpAndTicks.schedule(this::wakeCatchUp, CATCH_UP_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // closing
        }
    }

    @Override
    public void close() {
        if (!batches.offer(STOP)) {
            dispatcher.interrupt();
        }
        catchUpAndTicks.shutdownNow();
        try {
            dispatcher.join(5000);
            catchUpAndTicks.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
