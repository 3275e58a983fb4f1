package io.vigil.server;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vigil.consensus.node.RaftNode;
import io.vigil.consensus.node.RaftStorage;
import io.vigil.consensus.raft.ConfChange;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.ReadState;
import io.vigil.consensus.raft.SoftState;
import io.vigil.consensus.raft.StateRole;
import io.vigil.consensus.raft.Status;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.internal.MemberAttributes;
import io.vigil.proto.internal.MemberChange;
import io.vigil.proto.internal.MemberRecord;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The write path of a member of a Raft cluster (one member alone is a cluster of one):
 * propose → Raft commits (a majority has it in its WAL) → the one apply thread applies each
 * committed entry to the revision log, in log order, on every member → the proposer is answered.
 *
 * <p>Wait registry (etcd's {@code wait.Wait}): a proposal carries a request id unique to this
 * member ({@link IdGenerator}); the apply thread completes the future registered under that id
 * when it applies the entry. Entries proposed on other members find no waiter; a proposal Raft
 * dropped is never applied, and its future ends with etcd's "request timed out".
 *
 * <p>Linearizable reads (ReadIndex): {@link #linearizableRead} asks the node for a read point;
 * the leader confirms its commit index with a heartbeat round, and the read runs once this
 * member has applied up to it. Read states arrive with the committed entries of the same Ready,
 * so the apply thread sees them in order.
 *
 * <p>The store's LMDB commit is batched as on a single member: every
 * {@code --backend-batch-interval} or {@code --backend-batch-limit} entries; after it, the node
 * may release the WAL segments and in-memory entries the store no longer needs.
 *
 * <p>Membership changes are conf change entries whose context carries the proposer's request id
 * and the member ({@link MemberChange}); the apply thread decides them with {@link Membership}
 * and tells the node of those that took effect, in log order. A member's published attributes
 * ({@link #publish}) are normal entries that go to the membership instead of the store.
 *
 * <p>Ordering contract: a proposer's future completes after its entry is applied; the watch hub
 * is told of a batch once it is applied and durable on a majority, before its proposers are
 * answered (etcd notifies watchers inside the apply, before it answers the proposer).
 */
final class ReplicatedLog implements Proposer {
    /** etcd refuses new proposals once this many wait to be applied. */
    static final int MAX_PENDING_ENTRIES = 5000;
    /** A request times out at most this much after its request timeout (or a twentieth of it). */
    private static final long TIMEOUT_SWEEP_MS = 100;
    private static final RaftNode.Applied STOP = new RaftNode.Applied(List.of(), List.of(), null, 0);
    /** Wakes the apply thread for {@link #storeTasks}. */
    private static final RaftNode.Applied STORE_TASKS = new RaftNode.Applied(List.of(), List.of(), null, 0);
    private final java.util.concurrent.ConcurrentLinkedQueue<StoreTask<?>> storeTasks = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private record StoreTask<T>(java.util.function.Supplier<T> task, CompletableFuture<T> done) {
        void run() {
            try {
                done.complete(task.get());
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        }
    }

    private final RevLog revLog;
    private final Membership membership;
    private final Runnable onMembershipChanged;
    private final IdGenerator ids;
    private final long requestTimeoutMs;
    /** etcd's --max-request-bytes: the largest entry this member proposes (etcd's check on the marshalled request). */
    private final int maxRequestBytes;
    private final long commitIntervalNanos;
    private final int commitEntries;
    private final long keepEntries;
    private final long catchUpEntries;
    private final Consumer<Throwable> onFatal;
    private final Consumer<List<ApplyResult>> onApplied;
    private final Consumer<Boolean> onLeadership;
    private final Waits<ApplyResult> waiters = new Waits<>();
    /**
     * Membership changes and attributes proposed here, by request id: completed with whether the
     * change took effect (the attributes were recorded).
     */
    private final Waits<Boolean> memberWaiters = new Waits<>();
    private final Waits<Void> reads = new Waits<>();
    /** Fails the waits of {@link #waiters}, {@link #memberWaiters} and {@link #reads} that time out. */
    private final ScheduledExecutorService timeouts;
    private final BlockingQueue<RaftNode.Applied> applyQueue = new LinkedBlockingQueue<>();
    private final ExecutorService readExecutor;
    private final Thread applier;
    private RaftNode node;
    private volatile boolean closed;
    private volatile long appliedIndex;
    /** Proposals that ended without being applied: timed out, dropped, or the member stopped (etcd's proposals failed). */
    private final java.util.concurrent.atomic.LongAdder failedProposals = new java.util.concurrent.atomic.LongAdder();
    /** Apply thread: reads waiting for the applied index to reach theirs. */
    private final PriorityQueue<PendingRead> pendingReads = new PriorityQueue<>();
    private int uncommittedEntries;
    private long commitDueNanos;
    private boolean leader;

    private record LeaderWait(long target, CompletableFuture<Void> done) {
    }

    private final List<LeaderWait> leaderWaits = new java.util.concurrent.CopyOnWriteArrayList<>();

    private record PendingRead(long index, CompletableFuture<Void> done) implements Comparable<PendingRead> {
        @Override
        public int compareTo(PendingRead o) {
            return Long.compare(index, o.index);
        }
    }

    /**
     * @param appliedIndex the Raft index the store has applied up to ({@link #replay} done)
     * @param config the request timeout, the request size limit, the backend's batching, and the
     *               entries the log keeps below the store's applied index for followers that lag
     *               (etcd: --snapshot-count plus the catch-up entries; one further behind is sent a snapshot)
     * @param onApplied told of every applied batch, in apply order (the watch hub's feed)
     * @param onLeadership told, on the apply thread, when this member becomes leader (true) or stops being it
     * @param onMembershipChanged told, on the apply thread, after a membership change took effect
     */
    ReplicatedLog(RevLog revLog, Membership membership, Runnable onMembershipChanged, IdGenerator ids, long appliedIndex,
                  ServerConfig config, Consumer<Throwable> onFatal,
                  Consumer<List<ApplyResult>> onApplied, Consumer<Boolean> onLeadership) {
        this.revLog = revLog;
        this.membership = membership;
        this.onMembershipChanged = onMembershipChanged;
        this.ids = ids;
        this.appliedIndex = appliedIndex;
        this.requestTimeoutMs = config.requestTimeoutMs();
        this.maxRequestBytes = config.maxRequestBytes();
        this.commitIntervalNanos = config.backendBatchInterval().toNanos();
        this.commitEntries = config.backendBatchLimit();
        this.keepEntries = config.snapshotCount() + config.snapshotCatchUpEntries();
        this.catchUpEntries = config.snapshotCatchUpEntries();
        this.onFatal = onFatal;
        this.onApplied = onApplied;
        this.onLeadership = onLeadership;
        this.readExecutor = Executors.newFixedThreadPool(2, DaemonThreads.named("vigil-read"));
        this.applier = new Thread(this::applyLoop, "vigil-apply");
        this.timeouts = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-request-timeouts"));
    }

    /** Where the node hands committed entries: the apply thread's queue. */
    void enqueue(RaftNode.Applied applied) {
        applyQueue.add(applied);
    }

    /** Starts applying; the node must be started with {@link #enqueue} as its applier. */
    void start(RaftNode node) {
        this.node = node;
        long period = Math.max(1, Math.min(TIMEOUT_SWEEP_MS, requestTimeoutMs / 20));
        timeouts.scheduleAtFixedRate(this::expireWaits, period, period, TimeUnit.MILLISECONDS);
        applier.start();
    }

    /**
     * Applies (and commits) the committed entries after the store's applied index: they were
     * acknowledged, and the store had not committed them before the member stopped. Membership
     * changes among them are decided too (those decided before are found in its history), so that
     * the node can start from the configuration at the commit index.
     *
     * @return how many requests were applied again
     */
    static long replay(RevLog revLog, Membership membership, RaftStorage storage, int chunkEntries) {
        long from = Math.max(revLog.appliedIndex() + 1, storage.memory().firstIndex());
        long to = storage.hardState().commit();
        long replayed = 0;
        for (long lo = from; lo <= to; ) {
            List<Entry> read = storage.memory().entries(lo, Math.min(to, lo + chunkEntries - 1) + 1, Long.MAX_VALUE);
            List<LogEntry> chunk = new ArrayList<>(read.size());
            for (Entry e : read) {
                Routed r = route(e, membership);
                if (r != null && r.request() != null) {
                    chunk.add(r.request());
                }
            }
            if (!chunk.isEmpty()) {
                revLog.apply(chunk);
            }
            replayed += chunk.size();
            lo += read.size();
        }
        return replayed;
    }

    @Override
    public CompletableFuture<ApplyResult> propose(InternalRequest request) {
        CompletableFuture<ApplyResult> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(EtcdErrors.STOPPING);
            return done;
        }
        if (waiters.size() >= MAX_PENDING_ENTRIES) {
            done.completeExceptionally(EtcdErrors.TOO_MANY_REQUESTS);
            return done;
        }
        long id = ids.next();
        byte[] entry = request.toBuilder().setId(id).build().toByteArray();
        if (entry.length > maxRequestBytes) {
            done.completeExceptionally(EtcdErrors.REQUEST_TOO_LARGE);
            return done;
        }
        registerWaiter(waiters, id, done);
        done.whenComplete((r, t) -> {
            if (t != null) {
                failedProposals.increment();
            }
        });
        node.propose(entry, done);
        return done;
    }

    /**
     * Registers {@code done} under a new request id until its entry is applied (or its read state
     * arrives) or the request timeout ends it with etcd's "request timed out"; returns the id the
     * entry (or read request) must carry.
     */
    private <T> long registerWaiter(Waits<T> registry, CompletableFuture<T> done) {
        long id = ids.next();
        registerWaiter(registry, id, done);
        return id;
    }

    private <T> void registerWaiter(Waits<T> registry, long id, CompletableFuture<T> done) {
        registry.add(id, done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMs));
    }

    private void expireWaits() {
        long now = System.nanoTime();
        try {
            waiters.expire(now);
            memberWaiters.expire(now);
            reads.expire(now);
        } catch (RuntimeException bug) {
            // a throwable escaping a periodic task would end every later sweep: no request
            // would time out again
            VigilServer.LOG.log(System.Logger.Level.ERROR, "request timeout sweep failed", bug);
        }
    }

    /**
     * Proposes a membership change of {@code memberId}; completes once its entry is applied, with
     * whether it took effect ({@link Membership#apply} refuses a change the members made before
     * it no longer allow), or fails with etcd's timeout.
     */
    CompletableFuture<Boolean> proposeMemberChange(ConfChange.Type type, long memberId, MemberRecord member) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(EtcdErrors.STOPPING);
            return done;
        }
        long id = registerWaiter(memberWaiters, done);
        byte[] context = MemberChange.newBuilder().setRequestId(id).setMember(member).build().toByteArray();
        node.proposeConfChange(new ConfChange(type, memberId, context), done);
        return done;
    }

    /**
     * Proposes this member's published attributes; completes once the entry is applied here, with
     * whether they were recorded ({@link Membership#publish}), or fails with etcd's timeout.
     */
    CompletableFuture<Boolean> publish(MemberAttributes attributes) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(EtcdErrors.STOPPING);
            return done;
        }
        long id = registerWaiter(memberWaiters, done);
        node.propose(InternalRequest.newBuilder().setId(id).setMemberAttributes(attributes).build().toByteArray(), done);
        return done;
    }

    /**
     * Completes, on a read thread, once this member has applied everything the leader had
     * committed when the read was asked: a read of the store then is linearizable.
     */
    CompletableFuture<Void> linearizableRead() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(EtcdErrors.STOPPING);
            return done;
        }
        long context = registerWaiter(reads, done);
        node.readIndex(context, done);
        return done.thenApplyAsync(v -> v, readExecutor);
    }

    /**
     * Asks the node to hand leadership to {@code target}; completes once this member sees
     * {@code target} as leader, or with a timeout.
     */
    CompletableFuture<Void> moveLeader(long target) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        LeaderWait wait = new LeaderWait(target, done);
        leaderWaits.add(wait);
        done.orTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS).whenComplete((r, t) -> leaderWaits.remove(wait));
        if (node.leaderId() == target) {
            done.complete(null);
        }
        node.transferLeadership(target);
        return done;
    }

    /**
     * A leader that is stopping hands leadership to its most up-to-date voter first (etcd's
     * TransferLeadership on stop), so that the others need not wait out an election timeout and
     * proposals forwarded meanwhile are not lost. Gives up quietly after {@code timeoutMs}.
     */
    void handOverLeadership(long timeoutMs) {
        if (!isLeader()) {
            return;
        }
        try {
            Status status = node.status().get(timeoutMs, TimeUnit.MILLISECONDS);
            long self = status.id();
            long best = 0;
            long bestMatch = -1;
            for (Map.Entry<Long, Status.PeerProgress> e : status.progress().entrySet()) {
                if (e.getKey() != self && status.confState().voters().contains(e.getKey())
                        && e.getValue().match() > bestMatch) {
                    best = e.getKey();
                    bestMatch = e.getValue().match();
                }
            }
            if (best != 0) {
                moveLeader(best).get(timeoutMs, TimeUnit.MILLISECONDS);
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "leadership was not handed over before stopping: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long appliedIndex() {
        return appliedIndex;
    }

    /**
     * Runs {@code task} on the apply thread between batches, once the store has committed every
     * entry applied so far: the task sees the store exactly at the applied index, and nothing is
     * applied until it returns. A backup waits for this so that it holds every write acknowledged
     * before it (etcd's backend commits before its snapshot); a defragmentation runs in it.
     */
    <T> CompletableFuture<T> withStoreCommitted(java.util.function.Supplier<T> task) {
        CompletableFuture<T> done = new CompletableFuture<>();
        storeTasks.add(new StoreTask<>(task, done));
        applyQueue.add(STORE_TASKS);
        if (closed) {
            done.completeExceptionally(EtcdErrors.STOPPING); // the apply thread may be gone already
        }
        return done;
    }

    /** Proposals waiting to be applied (etcd's proposals pending). */
    int pendingProposals() {
        return waiters.size();
    }

    long failedProposals() {
        return failedProposals.sum();
    }

    boolean isLeader() {
        return node.role() == StateRole.LEADER;
    }

    RaftNode node() {
        return node;
    }

    private void applyLoop() {
        try {
            while (true) {
                RaftNode.Applied batch = uncommittedEntries == 0 ? applyQueue.take()
                        : applyQueue.poll(Math.max(0, commitDueNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (batch == null) {
                    commit();
                    continue;
                }
                if (batch == STOP) {
                    commit();
                    return;
                }
                if (batch == STORE_TASKS) {
                    commit();
                    for (StoreTask<?> task = storeTasks.poll(); task != null; task = storeTasks.poll()) {
                        task.run();
                    }
                    continue;
                }
                if (batch.softState() != null) {
                    leaderChanged(batch.softState());
                }
                applyEntries(batch.committed());
                for (ReadState rs : batch.readStates()) {
                    // the read stays among the waits until answered: it still times out if this
                    // member does not reach its index in time
                    CompletableFuture<Void> f = reads.find(ByteBuffer.wrap(rs.requestContext()).getLong());
                    if (f != null) {
                        pendingReads.add(new PendingRead(rs.index(), f));
                    }
                }
                while (!pendingReads.isEmpty() && pendingReads.peek().index() <= appliedIndex) {
                    pendingReads.poll().done().complete(null);
                }
                if (uncommittedEntries >= commitEntries
                        || (uncommittedEntries > 0 && System.nanoTime() - commitDueNanos >= 0)) {
                    commit();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable storageFailure) {
            // the in-memory index may no longer match the store: stop rather than serve it; the
            // WAL holds every entry, and the next start applies them again
            revLog.abandonUncommitted();
            onFatal.accept(storageFailure);
        }
    }

    private void leaderChanged(SoftState soft) {
        if ((soft.role() == StateRole.LEADER) != leader) {
            leader = !leader;
            onLeadership.accept(leader);
        }
        for (LeaderWait w : leaderWaits) {
            if (w.target() == soft.leaderId()) {
                w.done().complete(null);
            }
        }
    }

    /** Applies one Ready's committed entries and answers their proposers on this member. */
    private void applyEntries(List<Entry> committed) {
        if (committed.isEmpty()) {
            return;
        }
        List<LogEntry> entries = new ArrayList<>(committed.size());
        List<Long> requestIds = new ArrayList<>(committed.size());
        for (Entry e : committed) {
            Routed r = route(e, membership);
            if (r == null) {
                continue;
            }
            if (r.request() != null) {
                entries.add(r.request());
                requestIds.add(r.requestId());
                continue;
            }
            if (r.confChange() != null && r.tookEffect()) {
                node.applyConfChange(r.confChange());
                onMembershipChanged.run();
            }
            CompletableFuture<Boolean> waiter = memberWaiters.take(r.requestId());
            if (waiter != null) {
                waiter.complete(r.tookEffect());
            }
        }
        if (!entries.isEmpty()) {
            if (uncommittedEntries == 0) {
                commitDueNanos = System.nanoTime() + commitIntervalNanos;
            }
            List<ApplyResult> results = revLog.applyDeferred(entries);
            uncommittedEntries += entries.size();
            // the watch hub first (it only queues the batch for its dispatch thread), as etcd
            // notifies its watchers inside the apply, before it answers the proposer: fan-out
            // then overlaps answering the proposers instead of waiting for it
            if (!results.isEmpty()) {
                onApplied.accept(results);
            }
            int at = 0;
            for (ApplyResult r : results) {
                while (entries.get(at).index() != r.index()) {
                    at++;
                }
                CompletableFuture<ApplyResult> waiter = waiters.take(requestIds.get(at));
                if (waiter != null) {
                    waiter.complete(r);
                }
            }
        }
        appliedIndex = committed.get(committed.size() - 1).index();
    }

    /**
     * A committed entry, routed: a request for the store ({@code request}), or a membership entry
     * already decided by the membership ({@code tookEffect}; {@code confChange} when the Raft core
     * must apply it too). {@code requestId} names the proposer's waiter.
     */
    private record Routed(LogEntry request, long requestId, boolean tookEffect, ConfChange confChange) {
    }

    /**
     * Decides a membership entry (a conf change, or a member's published attributes) in
     * {@code membership}; any other entry with data is a request for the store; an empty entry
     * (a new leader's) is nothing (null). The apply thread and the start's replay route entries
     * here alike, so both decide the membership the same way.
     */
    private static Routed route(Entry e, Membership membership) {
        if (e.type() == EntryType.CONF_CHANGE) {
            ConfChange cc = ConfChange.decode(e.data());
            MemberChange change = memberChange(e, cc);
            return new Routed(null, change.getRequestId(), membership.apply(e.index(), cc, change.getMember()), cc);
        }
        if (e.data().length == 0) {
            return null;
        }
        InternalRequest request = decode(e);
        if (request.hasMemberAttributes()) {
            return new Routed(null, request.getId(), membership.publish(e.index(), request.getMemberAttributes()), null);
        }
        return new Routed(new LogEntry(e.index(), request), request.getId(), false, null);
    }

    private static MemberChange memberChange(Entry e, ConfChange cc) {
        try {
            return MemberChange.parseFrom(cc.context());
        } catch (InvalidProtocolBufferException bad) {
            throw new IllegalStateException("log entry " + e.index() + " is not a membership change", bad);
        }
    }

    /**
     * How deeply an entry's request may nest messages (a txn in a txn...). A client's request was
     * decoded within protobuf's default limit of 100 (grpc-java's parser, the JSON gateway's);
     * its entry wraps it in an InternalRequest, a level more. Every entry in the log must decode
     * here, or the member stops on it, and again at every start: hence room beyond the wrapper.
     */
    private static final int ENTRY_RECURSION_LIMIT = 200;

    /**
     * The entry's request. Its bytes fields (keys, values) are views into the entry's data, not
     * copies: an entry's data is never modified once made ({@link Entry}).
     */
    private static InternalRequest decode(Entry e) {
        CodedInputStream in = CodedInputStream.newInstance(e.data());
        in.enableAliasing(true);
        in.setRecursionLimit(ENTRY_RECURSION_LIMIT);
        try {
            return InternalRequest.parseFrom(in);
        } catch (IOException bad) {
            throw new IllegalStateException("log entry " + e.index() + " is not a request", bad);
        }
    }

    /** Commits the store; the node may then let go of what the store no longer needs. */
    private void commit() {
        revLog.commit();
        uncommittedEntries = 0;
        node.released(revLog.committedIndex(), keepEntries, catchUpEntries);
    }

    /**
     * Stops the node (nothing more is committed here), applies and commits what it had handed
     * over, then stops the apply thread. Waiting callers get etcd's "server stopped".
     */
    @Override
    public void close() {
        closed = true;
        node.close();
        applyQueue.add(STOP);
        try {
            applier.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        readExecutor.shutdown();
        timeouts.shutdownNow();
        waiters.failAll(EtcdErrors.STOPPING);
        memberWaiters.failAll(EtcdErrors.STOPPING);
        reads.failAll(EtcdErrors.STOPPING);
        storeTasks.forEach(t -> t.done().completeExceptionally(EtcdErrors.STOPPING));
        pendingReads.forEach(r -> r.done().completeExceptionally(EtcdErrors.STOPPING));
    }
}
