package io.vigil.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import io.grpc.stub.ServerCallStreamObserver;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.KeyRanges;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchOut;
import io.vigil.watch.WatchSink;
import io.vigil.watch.WatchStream;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * This member's KV as the Lock and Election services use it. etcd serves them through an
 * in-process clientv3 and its concurrency package (sessions, mutexes, elections built from txn,
 * get and watch); here the same requests go straight to this member's write path, its
 * linearizable reads and its watch hub, so they are linearizable and replicated as any client's,
 * on every member, and a lease that ends takes its keys with it as any other.
 *
 * <p>Threads: what a {@link Scope} asks for completes on that scope's executor (the event loop
 * of its gRPC call), so one call's steps never run at once and never on the apply thread.
 */
final class LocalKv {
    /** etcd's concurrency.defaultSessionTTL: the lease etcd grants a call that names none. */
    static final long SESSION_TTL_SECONDS = 60;
    private static final ByteString SLASH = ByteString.copyFromUtf8("/");

    private final RevLog revLog;
    private final Proposer proposer;
    private final Supplier<CompletableFuture<Void>> linearizableRead;
    private final WatchHub hub;
    private final ResponseHeaders headers;
    private final Function<LeaseGrantRequest, CompletableFuture<ApplyResult>> grant;

    /**
     * @param grant proposes a lease grant with etcd's choices made (an ID when none is asked for)
     */
    LocalKv(RevLog revLog, Proposer proposer, Supplier<CompletableFuture<Void>> linearizableRead, WatchHub hub,
            ResponseHeaders headers, Function<LeaseGrantRequest, CompletableFuture<ApplyResult>> grant) {
        this.revLog = revLog;
        this.proposer = proposer;
        this.linearizableRead = linearizableRead;
        this.hub = hub;
        this.headers = headers;
        this.grant = grant;
    }

    // ---- keys, as etcd's concurrency package names them ----

    /** The prefix of every key of the lock or election {@code name}: name + "/". */
    static ByteString prefix(ByteString name) {
        return name.concat(SLASH);
    }

    /** A session's key under {@code prefix}: the lease ID in Go's %x (lower case, "-" when negative). */
    static ByteString key(ByteString prefix, long lease) {
        String hex = lease < 0 ? "-" + Long.toHexString(-lease) : Long.toHexString(lease);
        return prefix.concat(ByteString.copyFromUtf8(hex));
    }

