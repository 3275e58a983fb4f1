package io.vigil.watch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/** The hub's meters. Gauge values are written under the hub lock and read by any thread. */
final class WatchMetrics {
    final AtomicLong streams = new AtomicLong();
    final AtomicLong watchers = new AtomicLong();
    final AtomicLong catchingUp = new AtomicLong();
    final Counter eventsSent;
    final Counter eventsMerged;
    final Counter slowMoves;
    final Counter compactedCancels;
    final Counter catchUpReads;
    final Counter limitRefusals;

    WatchMetrics(MeterRegistry registry, BufferBudget buffered) {
        Gauge.builder("vigil.watch.buffered.bytes", buffered, BufferBudget::bytes)
                .description("bytes of responses queued on all watch streams, waiting for their clients")
                .register(registry);
        Gauge.builder("vigil.watch.buffered.bytes.peak", buffered, BufferBudget::peak)
                .description("the most bytes of responses ever queued on all watch streams at once")
                .register(registry);
        Gauge.builder("vigil.watch.streams", streams, AtomicLong::get)
                .description("open watch streams").register(registry);
        Gauge.builder("vigil.watch.watchers", watchers, AtomicLong::get)
                .description("watchers on all streams").register(registry);
        Gauge.builder("vigil.watch.watchers.catching.up", catchingUp, AtomicLong::get)
                .description("watchers replaying history from the revision log").register(registry);
        Gauge.builder("vigil.watch.watchers.live", this, m -> m.watchers.get() - m.catchingUp.get())
                .description("watchers at the head, fed each committed revision").register(registry);
        eventsSent = Counter.builder("vigil.watch.events.sent")
                .description("events enqueued to watch streams").register(registry);
        eventsMerged = Counter.builder("vigil.watch.events.merged")
                .description("events appended to a response still queued for their watcher (a stream behind)")
                .register(registry);
        slowMoves = Counter.builder("vigil.watch.slow.moves")
                .description("live watchers moved back to catching up because their stream was full")
                .register(registry);
        compactedCancels = Counter.builder("vigil.watch.compacted.cancels")
                .description("watchers cancelled because the history they needed was compacted")
                .register(registry);
        catchUpReads = Counter.builder("vigil.watch.catchup.reads")
                .description("history chunks read from the revision log for catching-up watchers")
                .register(registry);
        limitRefusals = Counter.builder("vigil.watch.limit.refusals")
                .description("watch creates refused: too many watchers on the stream or the connection")
                .register(registry);
    }
}
