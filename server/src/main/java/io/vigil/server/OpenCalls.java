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

    OpenCalls(BooleanSupplier hasLeader) {
        this.hasLeader = hasLeader;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
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

    /** Ends every open call with {@code status}, each on its own event loop. */
    void closeAll(Status status) {
        close(status, false);
    }

    /** When this member has no leader: ends the calls that require one with etcd's "no leader". */
    void endLeaderless() {
        if (!hasLeader.getAsBoolean()) {
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