    /** The key under {@code prefix} with the lowest create revision: the lock holder, the leader. */
    static RangeRequest firstCreated(ByteString prefix) {
        return RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix)).setLimit(1)
                .setSortTarget(RangeRequest.SortTarget.CREATE).setSortOrder(RangeRequest.SortOrder.ASCEND).build();
    }

    private static ByteString prefixEnd(ByteString prefix) {
        return ByteString.copyFrom(KeyRanges.prefixEnd(prefix.toByteArray()));
    }

    // ---- requests ----

    /**
     * The lease a call's keys are attached to: {@code lease}, or when it is 0 a new one of
     * {@link #SESSION_TTL_SECONDS} that nothing keeps alive (etcd's session with no lease, then
     * orphaned).
     */
    CompletableFuture<Long> session(Scope scope, long lease) {
        if (lease != 0) {
            return CompletableFuture.completedFuture(lease);
        }
        return applied(grant.apply(LeaseGrantRequest.newBuilder().setTTL(SESSION_TTL_SECONDS).build()))
                .thenApplyAsync(r -> ((LeaseGrantResponse) r).getID(), scope.executor);
    }

    CompletableFuture<TxnResponse> txn(Scope scope, TxnRequest txn) {
        return propose(callerOf(scope), InternalRequest.newBuilder().setTxn(txn))
                .thenApplyAsync(r -> {
                    TxnResponse resp = (TxnResponse) r;
                    return resp.toBuilder().setHeader(headers.at(resp.getHeader().getRevision())).build();
                }, scope.executor);
    }

    /** Deletes {@code key} as {@code caller}; completes on the apply thread (the caller only answers with it). */
    CompletableFuture<DeleteRangeResponse> delete(Caller caller, ByteString key) {
        return propose(caller, InternalRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(key)))
                .thenApply(r -> {
                    DeleteRangeResponse resp = (DeleteRangeResponse) r;
                    return resp.toBuilder().setHeader(headers.at(resp.getHeader().getRevision())).build();
                });
    }

    /** A linearizable range, if the scope's caller may read it. */
    CompletableFuture<RangeResponse> range(Scope scope, RangeRequest request) {
        Caller caller = callerOf(scope);
        return linearizableRead.get().thenApplyAsync(v -> {
            RangeResponse resp = caller.checkedRead(h -> caller.checkRange(h, request.getKey(), request.getRangeEnd()),
                    () -> revLog.range(request));
            return resp.toBuilder().setHeader(headers.at(resp.getHeader().getRevision())).build();
        }, scope.executor);
    }

    /** The caller of the call being served now (on its transport thread). */
    Caller currentCaller() {
        return AuthCalls.current(revLog.auth());
    }

    /** Who the scope's call is: its requests are checked as that caller's, as etcd's in-process client passes the token on. */
    Caller callerOf(Scope scope) {
        return scope.caller != null ? scope.caller : Caller.nobody(revLog.auth());
    }

    private CompletableFuture<Message> propose(Caller caller, InternalRequest.Builder unsigned) {
        InternalRequest request;
        try {
            request = unsigned.setHeader(caller.header()).build();
        } catch (RevLogException e) {
            return CompletableFuture.failedFuture(e);
        }
        return applied(proposer.propose(request));
    }

    /** The applied response, or the store's refusal as a failure. */
    private static CompletableFuture<Message> applied(CompletableFuture<ApplyResult> proposal) {
        return proposal.thenApply(r -> {
            if (r.error() != null) {
                throw r.error();
            }
            return r.response();
        });
    }

    /** Rethrows a failure inside a future's stage as it came. */
    static CompletionException asCompletion(Throwable failure) {
        return failure instanceof CompletionException c ? c
                : new CompletionException(failure);
    }

    // ---- waiting ----

    /**
     * etcd's waitDeletes: completes once no key under {@code prefix} has a create revision of at
     * most {@code maxCreateRevision}, with the header of the read that found none. Each round
     * reads the newest such key, waits for its delete (watched from the revision it was read at,
     * so a delete right after the read is not missed), and reads again; one waiter watches one
     * key, not every key ahead of it.
     */
    CompletableFuture<ResponseHeader> waitDeletes(Scope scope, ByteString prefix, long maxCreateRevision) {
        RangeRequest newestAhead = RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix)).setLimit(1)
                .setSortTarget(RangeRequest.SortTarget.CREATE).setSortOrder(RangeRequest.SortOrder.DESCEND)
                .setMaxCreateRevision(maxCreateRevision).build();
        return range(scope, newestAhead).thenCompose(r -> {
            if (r.getKvsCount() == 0) {
                return CompletableFuture.completedFuture(r.getHeader());
            }
            return waitDelete(scope, r.getKvs(0).getKey(), r.getHeader().getRevision())
                    .thenCompose(v -> waitDeletes(scope, prefix, maxCreateRevision));
        });
    }

    /** Completes when {@code key} is deleted at {@code revision} or later (etcd's waitDelete). */
    private CompletableFuture<Void> waitDelete(Scope scope, ByteString key, long revision) {
        CompletableFuture<Void> deleted = new CompletableFuture<>();
        try {
            Caller caller = callerOf(scope);
            caller.checkRange(caller.header(), key, ByteString.EMPTY);
        } catch (RevLogException e) {
            deleted.completeExceptionally(e);
            return deleted;
        }
        Watch w = watch(scope, WatchCreateRequest.newBuilder().setKey(key).setStartRevision(revision)
                .addFilters(WatchCreateRequest.FilterType.NOPUT).build(), resp -> {
                    if (resp.getCanceled()) {
                        deleted.completeExceptionally(lostWatch(resp));
                    } else if (resp.getEventsCount() > 0) {
                        deleted.complete(null); // puts are filtered out: this is the delete
                    }
                });
        if (w == null) {
            deleted.completeExceptionally(ENDED);
        } else {
            deleted.whenComplete((v, t) -> w.close());
            scope.failOnEnd(deleted);
        }
        return deleted;
    }

    /** Why the hub cancelled a watcher: the revision it started at is compacted. */
    static RuntimeException lostWatch(WatchResponse canceled) {
        return canceled.getCompactRevision() > 0 ? new RevLogException(RevLogException.Code.COMPACTED)
                : Status.UNKNOWN.withDescription("lost watcher waiting for delete").asRuntimeException();
    }

    /**
     * Opens one watcher on the hub, on a stream of its own that only this server uses; its
     * responses (created, events, canceled) reach {@code onResponse} in order, on the scope's
     * executor. The first may arrive before this returns (the stream drains inline after the
     * create), so a caller must not rely on having the returned watch in hand by then. Null when
     * the scope has ended. The scope closes it when it ends.
     */
    Watch watch(Scope scope, WatchCreateRequest request, Consumer<WatchResponse> onResponse) {
        Watch w = new Watch(scope, onResponse);
        w.stream = hub.openStream(w); // before the scope can close it
        if (!scope.add(w)) {
            w.stream.close();
            return null;
        }
        w.stream.create(request);
        return w;
    }

    /** One internal watcher; {@link #close} is idempotent. */
    static final class Watch implements WatchSink, AutoCloseable {
        private final Scope scope;
        private final Consumer<WatchResponse> onResponse;
        /** Set before the scope holds this watch, so whoever closes it sees it. */
        private WatchStream stream;
        private volatile boolean closed;

        private Watch(Scope scope, Consumer<WatchResponse> onResponse) {
            this.scope = scope;
            this.onResponse = onResponse;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void send(WatchOut response) {
            if (!closed) {
                onResponse.accept(response.toResponse());
            }
        }

        @Override
        public void requestNext() {
            // one create is all this stream is ever asked
        }

        @Override
        public void execute(Runnable task) {
            scope.run(task);
        }

        @Override
        public void close() {
            closed = true;
            scope.remove(this);
            stream.close();
        }
    }

    // ---- calls ----

    /** What a wait fails with once its call has ended. */
    static final RuntimeException ENDED = Status.CANCELLED.withDescription("the call has ended").asRuntimeException();

    /** The scope of the gRPC call {@code call} is answering: it ends when the call ends, either way. */
    static Scope scopeOf(ServerCallStreamObserver<?> call) {
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        Scope scope = new Scope(loop != null ? loop : Runnable::run, AuthCalls.currentOrNull());
        call.setOnCancelHandler(scope::end);
        call.setOnCloseHandler(scope::end);
        return scope;
    }

    /**
     * One gRPC call's life as the services see it: its executor, and its watches. When the call
     * ends (the client cancelled it, it was answered, or the server closed it) the scope ends:
     * its watches close and what waits on them fails with {@link #ENDED}; a watch opened after
     * that is refused. Requests already proposed go on.
     */
    static final class Scope {
        final Executor executor;
        /** Who the call is; null when the call did not come through {@link AuthCalls} (nobody, then). */
        final Caller caller;
        private final Set<Watch> watches = new HashSet<>();
        private final Set<CompletableFuture<?>> waits = new HashSet<>();
        private boolean ended;

        Scope(Executor executor, Caller caller) {
            this.executor = executor;
            this.caller = caller;
        }

        /** Runs {@code task} on the executor; dropped when the executor is gone (its connection closed). */
        void run(Runnable task) {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException gone) {
                // the call's transport is shutting down: its cancel or close ends this scope
            }
        }

        synchronized boolean isEnded() {
            return ended;
        }

        void end() {
            Set<Watch> open;
            Set<CompletableFuture<?>> waiting;
            synchronized (this) {
                if (ended) {
                    return;
                }
                ended = true;
                open = new HashSet<>(watches);
                waiting = new HashSet<>(waits);
            }
            open.forEach(Watch::close);
            waiting.forEach(f -> f.completeExceptionally(ENDED));
        }

        /** {@code wait} fails with {@link #ENDED} if it is still waiting when the scope ends. */
        void failOnEnd(CompletableFuture<?> wait) {
            synchronized (this) {
                if (!ended) {
                    waits.add(wait);
                    wait.whenComplete((v, t) -> forget(wait));
                    return;
                }
            }
            wait.completeExceptionally(ENDED);
        }

        private synchronized void forget(CompletableFuture<?> wait) {
            waits.remove(wait);
        }

        private synchronized boolean add(Watch w) {
            if (ended) {
                return false;
            }
            watches.add(w);
            return true;
        }

        private synchronized void remove(Watch w) {
            watches.remove(w);
        }
    }
}
