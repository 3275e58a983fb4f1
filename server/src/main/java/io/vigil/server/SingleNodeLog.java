package io.vigil.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.wal.Wal;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The log of a single member: with no peers to agree with, a proposal is committed as soon as it
 * is durable in the member's WAL. Two threads form a pipeline, so that one batch's WAL sync
 * overlaps the previous batch's apply:
 * <ol>
 *   <li>the WAL thread drains everything queued (up to {@code maxBatchEntries}) into one WAL
 *       write and sync (group commit) and passes the batch on;</li>
 *   <li>the apply thread applies each durable batch to the store deferred
 *       ({@link RevLog#applyDeferred}) and answers its proposers. The store's own LMDB commit,
 *       which costs two syncs, comes only every {@code --backend-batch-interval} (100 ms) or
 *       {@code --backend-batch-limit} (10,000) entries, as etcd batches its backend commits;
 *       after it, the WAL segments the store no longer needs are deleted.</li>
 * </ol>
 * On start, {@link #replay} applies the WAL entries after the store's committed index again:
 * they were acknowledged.
 *
 * <p>Ordering contract: entries are written, applied, and their futures completed in the order
 * {@link #propose} accepted them; a future completes only once its entry is durable.
 *
 * <p>Every entry of this WAL is committed (there is no other member to wait for), so it saves no
 * hard state; a Raft member will.
 *
 * <p>Failure: when either thread fails, nothing more is written or applied; what was already
 * durable is applied and committed when the WAL thread failed (the store then matches the WAL),
 * and in any case replayed on the next start.
 *
 * <p>Bounds: at most {@link #MAX_PENDING_ENTRIES} proposals wait to be applied (more are refused
 * with etcd's "too many requests"), a batch stops growing at {@link #MAX_BATCH_BYTES}, and the
 * store commits once that many request bytes wait for it.
 */
final class SingleNodeLog implements Proposer {
    private record Pending(InternalRequest request, CompletableFuture<ApplyResult> done) {
    }

    /** A batch the WAL holds, on its way to the apply thread; {@code last} ends the pipeline. */
    private record Durable(List<Pending> proposals, List<LogEntry> entries, long bytes, boolean last) {
    }

    private static final Pending STOP = new Pending(InternalRequest.getDefaultInstance(), null);
    /** etcd refuses new proposals once this many are waiting to be applied. */
    static final int MAX_PENDING_ENTRIES = 5000;
    /** A batch stops growing past this many request bytes (LMDB holds its dirty pages in memory). */
    static final long MAX_BATCH_BYTES = 64L << 20;
    /** The WAL term of every entry: a single member is leader of term 1 for good. */
    private static final long TERM = 1;

    private final RevLog revLog;
    private final Wal wal;
    private final int maxBatchEntries;
    /** The longest applied entries wait for the store's commit (etcd's backend batch interval). */
    private final long commitIntervalNanos;
    /** The store commits once this many applied entries wait for it (etcd's backend batch limit). */
    private final int commitEntries;
    private final Consumer<Throwable> onFatal;
    private final Consumer<List<ApplyResult>> onApplied;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final BlockingQueue<Durable> durable = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final Thread writer;
    private final Thread applier;
    private volatile boolean closed;
    /** Set by the first thread that fails: from then on nothing is written or applied. */
    private volatile boolean failed;
    /** WAL segments wholly below this index may go: the store committed them (set by the apply thread). */
    private volatile long releasableBefore;
    /** Apply thread: what waits for the store's commit, and when that commit is due. */
    private int uncommittedEntries;
    private long uncommittedBytes;
    private long commitDueNanos;

    /**
     * Starts the two threads. The caller has already {@linkplain #replay replayed} the WAL into the
     * store. Takes ownership of the WAL.
     *
     * @param onApplied told of every applied batch, in apply order, once it is durable and its
     *                  proposers answered (the watch hub's feed)
     */
    SingleNodeLog(RevLog revLog, Wal wal, int maxBatchEntries, Duration commitInterval, int commitEntries,
                  Consumer<Throwable> onFatal, Consumer<List<ApplyResult>> onApplied) {
        this.revLog = revLog;
        this.wal = wal;
        this.maxBatchEntries = maxBatchEntries;
        this.commitIntervalNanos = commitInterval.toNanos();
        this.commitEntries = commitEntries;
        this.onFatal = onFatal;
        this.onApplied = onApplied;
        long firstIndex = revLog.appliedIndex() + 1;
        this.writer = new Thread(() -> write(firstIndex), "vigil-wal");
        this.applier = new Thread(this::apply, "vigil-apply");
        writer.start();
        applier.start();
    }

    /**
     * Applies (and commits) the WAL's entries after the store's committed index. The WAL is
     * written before the store, so it holds every index up to its last; one that ends below the
     * store, or that lacks the entry right after it, lost segments.
     *
     * @return how many entries were applied again
     */
    static long replay(RevLog revLog, Wal wal, int chunkEntries) {
        long committed = revLog.committedIndex();
        if (wal.lastIndex() == 0) {
            return 0;
        }
        if (wal.lastIndex() < committed) {
            throw new IllegalStateException("the WAL ends at entry " + wal.lastIndex()
                    + " but the store holds entries up to " + committed + ": WAL segments are missing");
        }
        List<LogEntry> chunk = new ArrayList<>(chunkEntries);
        long expected = committed + 1;
        for (Entry e : wal.entries()) {
            if (e.index() < expected) {
                continue;
            }
            if (e.index() != expected) {
                throw new IllegalStateException("the store holds entries up to " + committed
                        + " but the WAL resumes at entry " + e.index() + ": WAL segments are missing");
            }
            expected++;
            try {
                chunk.add(new LogEntry(e.index(), InternalRequest.parseFrom(e.data())));
            } catch (InvalidProtocolBufferException bad) {
                throw new IllegalStateException("WAL entry " + e.index() + " is not a request", bad);
            }
            if (chunk.size() == chunkEntries) {
                revLog.apply(chunk);
                chunk.clear();
            }
        }
        if (!chunk.isEmpty()) {
            revLog.apply(chunk);
        }
        wal.dropRecoveredEntries();
        return expected - 1 - committed;
    }

    @Override
    public CompletableFuture<ApplyResult> propose(InternalRequest request) {
        CompletableFuture<ApplyResult> done = new CompletableFuture<>();
        if (closed || failed) {
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

    /** The WAL thread: batches proposals, makes each durable, hands it to the apply thread. */
    private void write(long nextIndex) {
        List<Pending> batch = new ArrayList<>();
        try {
            while (!failed) {
                batch = takeBatch();
                boolean stop = batch.remove(STOP);
                List<LogEntry> entries = new ArrayList<>(batch.size());
                List<Entry> records = new ArrayList<>(batch.size());
                long bytes = 0;
                for (Pending p : batch) {
                    byte[] data = p.request().toByteArray();
                    bytes += data.length;
                    entries.add(new LogEntry(nextIndex, p.request()));
                    records.add(Entry.normal(TERM, nextIndex, data));
                    nextIndex++;
                }
                wal.save(null, records);
                wal.releaseBefore(releasableBefore);
                durable.add(new Durable(batch, entries, bytes, stop));
                if (stop) {
                    break;
                }
            }
            // the apply thread failed and may have drained the hand-off before this batch arrived
            failDurable();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable walFailure) {
            // whether this batch reached the disk is unknown: its proposers hear of the failure,
            // and the next start replays whatever the WAL kept of it
            fail(batch, walFailure);
            // what was durable before is still applied and committed, so the store matches the WAL
            durable.add(new Durable(List.of(), List.of(), 0, true));
            onFatal.accept(walFailure);
        }
        failRemaining();
    }

    /** The apply thread: applies durable batches in order, answers proposers, commits the store now and then. */
    private void apply() {
        Durable batch = null;
        try {
            while (true) {
                batch = nextDurable();
                if (batch == null) {
                    commit();
                    continue;
                }
                pending.addAndGet(-batch.proposals().size());
                List<ApplyResult> results = List.of();
                if (!batch.entries().isEmpty()) {
                    if (uncommittedEntries == 0) {
                        commitDueNanos = System.nanoTime() + commitIntervalNanos;
                    }
                    results = revLog.applyDeferred(batch.entries());
                    uncommittedEntries += batch.entries().size();
                    uncommittedBytes += batch.bytes();
                }
                for (int i = 0; i < results.size(); i++) {
                    batch.proposals().get(i).done().complete(results.get(i));
                }
                if (!results.isEmpty()) {
                    onApplied.accept(results);
                }
                if (batch.last()) {
                    commit();
                    return;
                }
                if (uncommittedEntries >= commitEntries || uncommittedBytes >= MAX_BATCH_BYTES
                        || (uncommittedEntries > 0 && System.nanoTime() - commitDueNanos >= 0)) {
                    commit();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable storageFailure) {
            // the in-memory index may no longer match the store: stop rather than serve it; the
            // WAL holds every entry, and the next start applies them again
            fail(batch == null ? List.of() : batch.proposals(), storageFailure);
            revLog.abandonUncommitted();
            onFatal.accept(storageFailure);
        }
        failDurable();
    }

    /** After a failure: answers the proposers of batches no thread will apply. */
    private void failDurable() {
        Durable left;
        while (failed && (left = durable.poll()) != null) {
            fail(left.proposals(), new IllegalStateException("server is stopping"));
        }
    }

    /** Commits the store; the WAL thread then deletes the segments the store no longer needs. */
    private void commit() {
        revLog.commit();
        uncommittedEntries = 0;
        uncommittedBytes = 0;
        releasableBefore = revLog.committedIndex() + 1;
    }

    /**
     * The next durable batch; with uncommitted entries, waits only until their commit is due
     * (null when it came first).
     */
    private Durable nextDurable() throws InterruptedException {
        if (uncommittedEntries == 0) {
            return durable.take();
        }
        return durable.poll(Math.max(0, commitDueNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Blocks for one proposal, then takes what is queued up to the entry and byte limits. */
    private List<Pending> takeBatch() throws InterruptedException {
        List<Pending> batch = new ArrayList<>();
        Pending first = queue.take();
        batch.add(first);
        long bytes = first.request().getSerializedSize();
        Pending next;
        while (batch.size() < maxBatchEntries && bytes < MAX_BATCH_BYTES && (next = queue.poll()) != null) {
            batch.add(next);
            bytes += next.request().getSerializedSize();
        }
        return batch;
    }

    private void fail(List<Pending> proposals, Throwable cause) {
        failed = true;
        for (Pending p : proposals) {
            if (p.done() != null) {
                p.done().completeExceptionally(cause);
            }
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

    /** Applies and commits everything proposed before, stops both threads, then closes the WAL. */
    @Override
    public void close() {
        closed = true;
        queue.add(STOP);
        try {
            writer.join();
            applier.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        wal.close();
    }
}
