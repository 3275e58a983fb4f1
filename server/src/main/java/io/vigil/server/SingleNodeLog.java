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
import java.util.function.Consumer;

/**
 * The log of a single member: with no peers to agree with, a proposal is committed as soon as it
 * is queued. One apply thread drains everything queued (up to {@code maxBatchEntries}) into one
 * {@link RevLog#apply} call, so under load many requests share one LMDB commit and one sync
 * (group commit). Futures complete only after that commit returned, i.e. once durable.
 *
 * <p>Ordering contract: entries are applied, and their futures completed, in the order
 * {@link #propose} accepted them.
 */
final class SingleNodeLog implements Proposer {
    private record Pending(InternalRequest request, CompletableFuture<ApplyResult> done) {
    }

    private static final Pending STOP = new Pending(null, null);

    private final RevLog revLog;
    private final int maxBatchEntries;
    private final Consumer<Throwable> onFatal;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread applier;
    private volatile boolean closed;

    SingleNodeLog(RevLog revLog, int maxBatchEntries, Consumer<Throwable> onFatal) {
        this.revLog = revLog;
        this.maxBatchEntries = maxBatchEntries;
        this.onFatal = onFatal;
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
        queue.add(new Pending(request, done));
        return done;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatchEntries);
        long nextIndex = revLog.appliedIndex() + 1;
        try {
            while (true) {
                batch.clear();
                batch.add(queue.take());
                queue.drainTo(batch, maxBatchEntries - 1);
                boolean stop = batch.remove(STOP);
                List<LogEntry> entries = new ArrayList<>(batch.size());
                for (Pending p : batch) {
                    entries.add(new LogEntry(nextIndex++, p.request()));
                }
                List<ApplyResult> results = entries.isEmpty() ? List.of() : revLog.apply(entries);
                for (int i = 0; i < results.size(); i++) {
                    batch.get(i).done().complete(results.get(i));
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
