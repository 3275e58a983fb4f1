package io.vigil.server;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;

/**
 * The client calls in progress, so that a stopping member can end them at once with an error
 * clients retry. etcd ends its streams with UNAVAILABLE when it stops; etcdctl, jetcd and Go's
 * clientv3 then resume their watches and keep-alives on another member (or on this one once it is
 * back), whereas the CANCELLED that a plain server shutdown gives them is final.
 *
 * <p>Calls that carry etcd's {@code hasleader} metadata (Go's {@code clientv3.WithRequireLeader},
 * which the Kubernetes API server uses on its watches) need a leader: without one they are
 * refused, and {@link #endLeaderless} ends those in progress, with etcd's "no leader", so the
 * client moves to a member that has one.
 *
 * <p>Threads: a call is closed on the event loop it started on (the transport runs handlers
 * there, directExecutor), so the close never races the call's own sends.
 */
final class OpenCalls implements ServerInterceptor {
    /** etcd's rpctypes.MetadataRequireLeaderKey. */
    static final Metadata.Key<String> HAS_LEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);

    private record Open(ServerCall<?, ?> call, EventExecutor loop, boolean requiresLeader) {
    }

    private final Map<ServerCall<?, ?>, Open> open = new ConcurrentHashMap<>();
    private final BooleanSupplier hasLeader;
    /** etcd's maxNoLeaderCnt. */
    static final int NO_LEADER_CHECKS = 3;
    /** Set once the member stops: calls that start after it are ended at once. */
    private volatile Status stopping;
    /** Leader monitor thread only. */
    private int leaderlessChecks;

    OpenCalls(BooleanSupplier hasLeader) {
        this.hasLeader = hasLeader;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        Status stopped = stopping;
        if (stopped != null) {
            // a client that was just told to go elsewhere may come straight back on a connection
            // the transport still keeps open while it shuts down: tell it the same again
            call.close(stopped, new Metadata());
            return new ServerCall.Listener<>() { };
        }
        boolean requiresLeader = "true".equals(headers.get(HAS_LEADER));
        if (requiresLeader && !hasLeader.getAsBoolean()) {
            call.close(EtcdErrors.NO_LEADER.getStatus(), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        ServerCall<Q, R> tracked = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                open.remove(call);
                super.close(status, trailers);
            }
        };
        if (loop != null) {
            open.put(call, new Open(tracked, loop, requiresLeader));
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(tracked, headers)) {
            @Override
            public void onCancel() {
                open.remove(call);
                super.onCancel();
            }

            @Override
            public void onComplete() {
                open.remove(call);
                super.onComplete();
            }
        };
    }

    /** Ends every open call with {@code status}, each on its own event loop, and every call that starts from now on. */
    void closeAll(Status status) {
        stopping = status;
        close(status, false);
    }

    /**
     * Called once per election timeout (one thread): when this member has found no leader at
     * {@link #NO_LEADER_CHECKS} checks in a row, ends the calls that require one with etcd's "no
     * leader". As etcd's monitorLeader, it waits that long because clients end such a watch for
     * good: a leader change or a leadership hand-over must not.
     */
    void endLeaderless() {
        leaderlessChecks = hasLeader.getAsBoolean() ? 0 : leaderlessChecks + 1;
        if (leaderlessChecks >= NO_LEADER_CHECKS) {
            close(EtcdErrors.NO_LEADER.getStatus(), true);
        }
    }

    private void close(Status status, boolean onlyRequiringLeader) {
        for (Map.Entry<ServerCall<?, ?>, Open> e : open.entrySet()) {
            Open o = e.getValue();
            if (onlyRequiringLeader && !o.requiresLeader()) {
                continue;
            }
            try {
                o.loop().execute(() -> {
                    if (open.remove(e.getKey()) != null) {
                        try {
                            o.call().close(status, new Metadata());
                        } catch (IllegalStateException alreadyClosed) {
                            // it ended on its own meanwhile
                        }
                    }
                });
            } catch (RejectedExecutionException gone) {
                // its connection is gone already
            }
        }
    }
}
