package io.vigil.server;

import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The log of a single member: with no peers to agree with, a proposal is committed as soon as it
 * is queued. One apply thread drains everything queued (up to {@code maxBatchEntries}) into one
 * {@link RevLog#apply} call, so under load many requests share one LMDB commit and one sync
 * (group commit). Futures complete only after that commit returned, i.e. once durable.
 *
 * <p>Ordering contract: entries are applied, and their futures completed, in the order
 * {@link #propose} accepted them.
 *
 * <p>Bounds: at most {@link #MAX_PENDING_ENTRIES} proposals wait (more are refused with etcd's
 * "too many requests"), and a batch stops growing at {@link #MAX_BATCH_BYTES}.
 */
final class SingleNodeLog implements Proposer {
    private record Pending(InternalRequest request, CompletableFuture<ApplyResult> done) {
    }

    private static final Pending STOP = new Pending(InternalRequest.getDefaultInstance(), null);
    /** etcd refuses new proposals once this many are waiting to be applied. */
    static final int MAX_PENDING_ENTRIES = 5000;
    /** A batch stops growing past this many request bytes (LMDB holds its dirty pages in memory). */
    static final long MAX_BATCH_BYTES = 64L << 20;

    private final RevLog revLog;
    private final int maxBatchEntries;
    private final Consumer<Throwable> onFatal;
    private final Consumer<List<ApplyResult>> onApplied;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final Thread applier;
    private volatile boolean closed;

    /**
     * @param onApplied told of every applied batch, in apply order, once it is committed and its
     *                  proposers answered (the watch hub's feed)
     */
    SingleNodeLog(RevLog revLog, int maxBatchEntries, Consumer<Throwable> onFatal, Consumer<List<ApplyResult>> onApplied) {
        this.revLog = revLog;
        this.maxBatchEntries = maxBatchEntries;
        this.onFatal = onFatal;
        this.onApplied = onApplied;
        this.applier = new Thread(this::run, "vigil-apply");
        applier.start();
    }

    @Override
    public CompletableFuture<ApplyResult> propose(InternalRequest request) {
        CompletableFuture<ApplyResult> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IllegalStateException("server is stopping"));
            return done;
        }
        if (pending.incrementAndGet() > MAX_PENDING_ENTRIES) {
            pending.decrementAndGet();
            done.completeExceptionally(EtcdErrors.TOO_MANY_REQUESTS);
            return done;
        }
        queue.add(new Pending(request, done));
        return done;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatchEntries);
        long nextIndex = revLog.appliedIndex() + 1;
        try {
            while (true) {
                batch.clear();
                takeBatch(batch);
                boolean stop = batch.remove(STOP);
                pending.addAndGet(-batch.size());
                List<LogEntry> entries = new ArrayList<>(batch.size());
                for (Pending p : batch) {
                    entries.add(new LogEntry(nextIndex++, p.request()));
                }
                List<ApplyResult> results = entries.isEmpty() ? List.of() : revLog.apply(entries);
                for (int i = 0; i < results.size(); i++) {
                    batch.get(i).done().complete(results.get(i));
                }
                if (!results.isEmpty()) {
                    onApplied.accept(results);
                }
                if (stop) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable storageFailure) {
            // the in-memory index may no longer match the store: stop rather than serve it
            for (Pending p : batch) {
                if (p.done() != null) {
                    p.done().completeExceptionally(storageFailure);
                }
            }
            onFatal.accept(storageFailure);
        }
        failRemaining();
    }

    /** Blocks for one entry, then takes what is queued up to the entry and byte limits. */
    private void takeBatch(List<Pending> batch) throws InterruptedException {
        Pending first = queue.take();
        batch.add(first);
        long bytes = first.request().getSerializedSize();
        Pending next;
        while (batch.size() < maxBatchEntries && bytes < MAX_BATCH_BYTES && (next = queue.poll()) != null) {
            batch.add(next);
            bytes += next.request().getSerializedSize();
        }
    }

    private void failRemaining() {
        Pending p;
        while ((p = queue.poll()) != null) {
            if (p.done() != null) {
                p.done().completeExceptionally(new IllegalStateException("server is stopping"));
            }
        }
    }

    /** Applies everything proposed before, then stops the apply thread. */
    @Override
    public void close() {
        closed = true;
        queue.add(STOP);
        try {
            applier.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
